"""Hostile and broken inputs shared by the app tests and the browser tests.

Every corpus file (``tests/data/*.csv|tsv`` and ``tests/data/hostile/*.csv``) has an
expected outcome in :data:`EXPECTED`; files too big to keep in the repository (a
300 000-column header, a file over the upload limit, millions of rows, an overlong
cell) are made by the functions below, deterministically.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ui.dataset import MAX_UPLOAD_MB

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
HOSTILE = DATA / "hostile"

_UNESCAPE = re.compile(r"\\([" + re.escape(string.punctuation) + "])")


def plain(markdown: str) -> str:
    """Text as the user reads it: the backslash escapes and the invisible word joiners of
    ``ui.text.escape_markdown`` removed."""
    return _UNESCAPE.sub(r"\1", markdown).replace("\u2060", "")


def corpus_files() -> list[Path]:
    """Every corpus file: the top-level CSV corpus and the hostile extras."""
    files = [p for p in DATA.iterdir() if p.suffix in (".csv", ".tsv")]
    files += [p for p in HOSTILE.iterdir() if p.suffix == ".csv"]
    return sorted(files, key=lambda p: p.relative_to(DATA).as_posix())


def corpus_id(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


# ---------------------------------------------------------------- good data

def good_csv(n: int = 60, seed: int = 0) -> bytes:
    """Two clear clusters in columns a, b (and a third numeric column c, and a text column name)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) + np.repeat([[0, 0, 0], [6, 6, 6]], [n // 2, n - n // 2], axis=0)
    rows = "".join(f"{a:.4f},{b:.4f},{c:.4f},p{i}\n" for i, (a, b, c) in enumerate(X))
    return ("a,b,c,name\n" + rows).encode()


GOOD_NAME = "good.csv"
GOOD_ROWS = 60


def large_csv(n_rows: int = 300_000, n_columns: int = 3, seed: int = 0) -> bytes:
    """``n_rows`` rows of three Gaussian blobs in ``n_columns`` numeric columns (about 22 bytes a row)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * n_columns, [6.0] * n_columns, [0.0, 9.0] + [3.0] * (n_columns - 2)])
    X = rng.normal(size=(n_rows, n_columns)) + centres[np.arange(n_rows) % 3]
    header = ",".join(f"v{j}" for j in range(n_columns))
    body = "\n".join(",".join(f"{v:.3f}" for v in row) for row in X)
    return f"{header}\n{body}\n".encode()


# ---------------------------------------------------------------- generated hostile files

def wide_header(n_columns: int = 300_000) -> bytes:
    """A 300 000-column header and one data row (about 2.6 MB)."""
    names = ",".join(f"c{i}" for i in range(n_columns))
    return f"{names}\n{','.join(['1'] * n_columns)}\n".encode()


def over_limit() -> bytes:
    """A CSV file one byte over the upload limit (``MAX_UPLOAD_MB``); its last row is cut short."""
    limit = MAX_UPLOAD_MB * 1024**2
    data = b"x,y\n" + b"1.25,2.5\n" * (limit // 9 + 1)
    return data[: limit + 1]


def too_many_rows(n_rows: int = 2_000_001) -> bytes:
    """Over two million rows of a small file (about 8 MB): the row cap, not the byte limit."""
    return b"x,y\n" + b"1,2\n3,4\n" * (n_rows // 2) + (b"5,6\n" if n_rows % 2 else b"")


def long_cell() -> bytes:
    """A cell longer than the CSV reader's field limit (an unclosed-looking quote run)."""
    return b'x,y\n1,"' + b"a" * 200_000 + b'"\n2,3\n'


HOSTILE_FILENAME = "<img src=x onerror=alert(3)>[a](javascript:alert(4)) $x$ ..\\..\\evil.csv"

#: Hostile strings of ``hostile/xss_columns.csv``: column names and label cells.
XSS_NUMERIC = (
    "<img src=x onerror=alert(1)>",
    "![](http://example.invalid/p.png)",
    "$\\href{javascript:alert(1)}{x}$",
    "%{y} <b>bold</b>",
)
XSS_LABEL_COLUMN = "[x](javascript:alert(1))"
XSS_LABELS = (":red[x]", "<img src=x onerror=alert(2)>", "![](http://example.invalid/q.png)")
XSS_FORMULA_COLUMN = '=HYPERLINK("http://example.invalid")'
XSS_TOKENS = (*XSS_NUMERIC, XSS_LABEL_COLUMN, *XSS_LABELS, XSS_FORMULA_COLUMN)


# ---------------------------------------------------------------- expected outcomes

@dataclass(frozen=True)
class Expect:
    """What the user sees after uploading a file (texts as read, without Markdown escapes).

    kind
        'refused': the Data page shows ``message`` as an error; the previous data stay.
        'unusable': the file is read (``report`` lines shown) but has fewer than two numeric
        columns; ``message`` is shown and the previous data stay.
        'parsed': the file becomes the current data: ``report`` lines on the Data page,
        ``used`` ('N of M rows') in the sidebar, and on the Fit page ``fit``:
        'ok' (no warning), 'warning' (a warning containing ``fit_message``) or 'error'
        (an error containing ``fit_message``, plus what to try).
    """

    kind: str
    message: str = ""
    report: tuple[str, ...] = ()
    used: str = ""
    fit: str = "ok"
    fit_message: str = ""
    columns: tuple[str, ...] = field(default=("x", "y"))


def refused(message: str) -> Expect:
    return Expect("refused", message, columns=())


def unusable(message: str, *report: str) -> Expect:
    return Expect("unusable", message, report=report, columns=())


def parsed(used: str, *report: str, fit: str = "ok", fit_message: str = "", columns=("x", "y")) -> Expect:
    return Expect("parsed", report=report, used=used, fit=fit, fit_message=fit_message, columns=tuple(columns))


TWO_ROWS = "3 components cannot be fitted to 2 rows: each component needs at least one row. Choose at most 2 components."
COLLAPSED = "collapsed onto a line or point"

EXPECTED: dict[str, Expect] = {
    "constant_column.csv": unusable(
        "Column 'y' has the same value in every used row, so it says nothing about clusters", "Rows in the file: 4, all read into the table"
    ),
    "cp1252_headers.csv": parsed(
        "3 of 3 rows", "Encoding: Windows-1252 (Western European)", "Delimiter: semicolon (;)", "Decimal mark: comma",
        fit="warning", fit_message=COLLAPSED, columns=("Température", "Größe"),
    ),
    "cr_only.csv": parsed("2 of 2 rows", "Rows in the file: 2, all read into the table", fit="error", fit_message=TWO_ROWS),
    "crlf.csv": parsed("2 of 2 rows", "Rows in the file: 2, all read into the table", fit="error", fit_message=TWO_ROWS),
    "duplicate_columns.csv": parsed(
        "2 of 2 rows", "Renamed duplicate column 'x' to 'x_2'.", "Column 4 had no name; named it column_4.",
        fit="error", fit_message=TWO_ROWS, columns=("x", "x_2"),
    ),
    "empty.csv": refused("The file is empty. Choose a CSV file with a header row and at least one row of numbers."),
    "excel_renamed.csv": refused("This looks like an Excel workbook, not a CSV file. In Excel use File > Save As"),
    "gzip.csv": refused("This is a compressed archive (gzip), not a CSV file. Extract the CSV file from it first"),
    "header_only.csv": refused("The file has a header row but no data rows."),
    "huge_units.csv": parsed(
        "30 of 30 rows", "Rows in the file: 30, all read into the table", fit="warning",
        fit_message="The model has 17 free parameters for 30 rows (1.8 rows per parameter",
    ),
    "identical_rows.csv": parsed(
        "20 of 20 rows", fit="error",
        fit_message="All rows are identical, so there is no spread to model. Choose data with at least two different points.",
    ),
    "mixed_text_numbers.csv": parsed(
        "4 of 6 rows", "Rows fitted: 4 of the table's 6; 2 left out (2 text instead of a number)",
        fit="warning", fit_message=COLLAPSED,
    ),
    "nan_inf_blank.csv": parsed(
        "2 of 7 rows", "Rows fitted: 2 of the table's 7; 5 left out (3 missing value, 2 infinite value)",
        fit="error", fit_message=TWO_ROWS,
    ),
    "no_header.csv": parsed(
        "4 of 4 rows", "Header row: no", "named them column_1 to column_2", fit="warning", fit_message=COLLAPSED,
        columns=("column_1", "column_2"),
    ),
    # One column is a model of its own (mclust's E and V); 3 components on 4 rows collapse.
    "one_column.csv": parsed(
        "4 of 4 rows", "Delimiter: none (one column)", fit="warning", fit_message=COLLAPSED, columns=("value", ""),
    ),
    "pipe_separated.csv": parsed("3 of 3 rows", "Delimiter: vertical bar (|)", fit="warning", fit_message=COLLAPSED),
    "quoted_fields.csv": parsed(
        "3 of 3 rows", "Rows in the file: 3, all read into the table", fit="warning", fit_message=COLLAPSED, columns=("x, in cm", "y"),
    ),
    "ragged_rows.csv": parsed(
        "3 of 3 rows", "Rows in the file: 6; 3 read into the table, 3 skipped (3 wrong number of fields)",
        "Dropped 3 rows whose number of fields differs from the header row (2 fields): lines 3, 4, 7.",
        fit="warning", fit_message=COLLAPSED,
    ),
    "random_bytes.csv": refused("This file is not text, so it cannot be a CSV file."),
    "semicolon_decimal_comma.csv": parsed(
        "4 of 4 rows", "Delimiter: semicolon (;)", "Decimal mark: comma", fit="warning", fit_message=COLLAPSED
    ),
    "tab_separated.tsv": parsed("3 of 3 rows", "Delimiter: tab", fit="warning", fit_message=COLLAPSED),
    "text_only.csv": unusable(
        "text_only.csv has no numeric column; at least one is needed.", "Rows in the file: 3, all read into the table"
    ),
    "tiny_units.csv": parsed(
        "30 of 30 rows", "Rows in the file: 30, all read into the table", fit="warning",
        fit_message="The model has 17 free parameters for 30 rows (1.8 rows per parameter",
    ),
    "trailing_blank_lines.csv": parsed("2 of 2 rows", "Rows in the file: 2, all read into the table", fit="error", fit_message=TWO_ROWS),
    "two_points_repeated.csv": parsed(
        "50 of 50 rows", fit="error",
        fit_message="The data hold only 2 distinct point(s), so 3 components would have to share points and collapse. "
        "Choose at most 2 components.",
    ),
    "utf16.csv": parsed("2 of 2 rows", "Encoding: UTF-16", "Delimiter: tab", fit="error", fit_message=TWO_ROWS),
    "utf16_be.csv": parsed("2 of 2 rows", "Encoding: UTF-16", "Delimiter: comma (,)", fit="error", fit_message=TWO_ROWS),
    "utf8_bom.csv": parsed("2 of 2 rows", "Encoding: UTF-8 with BOM", fit="error", fit_message=TWO_ROWS),
    "xss_names.csv": parsed(
        "2 of 2 rows", "Rows in the file: 2, all read into the table", fit="error", fit_message=TWO_ROWS, columns=("value", ""),
    ),
    "zip_archive.csv": refused("This is a compressed archive (ZIP), not a CSV file."),
    "hostile/collinear.csv": parsed(
        "36 of 36 rows", "Rows in the file: 36, all read into the table",
        fit="warning", fit_message="The feature columns are exact linear functions of each other",
    ),
    "hostile/more_components_than_rows.csv": parsed("2 of 2 rows", fit="error", fit_message=TWO_ROWS),
    "hostile/overflowing_values.csv": parsed(
        "5 of 5 rows", fit="error", fit_message="outside what covariances can hold in double precision",
    ),
    # All four numeric columns are fitted: 44 parameters of a full K = 3 model for 36 rows.
    "hostile/xss_columns.csv": parsed(
        "36 of 36 rows", "Rows in the file: 36, all read into the table", columns=XSS_NUMERIC[:2], fit="warning",
        fit_message="The model has 44 free parameters for 36 rows (0.8 rows per parameter",
    ),
}

#: Generated inputs (too big for the repository): maker and the message the app shows.
GENERATED: dict[str, tuple] = {
    "wide_header.csv": (wide_header, "The file has 300,000 columns; GMM Explorer reads at most 1,000 columns."),
    "over_limit.csv": (over_limit, f"The file is 50.0 MB; GMM Explorer reads at most {MAX_UPLOAD_MB} MB."),
    "too_many_rows.csv": (
        too_many_rows, "The file has more than 2,000,000 rows; GMM Explorer reads at most 2,000,000 rows."
    ),
    "long_cell.csv": (long_cell, "Line 2 has a cell longer than 131,072 characters"),
}

#: Phrases of raw library errors that must never be all the user gets.
RAW_LIBRARY_TEXT = (
    "Traceback", "ValueError", "LinAlgError", "ill-defined empirical covariance", "Fitting the mixture model failed",
    "n_components=", "n_samples=", "ParserError", "UnicodeDecodeError", "codec", "Error tokenizing",
)
