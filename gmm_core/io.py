"""Read an uploaded CSV file into a table and pick the numeric matrix a mixture is fitted to.

``read_table`` turns the bytes of an upload into a :class:`Table`: it works out the
encoding, delimiter, decimal mark and header row, drops rows with the wrong number
of fields, and says in plain words what it did. ``feature_matrix`` takes the chosen
columns of that table and returns the rows that hold a finite number in every one.
Anything that makes the data unusable raises :class:`~gmm_core.errors.DataError`
with a message meant for the user.
"""

from __future__ import annotations

import codecs
import csv
import io
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

from .errors import DataError

MAX_ROWS = 2_000_000
MAX_COLUMNS = 1_000
MAX_BYTES = 200 * 1024**2

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

#: Reasons ``read_table`` drops a row.
WRONG_FIELD_COUNT = "wrong number of fields"
#: Reasons ``feature_matrix`` drops a row; a row is counted under the first that applies.
MISSING_VALUE = "missing value"
INFINITE_VALUE = "infinite value"
TEXT_VALUE = "text instead of a number"

_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (Western European)",
}
_DELIMITER_NAMES = {
    ",": "comma (,)",
    ";": "semicolon (;)",
    "\t": "tab",
    "|": "vertical bar (|)",
    "": "none (one column)",
}
# Placeholder delimiter for one-column files: the ASCII unit separator never occurs in real text.
_ONE_COLUMN_SEP = "\x1f"

_EXCEL = (
    "This looks like an Excel workbook, not a CSV file. In Excel use File > Save As > "
    "CSV (comma delimited), then upload that file."
)
_SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # container of the old .xls format
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # also the container of .xlsx and .ods
_EXTRACT = "Extract the CSV file from it first, then upload that file."
_EXPORT = "Export the table as CSV from the program that made it, then upload that file."
# Magic numbers of other files people upload by mistake: what the file is, what to do.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "a compressed archive (gzip)", _EXTRACT),
    (_ZIP[0], "a compressed archive (ZIP)", _EXTRACT),
    (_ZIP[1], "a compressed archive (ZIP)", _EXTRACT),
    (b"7z\xbc\xaf\x27\x1c", "a compressed archive (7-Zip)", _EXTRACT),
    (b"\xfd7zXZ\x00", "a compressed archive (xz)", _EXTRACT),
    (b"%PDF-", "a PDF document", _EXPORT),
    (b"\x89PNG\r\n\x1a\n", "an image (PNG)", _EXPORT),
    (b"\xff\xd8\xff", "an image (JPEG)", _EXPORT),
)
_EMPTY = "The file is empty. Choose a CSV file with a header row and at least one row of numbers."
_NOT_TEXT = (
    "This file is not text, so it cannot be a CSV file. Choose a CSV file (plain text, "
    "one row per line); if it is text in an unusual encoding, save it as CSV UTF-8 first."
)

# Characters sniffed for the delimiter, decimal mark and header; at least the whole first line.
_SNIFF_CHARS = 64 * 1024
_SNIFF_RECORDS = 100
# More than this share of control characters means binary data that happened to decode.
_MAX_CONTROL_SHARE = 0.05
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A plain number with either decimal mark; words like "inf" do not make a row look numeric.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_LEADING_BLANK_LINES = re.compile(r"(?:[ \t]*\n)*")
# Cells read as missing (compared lower-case, after stripping spaces).
#: Cells that are whole numbers as written (kept as integers), and the largest such a float holds exactly.
_WHOLE_NUMBER = r"[+-]?\d+"
_EXACT_INTEGERS = 2.0**53
_NA_STRINGS = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "#na", "<na>"})
_NAME_CHARS = 60
_LISTED = 5


