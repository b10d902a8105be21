import math
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_core.errors import DataError
from gmm_core.io import (
    MAX_COLUMNS,
    ColumnSuggestion,
    FeatureReport,
    Table,
    TableReport,
    feature_matrix,
    read_table,
    suggest_columns,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def parsed(encoding="utf-8", delimiter=",", decimal=".", header=True, columns=("x", "y"), read=None,
           kept=None, value=None, numeric=None):
    """Expected outcome for a file that is read: ``value`` is (column, row, number or str)."""
    return dict(encoding=encoding, delimiter=delimiter, decimal=decimal, header=header,
                columns=list(columns), read=read, kept=read if kept is None else kept, value=value,
                numeric=columns if numeric is None else numeric)


CORPUS = {
    "empty.csv": "The file is empty",
    "header_only.csv": "header row but no data rows",
    "excel_renamed.csv": "looks like an Excel workbook",
    "gzip.csv": "compressed archive (gzip)",
    "zip_archive.csv": "compressed archive (ZIP)",
    "random_bytes.csv": "This file is not text",
    "one_column.csv": parsed(delimiter="", columns=["value"], read=4, value=("value", 2, -4.0)),
    "text_only.csv": parsed(columns=["name", "colour"], read=3, value=("colour", 1, "blue"), numeric=()),
    "semicolon_decimal_comma.csv": parsed(delimiter=";", decimal=",", read=4, value=("x", 1, -3.75)),
    "utf8_bom.csv": parsed(encoding="utf-8-sig", read=2, value=("x", 0, 1.5)),
    "utf16.csv": parsed(encoding="utf-16", delimiter="\t", read=2, value=("y", 1, 4.0)),
    "utf16_be.csv": parsed(encoding="utf-16", read=2, value=("x", 1, 3.5)),
    "cp1252_headers.csv": parsed(encoding="cp1252", delimiter=";", decimal=",",
                                 columns=["Température", "Größe"], read=3, value=("Größe", 1, 175.5)),
    "tab_separated.tsv": parsed(delimiter="\t", columns=["x", "y", "label"], read=3,
                                value=("label", 2, "c"), numeric=["x", "y"]),
    "pipe_separated.csv": parsed(delimiter="|", read=3, value=("y", 2, 6.0)),
    "no_header.csv": parsed(header=False, columns=["column_1", "column_2"], read=4,
                            value=("column_1", 0, 1.5)),
    "quoted_fields.csv": parsed(columns=["name", "x, in cm", "y"], read=3, value=("name", 2, "two\nlines"),
                                numeric=["x, in cm", "y"]),
    "ragged_rows.csv": parsed(read=6, kept=3, value=("y", 2, 10.0)),
    "nan_inf_blank.csv": parsed(read=7, value=("x", 2, math.inf)),
    "duplicate_columns.csv": parsed(columns=["x", "x_2", "y", "column_4", "x_3"], read=2,
                                    value=("x_3", 1, 10.0)),
    "constant_column.csv": parsed(read=4, value=("y", 3, 5.0)),
    "identical_rows.csv": parsed(read=20, value=("y", 19, 7.0)),
    "two_points_repeated.csv": parsed(read=50, value=("x", 49, 10.0)),
    "tiny_units.csv": parsed(read=30, value=("x", 0, 3.6327e-9)),
    "huge_units.csv": parsed(read=30, value=("y", 0, 9.555e11)),
    "crlf.csv": parsed(read=2, value=("x", 1, 3.5)),
    "cr_only.csv": parsed(read=2, value=("y", 1, 4.0)),
    "trailing_blank_lines.csv": parsed(read=2, value=("y", 1, 4.0)),
    "mixed_text_numbers.csv": parsed(read=6, value=("y", 4, "oops")),
    "xss_names.csv": parsed(
        columns=["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", ":red[x]", '=HYPERLINK("x")', "value"],
        read=2, value=('=HYPERLINK("x")', 0, '=HYPERLINK("y")'), numeric=["value"],
    ),
}


def test_every_corpus_file_has_an_expected_outcome():
    on_disk = {p.name for p in DATA.iterdir() if p.suffix in (".csv", ".tsv")}
    assert on_disk == set(CORPUS)
    assert all(p.stat().st_size < 50_000 for p in DATA.iterdir())


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus(name):
    expected = CORPUS[name]
    data = (DATA / name).read_bytes()
    if isinstance(expected, str):
        with pytest.raises(DataError, match=re.escape(expected)):
            read_table(data, filename=name)
        return
    table = read_table(data, filename=name)
    report = table.report
    assert (report.encoding, report.delimiter, report.decimal, report.has_header) == (
        expected["encoding"], expected["delimiter"], expected["decimal"], expected["header"])
    assert list(table.frame.columns) == expected["columns"]
    assert (report.n_rows_read, report.n_rows_kept) == (expected["read"], expected["kept"])
    assert report.n_rows_read == report.n_rows_kept + report.n_rows_dropped == expected["read"]
    assert len(table.frame) == report.n_rows_kept
    assert table.numeric_columns == tuple(expected["numeric"])
    column, row, value = expected["value"]
    assert table.frame[column].iloc[row] == value


def test_numeric_columns_are_float64_and_text_stays_literal():
    table = read_table((DATA / "xss_names.csv").read_bytes())
    assert table.frame["value"].dtype == np.float64
    assert table.frame["<img src=x onerror=alert(1)>"].tolist() == ["<script>alert(1)</script>", "**bold**"]
    assert table.frame[":red[x]"].tolist() == [":blue[y]", "$x^2$"]


def test_blank_nan_and_inf_cells():
    frame = read_table((DATA / "nan_inf_blank.csv").read_bytes()).frame
    assert frame["x"].dtype == np.float64
    x = frame["x"].to_numpy()
    assert np.isnan(x[[1, 4, 5]]).all() and x[2] == np.inf and x[3] == -np.inf


def test_mostly_numeric_column_keeps_its_text_cells():
    frame = read_table((DATA / "mixed_text_numbers.csv").read_bytes()).frame
    assert frame["x"].dtype == "Int64" and frame["y"].dtype == object  # x: whole numbers, as written
    assert frame["y"].tolist() == [2.0, "n/a?", 6.0, 8.0, "oops", 12.0]


def test_ragged_rows_are_reported():
    report = read_table((DATA / "ragged_rows.csv").read_bytes()).report
    assert report.dropped_reasons == {"wrong number of fields": 3}
    assert report.lines()[4] == "Rows in the file: 6; 3 read into the table, 3 skipped (3 wrong number of fields)"
    assert any("lines 3, 4, 7" in note for note in report.notes)
    with pytest.raises(TypeError):
        report.dropped_reasons["x"] = 1  # read-only


def test_report_lines():
    table = read_table((DATA / "cp1252_headers.csv").read_bytes())
    assert table.report.lines() == (
        "Encoding: Windows-1252 (Western European)",
        "Delimiter: semicolon (;)",
        "Decimal mark: comma",
        "Header row: yes",
        "Rows in the file: 3, all read into the table",
    )
    bom = read_table((DATA / "utf8_bom.csv").read_bytes()).report.lines()
    assert bom[0] == "Encoding: UTF-8 with BOM"
    no_header = read_table((DATA / "no_header.csv").read_bytes()).report
    assert no_header.lines()[3] == "Header row: no"
    assert "named them column_1 to column_2" in no_header.lines()[-1]


def test_duplicate_and_missing_names_are_noted():
    notes = read_table((DATA / "duplicate_columns.csv").read_bytes()).report.notes
    assert "Renamed duplicate column 'x' to 'x_2'." in notes
    assert "Renamed duplicate column 'x' to 'x_3'." in notes
    assert "Column 4 had no name; named it column_4." in notes
    # A suffix never clashes with a name that is already in the file.
    assert list(read_table(b"a,a,a_2\n1,2,3\n").frame.columns) == ["a", "a_3", "a_2"]


def test_spreadsheet_extension_names_excel_for_binary_content():
    with pytest.raises(DataError, match="Excel"):
        read_table(b"\x00\x01\x02 not a workbook", filename="Book1.XLSX")
    with pytest.raises(DataError, match="Excel"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))


