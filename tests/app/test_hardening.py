"""Bad input through the app: a clear message, nothing lost, never a traceback.

Every corpus file is uploaded after a good file; the test checks what the user sees
(the error, or the report of how the file was read and the rows used), that a refused
file leaves the good data in use, and that every page still renders. Fitting problems
must come with plain-language guidance.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.app.conftest import chart, goto, n_points, open_app, sidebar_text, traces, upload
from tests.app.hostile import (
    DATA,
    EXPECTED,
    GENERATED,
    GOOD_NAME,
    GOOD_ROWS,
    HOSTILE,
    RAW_LIBRARY_TEXT,
    corpus_files,
    corpus_id,
    good_csv,
    large_csv,
    plain,
)
from ui import figures

PAGES = ("data", "fit", "model_selection", "export")


def texts(elements) -> list[str]:
    return [plain(element.value) for element in elements]


def assert_no_raw_library_text(messages: list[str]) -> None:
    for message in messages:
        for phrase in RAW_LIBRARY_TEXT:
            assert phrase not in message, f"raw library text {phrase!r} shown: {message!r}"


def assert_good_data_still_in_use(at) -> None:
    """The good file is still the current data and the Fit page draws its model."""
    assert f"**Data:** {GOOD_NAME}" in plain(sidebar_text(at))
    goto(at, "fit")
    assert not at.error, texts(at.error)
    assert n_points(chart(at, "fit_chart"), "points") == GOOD_ROWS


def assert_every_page_renders(at) -> None:
    for page in PAGES:
        goto(at, page)  # asserts no exception
        assert_no_raw_library_text(texts(at.error) + texts(at.warning) + texts(at.info))


def upload_after_good_file(data: bytes, name: str):
    at = open_app()
    upload(at, good_csv(), GOOD_NAME)
    assert f"**Data:** {GOOD_NAME}" in plain(sidebar_text(at))
    upload(at, data, name)
    return at


def test_every_corpus_file_has_an_expected_outcome():
    assert {corpus_id(path) for path in corpus_files()} == set(EXPECTED)
    assert all(path.stat().st_size < 50_000 for path in [*DATA.iterdir(), *HOSTILE.iterdir()])


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # overflowing_values.csv
@pytest.mark.parametrize("path", corpus_files(), ids=corpus_id)
def test_corpus_file_through_the_app(path):
    expect = EXPECTED[corpus_id(path)]
    at = upload_after_good_file(path.read_bytes(), path.name)
    errors = texts(at.error)
    shown = "\n".join(texts(at.markdown) + texts(at.caption))
    for line in expect.report:
        assert line in shown, f"report line {line!r} not shown; shown:\n{shown}"
    assert_no_raw_library_text(errors)

    if expect.kind in ("refused", "unusable"):
        assert len(errors) == 1 and expect.message in errors[0], errors
        assert f"Still using: {GOOD_NAME}" in shown
        assert_good_data_still_in_use(at)
    else:
        assert expect.kind == "parsed"
        assert not errors, errors
        summary = plain(sidebar_text(at))
        assert f"**Data:** {path.name}" in summary and expect.used in summary, summary
        assert (at.selectbox(key="x_col").value, at.selectbox(key="y_col").value) == expect.columns
        goto(at, "fit")
        fit_errors, warnings = texts(at.error), texts(at.warning)
        if expect.fit == "ok":
            assert not fit_errors and not warnings, (fit_errors, warnings)
            assert chart(at, "fit_chart")
        elif expect.fit == "warning":
            assert not fit_errors, fit_errors
            assert any(expect.fit_message in w for w in warnings), warnings
            assert any("Choose fewer components" in w or "Drop" in w for w in warnings), warnings
            assert chart(at, "fit_chart")
        else:
            assert len(fit_errors) == 1 and expect.fit_message in fit_errors[0], fit_errors
            assert "Try fewer components, another covariance type, or a larger reg_covar" in texts(at.info)[0]
            assert not at.get("plotly_chart")
    assert_every_page_renders(at)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_oversized_inputs_are_refused_with_a_clear_message(name):
    make, message = GENERATED[name]
    data = make()
    start = time.perf_counter()
    at = upload_after_good_file(data, name)
    elapsed = time.perf_counter() - start
    errors = texts(at.error)
    assert len(errors) == 1 and message in errors[0], errors
    assert_no_raw_library_text(errors)
    assert elapsed < 20, f"refusing {name} took {elapsed:.1f} s"
    assert_good_data_still_in_use(at)


def test_uploader_enforces_the_app_upload_limit():
    at = open_app()
    goto(at, "data")
    at.radio(key="source").set_value("upload").run()
    assert at.file_uploader(key="upload").proto.max_upload_size_mb == 50


# ---------------------------------------------------------------- fitting problems


def test_more_components_than_distinct_points_says_how_many_fit():
    at = upload_after_good_file((DATA / "two_points_repeated.csv").read_bytes(), "two.csv")
    goto(at, "fit")
    (error,) = texts(at.error)
    assert "only 2 distinct point(s)" in error and "Choose at most 2 components." in error
    at.number_input(key="n_components").set_value(2).run()
    assert not at.error and not at.exception
    assert len(traces(chart(at, "fit_chart"), "ellipse")) == 2


def test_collapsed_components_are_explained():
    # 40 scattered rows and 20 copies of one point: a full component shrinks onto the copies.
    rng = np.random.default_rng(0)
    rows = np.vstack([rng.normal(size=(40, 2)), np.tile([[5.0, 5.0]], (20, 1))])
    data = ("x,y\n" + "\n".join(f"{x:.6f},{y:.6f}" for x, y in rows)).encode()
    at = upload_after_good_file(data, "collapse.csv")
    at.number_input(key="n_components").set_value(2).run()
    goto(at, "fit")
    warnings = texts(at.warning)
    assert any("collapsed onto a line or point" in w for w in warnings), warnings
    assert any("Choose fewer components" in w for w in warnings), warnings
    assert "degenerate" in plain(sidebar_text(at))


def test_no_convergence_says_what_to_change():
    at = open_app()
    at.number_input(key="max_iter").set_value(1).run()
    (warning,) = texts(at.warning)
    assert warning.startswith("EM did not converge within 1 iterations") and "Raise max_iter or loosen tol." in warning
    assert next(m.value for m in at.metric if m.label == "Converged") == "no"


def test_em_breakdown_without_regularisation_keeps_the_last_model():
    at = upload_after_good_file((HOSTILE / "collinear.csv").read_bytes(), "collinear.csv")
    goto(at, "fit")
    assert not at.error
    at.number_input(key="reg_covar").set_value(0.0).run()
    (error,) = texts(at.error)
    assert "EM broke down from every start while fitting full (VVV) with 3 components" in error
    assert "a larger reg_covar (now 0)" in error
    assert_no_raw_library_text([error])
    assert "Showing the last model that could be fitted instead: full (VVV), K = 3." in texts(at.info)
    assert len(traces(chart(at, "fit_chart"), "ellipse")) == 3


def test_sweep_on_identical_rows_explains_instead_of_crashing():
    at = upload_after_good_file((DATA / "identical_rows.csv").read_bytes(), "same.csv")
    goto(at, "model_selection")
    at.slider(key="sweep_k_range").set_value((1, 2)).run()
    at.button(key="run_sweep").click().run()
    assert not at.exception
    assert any("All rows are identical" in e for e in texts(at.error)), texts(at.error)


def test_sweep_on_tiny_data_marks_impossible_fits():
    at = upload_after_good_file((DATA / "two_points_repeated.csv").read_bytes(), "two.csv")
    goto(at, "model_selection")
    at.slider(key="sweep_k_range").set_value((1, 4)).run()
    at.button(key="run_sweep").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["bic"].isna().sum() == 2 * len(at.multiselect(key="sweep_cov_types").value)  # K = 3, 4 fail
    assert "failed fit(s) are never chosen" in "\n".join(texts(at.caption))


def test_a_constant_column_is_named_and_refused_plainly():
    at = upload_after_good_file((DATA / "constant_column.csv").read_bytes(), "constant.csv")
    (error,) = texts(at.error)
    assert "Column 'y' has the same value in every used row, so it says nothing about clusters" in error
    assert "Still using: good.csv" in plain(sidebar_text(at)) or "good.csv" in plain(sidebar_text(at))
    assert "constant.csv" not in plain(sidebar_text(at))


def test_exactly_collinear_columns_get_guidance():
    at = upload_after_good_file((HOSTILE / "collinear.csv").read_bytes(), "collinear.csv")
    goto(at, "fit")
    assert at.warning, "a fit on y = 2x + 1 should say the columns are collinear"


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_overflowing_values_are_not_called_identical():
    at = upload_after_good_file((HOSTILE / "overflowing_values.csv").read_bytes(), "big.csv")
    goto(at, "fit")
    assert "identical" not in texts(at.error)[0]


# ---------------------------------------------------------------- resource limits


def test_large_upload_is_sampled_for_display():
    at = open_app()
    at.default_timeout = 120
    upload(at, large_csv(50_000), "large.csv")
    assert "50,000 of 50,000 rows" in plain(sidebar_text(at))
    assert len(at.dataframe[0].value) == 200
    assert n_points(chart(at, "data_scatter"), "data") == 20_000  # figures.MAX_POINTS: the browser draws a sample
    assert "Showing a sample of 20,000 of 50,000 points." in texts(at.caption)
    goto(at, "fit")
    spec = chart(at, "fit_chart")
    assert n_points(spec, "points") == 20_000  # figures.MAX_POINTS: the browser draws a sample
    assert all(trace["type"] == "scattergl" for trace in traces(spec, "points"))
    heatmap = chart(at, "responsibility_heatmap")["data"][0]
    assert len(heatmap["text"]) <= figures.MAX_HEATMAP_ROWS
    goto(at, "export")
    assert len(at.dataframe[0].value) == 100


def test_a_measurement_chosen_as_labels_is_not_coloured_point_by_point():
    at = open_app()
    upload(at, large_csv(3_000), "labels.csv")
    start = time.perf_counter()
    at.selectbox(key="label_col").set_value("v2").run()
    assert time.perf_counter() - start < 10
    assert len(traces(chart(at, "data_scatter"), "data")) == 1
    assert any("distinct values, too many to colour by" in c for c in texts(at.caption))
    goto(at, "fit")
    assert any("distinct labels: too many" in c for c in texts(at.caption))