@dataclass(frozen=True)
class TableReport:
    """What :func:`read_table` found in a file and what it changed.

    Attributes
    ----------
    encoding : str
        Codec the text was decoded with: 'utf-8', 'utf-8-sig' (UTF-8 with a byte
        order mark), 'utf-16' (with a byte order mark) or 'cp1252'.
    delimiter : str
        One of ',', ';', '\\t', '|', or '' for a file with a single column.
    decimal : str
        Decimal mark of the numbers, '.' or ','.
    has_header : bool
        False when the first row held only numbers; the columns are then named
        ``column_1`` to ``column_d``.
    n_rows_read : int
        Data rows in the file, not counting the header row or blank lines.
    n_rows_kept : int
        Rows in the table.
    n_rows_dropped : int
        ``n_rows_read - n_rows_kept``.
    dropped_reasons : Mapping[str, int]
        Read-only count of dropped rows by reason, e.g. ``{'wrong number of fields': 3}``.
    notes : tuple of str
        Plain-language notes on what was changed (renamed columns, dropped lines, ...).
    """

    encoding: str
    delimiter: str
    decimal: str
    has_header: bool
    n_rows_read: int
    n_rows_kept: int
    n_rows_dropped: int
    dropped_reasons: Mapping[str, int]
    notes: tuple[str, ...]

    def lines(self) -> tuple[str, ...]:
        """The report as short lines of plain text, for showing to the user."""
        return (
            f"Encoding: {_ENCODING_NAMES.get(self.encoding, self.encoding)}",
            f"Delimiter: {_DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}",
            f"Decimal mark: {'comma' if self.decimal == ',' else 'point'}",
            f"Header row: {'yes' if self.has_header else 'no'}",
            _file_rows(self.n_rows_read, self.n_rows_kept, self.dropped_reasons),
            *self.notes,
        )


