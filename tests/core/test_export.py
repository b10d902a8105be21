import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmm_core import FORMULA_PREFIXES, fit_gmm, labelled_csv, neutralise_formula


@pytest.fixture(scope="module")
def frame_and_fit():
    frame = pd.DataFrame(
        {
            "x": [0.1, 0.2, np.nan, 5.0, 5.2, 4.9, 0.15, 5.1],
            "y": [1.0, 1.1, 1.2, 7.0, 7.1, np.inf, 0.9, 6.9],
            "note": ["a", "=SUM(A1:A2)", "b", "+1+1", "-3", "@cmd", "\tx", "plain"],
        }
    )
    used = np.isfinite(frame[["x", "y"]]).all(axis=1).to_numpy()
    result = fit_gmm(frame.loc[used, ["x", "y"]].to_numpy(), n_components=2, n_init=1)
    return frame, used, result


def test_every_row_and_column_comes_back_with_labels(frame_and_fit):
    frame, used, result = frame_and_fit
    out = pd.read_csv(io.BytesIO(labelled_csv(frame, result, used_rows=used)), keep_default_na=False, na_values=[""])
    assert len(out) == len(frame)
    k = result.n_components
    assert list(out.columns) == ["x", "y", "note", "component", "max_responsibility", "uncertainty"] + [
        f"responsibility_{i}" for i in range(1, k + 1)
    ]
    # Numbers are written with full precision: they come back bit for bit.
    np.testing.assert_array_equal(out["x"].to_numpy(), frame["x"].to_numpy())
    np.testing.assert_array_equal(out["y"].to_numpy(), frame["y"].to_numpy())
    np.testing.assert_array_equal(out.loc[used, "component"], result.labels + 1)
    assert out.loc[~used, "component"].isna().all()
    assert out.loc[~used, "responsibility_1"].isna().all()
    resp = out.loc[used, [f"responsibility_{i}" for i in range(1, k + 1)]].to_numpy()
    np.testing.assert_array_equal(resp, result.responsibilities)
    np.testing.assert_allclose(out.loc[used, "uncertainty"], 1 - resp.max(axis=1))


def test_formulas_in_cells_are_neutralised_and_numbers_kept(frame_and_fit):
    frame, used, result = frame_and_fit
    out = pd.read_csv(io.BytesIO(labelled_csv(frame, result, used_rows=used)), keep_default_na=False)
    assert list(out["note"]) == ["a", "'=SUM(A1:A2)", "b", "'+1+1", "-3", "'@cmd", "'\tx", "plain"]


def test_headers_are_neutralised_and_names_never_collide():
    frame = pd.DataFrame({"=cmd()": [1.0, 2.0, 3.0], "component": [4.0, 5.0, 9.0]})
    result = fit_gmm(frame.to_numpy(), n_components=1, n_init=1)
    header = labelled_csv(frame, result).decode().splitlines()[0]
    assert header.split(",")[:4] == ["'=cmd()", "component", "component_2", "max_responsibility"]


@given(st.text(min_size=1, max_size=20))
def test_no_neutralised_cell_can_start_a_formula(text):
    safe = neutralise_formula(text)
    if safe.startswith(FORMULA_PREFIXES):
        float(safe)  # only plain numbers may keep a leading sign
    assert safe in (text, "'" + text)


def test_wrong_row_mask_is_refused(frame_and_fit):
    frame, used, result = frame_and_fit
    with pytest.raises(ValueError, match="used_rows must mark 6 of the frame's 8 rows; it marks 8 of 8."):
        labelled_csv(frame, result)


@given(st.lists(st.one_of(st.none(), st.integers(-(2**53), 2**53)), min_size=4, max_size=30)
       .filter(lambda labels: any(n is not None for n in labels)))
def test_whole_numbers_are_exported_as_they_were_uploaded(labels):
    from gmm_core import feature_matrix, read_table

    rng = np.random.default_rng(0)
    x = rng.normal(size=len(labels))
    lines = ["x,label"] + [f"{v:.6f},{'' if n is None else n}" for v, n in zip(x, labels)]
    table = read_table("\n".join(lines).encode())
    assert table.frame["label"].dtype == "Int64"  # not 1.0, 2.0 (nor rounded beyond 2**53)
    X, report = feature_matrix(table.frame, ["x"])
    result = fit_gmm(X, n_components=1, n_init=1)
    exported = labelled_csv(table.frame, result, used_rows=report.used_rows).decode().splitlines()
    assert [line.split(",")[1] for line in exported[1:]] == ["" if n is None else str(n) for n in labels]