@pytest.mark.parametrize(
    "data, phrase",
    [
        (b"%PDF-1.7\n...", "PDF document"),
        (b"\x89PNG\r\n\x1a\n....", "image (PNG)"),
        ("x,y\n1,2\n".encode("utf-16-le"), "not text"),  # UTF-16 without a BOM
        (b"x,y\n" + b"\x01\x02\x03\x04,5\n" * 10, "not text"),
        (b'x,y\n"1,2\n3,4\n', "never closed"),
        (b'x,y\n"1"2,3\n', "Line 2 has text right after a closing quote"),
        (b"x,y\n1,2,3\n4,5,6\n", "None of the 2 data rows"),
        (b"  \r\n\t\n", "The file is empty"),
        (b"\xef\xbb\xbf", "The file is empty"),
    ],
)
def test_refusals(data, phrase):
    with pytest.raises(DataError, match=re.escape(phrase)) as info:
        read_table(data)
    # The message stands alone: no codec, csv or pandas wording leaks into it.
    assert not re.search(r"codec|Error|tokeniz|utf-8|field limit", str(info.value))


def test_text_that_merely_starts_like_a_zip_is_read():
    table = read_table(b"PK,value\n1,2\n")
    assert list(table.frame.columns) == ["PK", "value"]


def test_leading_blank_lines_and_line_numbers():
    table = read_table(b"\n" * 3 + b"x,y\n1,2\n3\n4,5\n")
    assert table.report.n_rows_kept == 2 and "line 6" in table.report.notes[-1]