@dataclass(frozen=True, eq=False)
class Table:
    """A parsed file.

    Attributes
    ----------
    frame : pandas.DataFrame of shape (n_rows_kept, n_columns)
        Columns whose cells are all whole numbers written without a decimal mark or
        exponent (or blank) are nullable ``Int64`` (blank cells ``<NA>``), so they
        are written back as they came; other columns of numbers or blanks are float64
        (blank cells NaN). A column with more numbers than text is object, holding
        floats and the text cells as strings; any other column holds strings.
    report : TableReport
    """

    frame: pd.DataFrame
    report: TableReport

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Names of the columns holding at least one finite number, in table order."""
        return tuple(
            name for name in self.frame.columns if np.isfinite(_cells(self.frame[name])[0]).any()
        )


#: The features an upload starts with: its numeric columns, at most this many.
DEFAULT_MAX_FEATURES = 8
#: A column is taken for known labels when it has from 2 to this many distinct values (text, or
#: whole numbers), and fewer than one distinct value per this many rows.
LABEL_MAX_CLASSES = 20
LABEL_ROWS_PER_CLASS = 5


@dataclass(frozen=True)
class ColumnSuggestion:
    """The columns a table most likely means: ``features`` to fit, ``label`` of known classes or None."""

    features: tuple[str, ...]
    label: str | None


def suggest_columns(table: Table) -> ColumnSuggestion:
    """Features and known labels as a user most likely means them.

    The label is the first column of text, or else of whole numbers, with 2 to
    ``LABEL_MAX_CLASSES`` distinct values and at least ``LABEL_ROWS_PER_CLASS`` rows per
    value (a species, a class code). The features are the other numeric columns, leaving
    out constant ones and a row number (whole numbers, every one distinct and in order),
    the first ``DEFAULT_MAX_FEATURES`` of them.
    """
    frame = table.frame
    numeric = table.numeric_columns
    label = None
    text_first = [c for c in frame.columns if c not in numeric] + list(numeric)
    for name in text_first:
        values = frame[name].dropna()
        if name in numeric:
            values = pd.to_numeric(values, errors="coerce").dropna()
            if not len(values) or not np.all(values == np.round(values)):
                continue
        distinct = values.nunique()
        if 2 <= distinct <= LABEL_MAX_CLASSES and distinct * LABEL_ROWS_PER_CLASS <= len(values):
            label = str(name)
            break
    features = []
    for name in numeric:
        if name == label:
            continue
        values = pd.to_numeric(frame[name], errors="coerce").dropna().to_numpy()
        if values.size < 2 or values.min() == values.max():
            continue
        if np.all(values == np.round(values)) and np.all(np.diff(values) == 1):
            continue  # a row number
        features.append(str(name))
    return ColumnSuggestion(features=tuple(features[:DEFAULT_MAX_FEATURES]), label=label)


@dataclass(frozen=True, eq=False)
class FeatureReport:
    """Which rows :func:`feature_matrix` used and why it dropped the others.

    Attributes
    ----------
    columns : tuple of str
        The chosen columns, in the order of the matrix columns.
    n_rows : int
        Rows in the frame.
    n_used : int
        Rows in the matrix.
    dropped_reasons : Mapping[str, int]
        Read-only count of dropped rows by reason: 'missing value', 'infinite value',
        'text instead of a number'. A row is counted once, under the first reason
        in that order that applies to any of its chosen cells.
    used_rows : ndarray of shape (n_rows,), dtype bool
        Read-only; True where the row is in the matrix.
    """

    columns: tuple[str, ...]
    n_rows: int
    n_used: int
    dropped_reasons: Mapping[str, int]
    used_rows: np.ndarray

    def lines(self) -> tuple[str, ...]:
        """The report as short lines of plain text, for showing to the user."""
        return (
            f"Columns: {', '.join(map(_quote, self.columns))}",
            f"Rows fitted: {self.n_used:,} of the table's {self.n_rows:,}"
            + (f"; {self.n_rows - self.n_used:,} left out{_reason_list(self.dropped_reasons)}"
               if self.n_used < self.n_rows else ""),
        )


def read_table(
    data: bytes,
    *,
    filename: str = "",
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_bytes: int = MAX_BYTES,
) -> Table:
    """Parse the bytes of an uploaded CSV file.

    Parameters
    ----------
    data : bytes
        The file's contents. UTF-8 (with or without a byte order mark), UTF-16 with a
        byte order mark, or Windows-1252; delimited by ',', ';', tab or '|', or a
        single column; '\\n', '\\r\\n' or '\\r' line ends; fields quoted with '"'.
    filename : str, default=''
        Name of the uploaded file; only its extension is used, to recognise
        spreadsheets that are not valid text.
    max_rows : int, default=MAX_ROWS
        Refuse files with more data rows than this.
    max_columns : int, default=MAX_COLUMNS
        Refuse files with more columns than this; checked on the first row, before
        the rest is parsed.
    max_bytes : int, default=MAX_BYTES
        Refuse files larger than this.

    Returns
    -------
    Table
        ``table.frame`` has shape (n_rows_kept, n_columns); ``table.report`` says how
        the file was read. Rows with a different number of fields than the header row
        (or the first row, without a header) are dropped and counted.

    Raises
    ------
    DataError
        If the file is empty, is not a text table (a spreadsheet, an archive, binary
        data), has a header row but no data rows, exceeds a limit, or has a quoted
        cell that is not closed.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes; got {type(data).__name__}.")
    if not isinstance(filename, str):
        raise TypeError(f"filename must be a str; got {type(filename).__name__}.")
    for name, value in (("max_rows", max_rows), ("max_columns", max_columns), ("max_bytes", max_bytes)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    data = bytes(data)

    if len(data) > max_bytes:
        raise DataError(
            f"The file is {_size(len(data))}; GMM Explorer reads at most {_size(max_bytes)}. "
            "Keep only the columns you need and a random sample of the rows, save that as CSV "
            "and upload it."
        )
    text, encoding = _decode(data, filename)
    # csv and pandas both understand '\n'; one line end per original line keeps line numbers.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DataError(_EMPTY)

    delimiter, decimal, first_row = _sniff(text)
    width = len(first_row)
    if width > max_columns:
        raise DataError(
            f"The file has {width:,} columns; GMM Explorer reads at most {max_columns:,} columns. "
            "Keep only the columns you need, save the file as CSV and upload it again."
        )
    has_header = not _is_numeric_row(first_row)
    names, notes = _column_names(first_row if has_header else [""] * width, has_header)

    sep = delimiter or _ONE_COLUMN_SEP
    n_read, bad_lines = _scan(text, sep, width, has_header=has_header, max_rows=max_rows)
    if n_read == 0:
        raise DataError(
            "The file has a header row but no data rows. Add at least one row of numbers "
            "below the header, or choose another file."
        )
    if len(bad_lines) == n_read:
        raise DataError(
            f"None of the {n_read:,} data rows has the same number of fields as the "
            f"{'header row' if has_header else 'first row'} ({_count(width, 'field')}). "
            "Check that every row uses the same delimiter, then upload the file again."
        )
    raw = None if bad_lines else _read_fast(text, sep, decimal, width, has_header, n_read)
    if raw is None:
        raw = _read_checked(text, sep, width, has_header)
    frame = pd.DataFrame({name: _column(raw[i], decimal) for i, name in enumerate(names)})

    dropped = {WRONG_FIELD_COUNT: len(bad_lines)} if bad_lines else {}
    if bad_lines:
        notes.append(
            f"Dropped {_count(len(bad_lines), 'row')} whose number of fields differs from the "
            f"{'header row' if has_header else 'first row'} ({_count(width, 'field')}): "
            f"{'line' if len(bad_lines) == 1 else 'lines'} {_listing([f'{n:,}' for n in bad_lines])}."
        )
    report = TableReport(
        encoding=encoding,
        delimiter=delimiter,
        decimal=decimal,
        has_header=has_header,
        n_rows_read=n_read,
        n_rows_kept=len(frame),
        n_rows_dropped=len(bad_lines),
        dropped_reasons=MappingProxyType(dropped),
        notes=tuple(notes),
    )
    return Table(frame=frame, report=report)


def feature_matrix(
    frame: pd.DataFrame, columns: Sequence[str], *, min_rows: int = 2
) -> tuple[np.ndarray, FeatureReport]:
    """The rows of ``frame`` that hold a finite number in every chosen column.

    Parameters
    ----------
    frame : pandas.DataFrame of shape (n_rows, n_columns)
        Typically ``read_table(...).frame``. Cells count as numbers when they are
        ints or floats; strings count as text even if they look like numbers
        (``read_table`` has already converted every number it found).
    columns : sequence of str
        Names of the d columns to use, each at most once.
    min_rows : int, default=2
        Refuse when fewer rows than this are usable.

    Returns
    -------
    X : ndarray of shape (n_used, d), dtype float64, C-contiguous
        The usable rows, in table order.
    report : FeatureReport
        ``report.used_rows`` marks the rows of ``frame`` that are in ``X``.

    Raises
    ------
    DataError
        If no column is chosen, a column is chosen twice or is not in the frame, a
        chosen column has no finite numbers, or fewer than ``min_rows`` rows are usable.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}.")
    if isinstance(columns, str) or not isinstance(columns, Sequence):
        raise TypeError(f"columns must be a sequence of column names; got {columns!r}.")
    if not isinstance(min_rows, numbers.Integral) or isinstance(min_rows, bool) or min_rows < 1:
        raise ValueError(f"min_rows must be a positive integer; got {min_rows!r}.")
    columns = tuple(columns)
    if not columns:
        raise DataError("No column was chosen. Choose at least one numeric column.")
    for i, name in enumerate(columns):
        if name in columns[:i]:
            raise DataError(f"Column {_quote(name)} is chosen twice; choose each column once.")
        if name not in frame.columns:
            available = [_quote(c) for c in frame.columns]
            raise DataError(
                f"Column {_quote(name)} is not in the table. Choose one of the columns it has: "
                f"{_listing(available, limit=10) if available else '(none)'}."
            )
        if (frame.columns == name).sum() > 1:
            raise DataError(
                f"The table has more than one column named {_quote(name)}. "
                "Give each column its own name, then choose again."
            )

    n_rows = len(frame)
    values = np.empty((n_rows, len(columns)), dtype=np.float64)
    missing = np.zeros(n_rows, dtype=bool)
    text = np.zeros(n_rows, dtype=bool)
    for j, name in enumerate(columns):
        values[:, j], is_missing, is_text = _cells(frame[name])
        if not np.isfinite(values[:, j]).any():
            what = "holds text, not numbers" if is_text.any() else "has no numbers"
            raise DataError(f"Column {_quote(name)} {what}; choose a numeric column.")
        missing |= is_missing
        text |= is_text
    infinite = np.isinf(values).any(axis=1)
    # Each row counted once, under the first reason that applies.
    counts = {
        MISSING_VALUE: int(missing.sum()),
        INFINITE_VALUE: int((infinite & ~missing).sum()),
        TEXT_VALUE: int((text & ~missing & ~infinite).sum()),
    }
    used = ~(missing | infinite | text)
    used.flags.writeable = False
    n_used = int(used.sum())
    reasons = MappingProxyType({reason: n for reason, n in counts.items() if n})
    if n_used < min_rows:
        if n_used == 0:
            has = "No row has"
        else:
            has = f"Only {_count(n_used, 'row')} {'has' if n_used == 1 else 'have'}"
        if reasons:
            why = "Dropped rows: " + ", ".join(f"{n:,} {reason}" for reason, n in reasons.items())
        else:
            why = f"The table has {_count(n_rows, 'row')}"
        raise DataError(
            f"{has} numbers in every chosen column; at least {min_rows:,} "
            f"{'is' if min_rows == 1 else 'are'} needed. {why}. Choose other columns, or fill "
            "in the missing numbers and upload the file again."
        )
    X = np.ascontiguousarray(values[used])
    report = FeatureReport(
        columns=columns, n_rows=n_rows, n_used=n_used, dropped_reasons=reasons, used_rows=used
    )
    return X, report


def _decode(data: bytes, filename: str) -> tuple[str, str]:
    """Text of ``data`` and the codec used, or a DataError naming what the file is instead."""
    if data.startswith(_OLE2) or (data.startswith(_ZIP) and _is_workbook(data, filename)):
        raise DataError(_EXCEL)
    for magic, what, todo in _SIGNATURES:
        if data.startswith(magic):
            raise DataError(f"This is {what}, not a CSV file. {todo}")
    if data.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        # Text that is not valid UTF-8 most likely comes from Excel on Windows.
        candidates = ("utf-8", "cp1252")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:_SNIFF_CHARS]
        if "\x00" in text or len(_CONTROL.findall(sample)) > _MAX_CONTROL_SHARE * len(sample):
            break  # binary data that happens to decode
        return text, encoding
    raise DataError(_EXCEL if filename.lower().endswith(_SPREADSHEET_SUFFIXES) else _NOT_TEXT)


def _is_workbook(data: bytes, filename: str) -> bool:
    """Whether a ZIP archive is an Office Open XML or OpenDocument spreadsheet."""
    head = data[:_SNIFF_CHARS]
    return (
        b"xl/" in head
        or b"opendocument.spreadsheet" in head
        or filename.lower().endswith(_SPREADSHEET_SUFFIXES)
    )


def _sniff(text: str) -> tuple[str, str, list[str]]:
    """Delimiter, decimal mark and first row, from the first lines of ``text``.

    The delimiter is the candidate whose first row has more than one field and whose
    first records most often have that many fields; ties go to the one that makes more
    cells look like numbers, then to more fields. No candidate means one column ('').
    """
    # At least _SNIFF_CHARS past any leading blank lines, cut at a line end.
    end = text.find("\n", _LEADING_BLANK_LINES.match(text).end() + _SNIFF_CHARS)
    sample, complete = (text, True) if end == -1 else (text[:end], False)
    best, best_score, best_records = "", None, None
    for delimiter in DELIMITERS:
        try:
            records = _records(sample, delimiter, complete=complete)
        except DataError:  # e.g. a whole wide row taken as one overlong cell
            continue
        width = len(records[0]) if records else 0
        if width < 2:
            continue
        cells = _data_cells(records)
        score = (
            sum(len(row) == width for row in records) / len(records),
            sum(bool(_NUMBER.fullmatch(cell)) for cell in cells) / max(len(cells), 1),
            width,
        )
        if best_score is None or score > best_score:
            best, best_score, best_records = delimiter, score, records
    records = best_records or _records(sample, _ONE_COLUMN_SEP, complete=complete)
    if not records:  # only blank cells, such as a lone pair of quotes
        raise DataError(_EMPTY)
    # A comma cannot be the decimal mark of a comma-delimited file; elsewhere the majority decides.
    numbers_ = [cell for cell in _data_cells(records) if _NUMBER.fullmatch(cell)]
    comma = best != "," and sum("," in n for n in numbers_) > sum("." in n for n in numbers_)
    return best, "," if comma else ".", records[0]


def _data_cells(records: list[list[str]]) -> list[str]:
    """Stripped non-blank cells of the records after the first (of the first, if alone)."""
    return [cell for row in records[1:] or records for cell in map(str.strip, row) if cell]


def _records(sample: str, delimiter: str, *, complete: bool) -> list[list[str]]:
    """Up to ``_SNIFF_RECORDS`` non-blank records of ``sample``."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    records = []
    try:
        for row in reader:
            if not _is_blank(row):
                records.append(row)
                if len(records) > _SNIFF_RECORDS:
                    break
    except csv.Error as exc:
        raise _csv_error(exc, reader.line_num) from None
    # Drop the record past the limit, or the one the end of the sample may have cut off.
    if (not complete or len(records) > _SNIFF_RECORDS) and len(records) > 1:
        records.pop()
    return records


def _scan(text: str, sep: str, width: int, *, has_header: bool, max_rows: int) -> tuple[int, list[int]]:
    """Number of data rows and the line numbers of those with another number of fields.

    Stops with a DataError as soon as there are more than ``max_rows`` data rows, so an
    oversized file costs at most that many rows to refuse.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    n_rows = -int(has_header)
    bad_lines = []
    try:
        for row in reader:
            if _is_blank(row):
                continue
            n_rows += 1
            if n_rows > max_rows:
                raise DataError(
                    f"The file has more than {max_rows:,} rows; GMM Explorer reads at most "
                    f"{max_rows:,} rows. Take a random sample of the rows (for example 100,000), "
                    "save it as CSV and upload that file."
                )
            if len(row) != width:
                bad_lines.append(reader.line_num)
    except csv.Error as exc:
        raise _csv_error(exc, reader.line_num) from None
    return n_rows, bad_lines


def _read_fast(
    text: str, sep: str, decimal: str, width: int, has_header: bool, n_rows: int
) -> pd.DataFrame | None:
    """Raw columns parsed by pandas' C engine, or None if it disagrees with the row count.

    Numbers come back as int64/float64 (object for huge integers), anything else as
    strings. Without ``na_filter`` a blank cell stays '' (and its column text), so
    ``_column`` decides what is missing the same way on both paths.
    """
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            decimal=decimal,
            header=0 if has_header else None,
            names=range(width),
            index_col=False,
            na_filter=False,
            engine="c",
            low_memory=False,
        )
    except ValueError:  # pandas' ParserError; the csv module is the reference then
        return None
    # pandas also turns True/false into booleans, losing how they were spelled.
    if len(raw) != n_rows or any(is_bool_dtype(dtype) for dtype in raw.dtypes):
        return None
    return raw


def _read_checked(text: str, sep: str, width: int, has_header: bool) -> pd.DataFrame:
    """Raw columns as strings, keeping only the data rows with ``width`` fields.

    pandas fills short rows with blanks instead of flagging them, so ragged files are
    split with the csv module (already run over ``text`` by ``_scan`` without error).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows = [row for row in reader if not _is_blank(row)][int(has_header) :]
    return pd.DataFrame([row for row in rows if len(row) == width], columns=range(width), dtype=object)


def _column(raw: pd.Series, decimal: str) -> pd.Series:
    """A raw column as float64 if every non-blank cell is a number, else see ``Table``."""
    if is_integer_dtype(raw.dtype) and not is_bool_dtype(raw.dtype) and raw.abs().max() <= _EXACT_INTEGERS:
        return raw.astype("Int64")
    if is_numeric_dtype(raw.dtype):
        return raw.astype(np.float64)
    text = raw.astype(str).str.strip()
    missing = text.str.lower().isin(_NA_STRINGS).to_numpy()
    if decimal == ",":
        text_numbers = text.str.replace(",", ".", regex=False)
    else:
        text_numbers = text
    values = np.asarray(pd.to_numeric(text_numbers.where(~missing), errors="coerce"), dtype=np.float64)
    parsed = ~np.isnan(values)
    n_text = int((~missing & ~parsed).sum())
    if n_text == 0:
        if parsed.any() and text[~missing].str.fullmatch(_WHOLE_NUMBER).all() \
                and np.abs(values[parsed]).max() <= _EXACT_INTEGERS:
            return pd.Series(pd.array(np.where(parsed, values, 0).astype(np.int64), dtype="Int64"),
                             index=raw.index).mask(missing)
        return pd.Series(values, index=raw.index)
    if parsed.sum() >= n_text:
        cells = text.to_numpy(dtype=object)
        cells[parsed] = values[parsed]
        cells[missing] = np.nan
        return pd.Series(cells, index=raw.index, dtype=object)
    return text.where(~missing)


def _cells(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values (NaN unless a number), missing mask and text mask of a column, each (n_rows,)."""
    n = len(column)
    if is_bool_dtype(column.dtype):
        missing = column.isna().to_numpy()
        return np.full(n, np.nan), missing, ~missing
    if is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values), np.zeros(n, dtype=bool)
    cells = column.to_numpy(dtype=object)
    missing = pd.isna(cells)
    is_number = ~missing & np.fromiter(
        (isinstance(c, numbers.Real) and not isinstance(c, bool) for c in cells), dtype=bool, count=n
    )
    values = np.full(n, np.nan)
    values[is_number] = cells[is_number].astype(np.float64)
    return values, missing, ~missing & ~is_number


def _column_names(cells: list[str], has_header: bool) -> tuple[list[str], list[str]]:
    """Unique, stripped column names and notes on the names that were made up or changed."""
    names = [cell.strip() for cell in cells]
    unnamed = [i for i, name in enumerate(names, start=1) if not name]
    for i in unnamed:
        names[i - 1] = f"column_{i}"
    notes = []
    if not has_header:
        span = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
        notes.append(
            f"The first row holds only numbers, so it was read as data. Column names were "
            f"missing; named {'it' if len(names) == 1 else 'them'} {span}."
        )
    elif len(unnamed) == 1:
        notes.append(f"Column {unnamed[0]:,} had no name; named it {names[unnamed[0] - 1]}.")
    elif unnamed:
        notes.append(
            f"{len(unnamed):,} columns had no name; named them "
            f"{_listing([names[i - 1] for i in unnamed])}."
        )
    # Suffixes skip every name in the file, so a renamed column never clashes with a later one.
    taken = set(names)
    unique: list[str] = []
    renamed = []
    for name in names:
        if name in unique:
            k = 2
            while f"{name}_{k}" in taken:
                k += 1
            renamed.append((name, f"{name}_{k}"))
            name = f"{name}_{k}"
            taken.add(name)
        unique.append(name)
    notes.extend(
        f"Renamed duplicate column {_quote(old)} to {_quote(new)}." for old, new in renamed[:_LISTED]
    )
    if len(renamed) > _LISTED:
        notes.append(f"Renamed {_count(len(renamed) - _LISTED, 'more duplicate column')} the same way.")
    return unique, notes


def _is_numeric_row(row: list[str]) -> bool:
    """Whether ``row`` has a non-blank cell and every non-blank cell is a plain number."""
    cells = [cell.strip() for cell in row if cell.strip()]
    return bool(cells) and all(_NUMBER.fullmatch(cell) for cell in cells)


def _is_blank(row: list[str]) -> bool:
    """Whether a csv record is an empty or whitespace-only line, which pandas skips too."""
    return not row or (len(row) == 1 and not row[0].strip())


def _csv_error(exc: csv.Error, line: int) -> DataError:
    """A DataError for what the csv module could not read on ``line``."""
    message = str(exc)
    if "field larger than field limit" in message:
        return DataError(
            f"Line {line:,} has a cell longer than {csv.field_size_limit():,} characters, "
            "which is not a table cell. Check that quote marks (\") come in pairs, then upload "
            "the file again."
        )
    if "unexpected end of data" in message:
        return DataError(
            "A quote mark (\") opens a cell that is never closed, so the file ends inside "
            "that cell. Close the quote or remove it, then upload the file again."
        )
    return DataError(
        f"Line {line:,} has text right after a closing quote mark (\"). Put quote marks only "
        "around whole cells and write a quote inside a cell as two (\"\"), then upload the "
        "file again."
    )


def _quote(name: object) -> str:
    """A column name for a message: quoted like repr, at most ``_NAME_CHARS`` characters."""
    text = str(name)
    if len(text) > _NAME_CHARS:
        text = text[: _NAME_CHARS - 1] + "…"
    return repr(text)


def _listing(items: Sequence[str], limit: int = _LISTED) -> str:
    """'a, b, c' or 'a, b, c and 4 more'."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit:,} more"


def _count(n: int, noun: str) -> str:
    """'1 row', '3 rows'."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _size(n_bytes: int) -> str:
    """'200 MB', '1.5 KB', '100 bytes'."""
    for unit, scale in (("MB", 1024**2), ("KB", 1024)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return f"{value:,.0f} {unit}" if value == int(value) else f"{value:,.1f} {unit}"
    return _count(n_bytes, "byte")


def _file_rows(n_read: int, n_kept: int, reasons: Mapping[str, int]) -> str:
    """'Rows in the file: 180; 178 read into the table, 2 skipped (...)', or '...: 178, all read into the table'.

    With the 'Rows fitted' line of :class:`FeatureReport`, one account of the rows: the file's,
    then the table's.
    """
    if n_kept == n_read:
        return f"Rows in the file: {n_read:,}, all read into the table"
    return f"Rows in the file: {n_read:,}; {n_kept:,} read into the table, {n_read - n_kept:,} skipped" \
        f"{_reason_list(reasons)}"


def _reason_list(reasons: Mapping[str, int]) -> str:
    """' (2 missing value, 1 infinite value)', or '' when nothing was dropped."""
    if not reasons:
        return ""
    return " (" + ", ".join(f"{n:,} {reason}" for reason, n in reasons.items()) + ")"