def test_wide_header_is_refused_fast():
    names = ",".join(f"c{i}" for i in range(300_000))
    data = f"{names}\n{','.join('1' * 300_000)}\n".encode()
    start = time.perf_counter()
    with pytest.raises(DataError, match=f"300,000 columns; GMM Explorer reads at most {MAX_COLUMNS:,} columns"):
        read_table(data)
    assert time.perf_counter() - start < 2.0


def test_byte_and_row_caps():
    data = b"x,y\n" + b"1,2\n" * 50
    with pytest.raises(DataError, match="at most 100 bytes"):
        read_table(data, max_bytes=100)
    with pytest.raises(DataError, match="more than 10 rows; GMM Explorer reads at most 10 rows"):
        read_table(data, max_rows=10)
    with pytest.raises(DataError, match="more than 10 rows"):
        read_table(b"1,2\n" * 11, max_rows=10)  # no header: every row counts
    assert read_table(data, max_rows=50, max_bytes=len(data)).report.n_rows_kept == 50
    with pytest.raises(DataError, match="at most 3 columns"):
        read_table(b"a,b,c,d\n1,2,3,4\n", max_columns=3)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(data="x,y\n1,2\n"), TypeError),
        (dict(data=b"x\n1\n", filename=None), TypeError),
        (dict(data=b"x\n1\n", max_rows=0), ValueError),
        (dict(data=b"x\n1\n", max_columns=True), ValueError),
        (dict(data=b"x\n1\n", max_bytes=1.5), ValueError),
    ],
)
def test_read_table_checks_its_options(kwargs, error):
    with pytest.raises(error):
        read_table(**kwargs)


def test_large_file_takes_the_fast_path():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(200_000, 2))
    data = ("x,y\n" + "".join(f"{a:.6f},{b:.6f}\n" for a, b in values)).encode()
    start = time.perf_counter()
    table = read_table(data)
    assert time.perf_counter() - start < 3.0
    np.testing.assert_allclose(table.frame.to_numpy(), np.round(values, 6), rtol=1e-12)


# ---------------------------------------------------------------- feature_matrix


def test_feature_matrix_drops_rows_by_first_reason():
    frame = pd.DataFrame({
        "a": [1.0, np.nan, np.inf, 4.0, 5.0, np.nan, 7.0],
        "b": pd.Series([1.0, 2.0, 3.0, "x", 5.0, np.inf, 7.0], dtype=object),
        "c": ["p", "q", "r", "s", "t", "u", "v"],
    })
    X, report = feature_matrix(frame, ["b", "a"])
    np.testing.assert_array_equal(X, [[1.0, 1.0], [5.0, 5.0], [7.0, 7.0]])
    assert X.dtype == np.float64 and X.flags.c_contiguous
    assert report.columns == ("b", "a") and (report.n_rows, report.n_used) == (7, 3)
    assert dict(report.dropped_reasons) == {"missing value": 2, "infinite value": 1, "text instead of a number": 1}
    np.testing.assert_array_equal(report.used_rows, [True, False, False, False, True, False, True])
    assert not report.used_rows.flags.writeable
    assert report.lines() == (
        "Columns: 'b', 'a'",
        "Rows fitted: 3 of the table's 7; 4 left out (2 missing value, 1 infinite value, 1 text instead of a number)",
    )


def test_feature_matrix_on_read_table_output():
    table = read_table((DATA / "nan_inf_blank.csv").read_bytes())
    X, report = feature_matrix(table.frame, table.numeric_columns)
    np.testing.assert_array_equal(X, [[1.0, 2.0], [8.0, 9.0]])
    assert dict(report.dropped_reasons) == {"missing value": 3, "infinite value": 2}


@pytest.mark.parametrize(
    "columns, phrase",
    [
        ([], "No column was chosen"),
        (["x", "x"], "Column 'x' is chosen twice"),
        (["nope"], "Column 'nope' is not in the table. Choose one of the columns it has: 'x', 'name', 'few', 'blank'"),
        (["name"], "Column 'name' holds text, not numbers; choose a numeric column."),
        (["blank"], "Column 'blank' has no numbers"),
        (["x", "few"], "Only 1 row has numbers in every chosen column; at least 2 are needed. "
                       "Dropped rows: 2 missing value"),
    ],
)
def test_feature_matrix_refusals(columns, phrase):
    frame = pd.DataFrame({
        "x": [1.0, 2.0, 3.0], "name": ["a", "b", "c"], "few": [1.0, np.nan, np.nan], "blank": [np.nan] * 3,
    })
    with pytest.raises(DataError) as info:
        feature_matrix(frame, columns)
    assert phrase in str(info.value)


def test_feature_matrix_messages_quote_and_truncate_names():
    name = "<b>" + "n" * 100
    frame = pd.DataFrame({name: ["a", "b"]})
    with pytest.raises(DataError) as info:
        feature_matrix(frame, [name])
    message = str(info.value)
    assert repr(name[:59] + "…") in message and name not in message
    many = pd.DataFrame({f"c{i}": [1.0] for i in range(30)})
    with pytest.raises(DataError, match="and 20 more"):
        feature_matrix(many, ["missing"])


def test_feature_matrix_min_rows_and_options():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    assert feature_matrix(frame, ["x"], min_rows=3)[0].shape == (3, 1)
    with pytest.raises(DataError, match="Only 3 rows have numbers in every chosen column; at least 4 are needed"):
        feature_matrix(frame, ["x"], min_rows=4)
    with pytest.raises(TypeError):
        feature_matrix(frame, "x")
    with pytest.raises(TypeError):
        feature_matrix(frame.to_numpy(), ["x"])
    with pytest.raises(ValueError):
        feature_matrix(frame, ["x"], min_rows=0)


def test_feature_matrix_treats_strings_and_booleans_as_text():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["1", "2", "3"], "b": [True, False, True]})
    for column in ("s", "b"):
        with pytest.raises(DataError, match="holds text"):
            feature_matrix(frame, [column])
    assert Table(frame, _report()).numeric_columns == ("x",)


def _report() -> TableReport:
    return TableReport("utf-8", ",", ".", True, 3, 3, 0, {}, ())


# ---------------------------------------------------------------- properties

csv_like = st.text(alphabet=',;\t|\n\r"0123456789.-+eE aNnif', max_size=120).map(str.encode)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), csv_like))
def test_any_bytes_give_a_table_or_a_data_error(data):
    try:
        table = read_table(data)
    except DataError as exc:
        assert str(exc)
        return
    report = table.report
    assert isinstance(table, Table)
    assert report.n_rows_kept + report.n_rows_dropped == report.n_rows_read
    assert len(table.frame) == report.n_rows_kept
    assert sum(report.dropped_reasons.values()) == report.n_rows_dropped
    assert table.frame.columns.is_unique
    assert report.delimiter in (",", ";", "\t", "|", "") and report.decimal in (".", ",")
    assert all(isinstance(line, str) for line in report.lines())


finite = st.floats(allow_nan=False, allow_infinity=False)  # the whole range, subnormals included


@settings(max_examples=150, deadline=None)
@given(
    values=st.integers(1, 4).flatmap(
        lambda d: st.lists(st.lists(finite, min_size=d, max_size=d), min_size=1, max_size=15)
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    decimal_comma=st.booleans(),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_numeric_frames_round_trip(values, delimiter, decimal_comma, line_end):
    decimal = "," if decimal_comma and delimiter == ";" else "."
    d = len(values[0])
    lines = [delimiter.join(f"c{j}" for j in range(d))]
    lines += [delimiter.join(repr(v).replace(".", decimal) for v in row) for row in values]
    table = read_table(line_end.join(lines).encode() + line_end.encode())
    assert list(table.frame.columns) == [f"c{j}" for j in range(d)]
    assert table.report.delimiter == (delimiter if d > 1 else "")
    np.testing.assert_allclose(table.frame.to_numpy(dtype=np.float64), np.array(values), rtol=1e-12, atol=0)


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from(["text", "", None]),
)


@settings(max_examples=150, deadline=None)
@given(
    columns=st.lists(st.lists(cells, min_size=6, max_size=6), min_size=1, max_size=3),
    min_rows=st.integers(1, 4),
)
def test_feature_matrix_properties(columns, min_rows):
    frame = pd.DataFrame({f"c{j}": pd.Series(col, dtype=object) for j, col in enumerate(columns)})
    try:
        X, report = feature_matrix(frame, list(frame.columns), min_rows=min_rows)
    except DataError as exc:
        assert str(exc)
        return
    assert isinstance(report, FeatureReport)
    assert X.dtype == np.float64 and X.flags.c_contiguous and np.isfinite(X).all()
    assert X.shape == (report.used_rows.sum(), len(columns)) and X.shape[0] >= min_rows
    assert sum(report.dropped_reasons.values()) == report.n_rows - report.n_used == len(frame) - len(X)


def test_the_suggested_columns_are_the_measurements_and_the_labels_are_the_classes():
    rng = np.random.default_rng(0)
    rows = 60
    frame = pd.DataFrame({
        "id": np.arange(1, rows + 1),  # a row number: not a feature
        "site": np.repeat(["north", "south", "east"], rows // 3),  # text classes: the labels
        "grade": np.tile([1, 2, 3, 4], rows // 4),  # whole numbers, few values: labels too, but later
        **{f"m{j}": rng.normal(size=rows) for j in range(10)},
        "unit": 1.0,  # constant: not a feature
    })
    table = read_table(frame.to_csv(index=False).encode(), filename="t.csv")
    suggestion = suggest_columns(table)
    assert suggestion.label == "site"
    assert suggestion.features == ("grade", "m0", "m1", "m2", "m3", "m4", "m5", "m6")
    numbers_only = read_table(frame.drop(columns="site").to_csv(index=False).encode(), filename="t.csv")
    assert suggest_columns(numbers_only) == ColumnSuggestion(
        features=("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"), label="grade"
    )
