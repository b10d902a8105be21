import ast
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis.strategies import text

from gmm_core.datasets import load_dataset
from gmm_core.export import labelled_csv
from gmm_core.fit import fit_gmm
from gmm_core.reproduce import mclust_script, r_string, reproduction_script

#: A column name that would break code built by string concatenation, and that the CSV export
#: neutralises because a spreadsheet would run it as a formula.
AWKWARD = "=x 'quoted' \"twice\"\nand a newline"


@pytest.fixture(scope="module")
def frame():
    frame = load_dataset("blobs", n_samples=300).rename(columns={"x": AWKWARD})
    frame.loc[[5, 17], "y"] = np.nan  # rows the model cannot use
    return frame


def run_script(tmp_path, frame, result, **options):
    """Write the labelled CSV and the script into tmp_path, run it, return (agreeing, rows, bic)."""
    columns = [AWKWARD, "y"]
    used = frame[columns].notna().all(axis=1).to_numpy()
    (tmp_path / "labelled data.csv").write_bytes(labelled_csv(frame, result, used_rows=used))
    script = reproduction_script(result, feature_names=columns, csv_name="labelled data.csv", **options)
    (tmp_path / "reproduce.py").write_text(script, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "reproduce.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    agree = re.search(r"^labels agree: (\d+) of (\d+) rows$", run.stdout, re.MULTILINE)
    bic = re.search(r"^BIC: (\S+)$", run.stdout, re.MULTILINE)
    return int(agree[1]), int(agree[2]), float(bic[1])


def used_matrix(frame):
    columns = [AWKWARD, "y"]
    return frame.loc[frame[columns].notna().all(axis=1), columns].to_numpy()


def test_the_script_reproduces_labels_and_bic(tmp_path, frame):
    X = used_matrix(frame)
    result = fit_gmm(X, n_components=3, covariance_type="full", random_state=5)
    agreeing, rows, bic = run_script(tmp_path, frame, result)
    assert agreeing == rows == len(X) == 298
    assert bic == pytest.approx(result.bic, abs=0.01)


def test_the_script_reproduces_a_fit_to_standardised_columns(tmp_path, frame):
    raw = used_matrix(frame)
    X = (raw - raw.mean(axis=0)) / raw.std(axis=0)  # as the app standardises
    result = fit_gmm(X, n_components=4, covariance_type="diag", n_init=2, init_params="random_from_data")
    agreeing, rows, bic = run_script(tmp_path, frame, result, standardize=True)
    assert agreeing == rows == len(X)
    assert bic == pytest.approx(result.bic, abs=0.01)


def test_the_script_reproduces_a_fit_from_entered_means(tmp_path, frame):
    X = used_matrix(frame)
    means = X[[0, 1, 2]] + 0.5
    result = fit_gmm(X, n_components=3, covariance_type="spherical", means_init=means, n_init=4)
    agreeing, rows, bic = run_script(tmp_path, frame, result)
    assert agreeing == rows == len(X)
    assert bic == pytest.approx(result.bic, abs=0.01)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_the_script_reproduces_a_warm_started_fit(tmp_path, frame, covariance_type):
    X = used_matrix(frame)
    previous = fit_gmm(X[::2], n_components=3, covariance_type=covariance_type, n_init=1)
    result = fit_gmm(X, n_components=3, covariance_type=covariance_type, **previous.as_start())
    agreeing, rows, bic = run_script(tmp_path, frame, result)
    assert agreeing == rows == len(X)
    assert bic == pytest.approx(result.bic, abs=0.01)


def test_models_scikit_learn_lacks_have_no_script(blobs):
    result = fit_gmm(blobs, n_components=2, covariance_type="VEV", n_init=1)
    with pytest.raises(ValueError, match=r"scikit-learn has no VEV model\."):
        reproduction_script(result, feature_names=["x", "y"], csv_name="a.csv")


def test_names_are_embedded_as_data_never_as_code(blobs):
    result = fit_gmm(blobs, n_components=2, n_init=1)
    names = ["x\"); import os; os.remove('data') #", "y'''\n"]
    script = reproduction_script(result, feature_names=names, csv_name="a'b\".csv")
    tree = ast.parse(script)
    assigned = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) in {"CSV", "FEATURES"}
    }
    assert assigned == {"CSV": "a'b\".csv", "FEATURES": names}
    assert "import os" not in {ast.unparse(node) for node in tree.body}


def test_unreproducible_requests_are_refused(blobs):
    result = fit_gmm(blobs, n_components=2, n_init=1)
    with pytest.raises(ValueError, match="feature_names must name the model's 2 features; got 1."):
        reproduction_script(result, feature_names=["x"], csv_name="a.csv")
    unseeded = fit_gmm(blobs, n_components=2, n_init=1, random_state=None)
    with pytest.raises(ValueError, match="random_state=None, so no script can reproduce it"):
        reproduction_script(unseeded, feature_names=["x", "y"], csv_name="a.csv")


# The R script (mclust) --------------------------------------------------------------------------

HAS_MCLUST = shutil.which("Rscript") is not None and subprocess.run(
    ["Rscript", "-e", "library(mclust)"], capture_output=True
).returncode == 0


def read_r_literal(literal: str) -> str:
    """What R reads from a double-quoted literal made of the escapes ``r_string`` writes."""
    assert literal[0] == literal[-1] == '"'
    pattern = r'\\u\{([0-9a-f]{4})\}|\\U\{([0-9a-f]{8})\}|\\(["\\])|([^"\\])'
    pieces = re.findall(pattern, literal[1:-1])
    assert "".join(
        f"\\u{{{a}}}" if a else f"\\U{{{b}}}" if b else f"\\{c}" if c else d for a, b, c, d in pieces
    ) == literal[1:-1], "an unescaped quote or backslash"
    return "".join(chr(int(a or b, 16)) if a or b else c or d for a, b, c, d in pieces)


@given(text())
def test_any_text_becomes_one_r_string_of_printable_ascii(value):
    literal = r_string(value)
    assert all(0x20 <= ord(c) < 0x7F for c in literal)
    assert read_r_literal(literal) == value


def test_the_r_script_embeds_hostile_names_as_data(frame):
    result = fit_gmm(used_matrix(frame), n_components=2, covariance_type="VEV")
    script = mclust_script(result, feature_names=[AWKWARD, "y"], csv_name='a "b".csv')
    features = re.search(r"^features <- c\((.*)\)$", script, re.MULTILINE)[1]
    assert [read_r_literal(x) for x in re.findall(r'"(?:[^"\\]|\\.)*"', features)] == ["'" + AWKWARD, "y"]
    assert 'csv <- "a \\"b\\".csv"' in script


def test_names_that_neutralise_alike_stay_apart_and_the_script_finds_each(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"=a": rng.normal(size=200), "'=a": rng.normal(size=200) * 3, "note": "x"})
    result = fit_gmm(frame[["'=a", "=a"]].to_numpy(), n_components=2, covariance_type="diag", random_state=0)
    (tmp_path / "d.csv").write_bytes(labelled_csv(frame, result))
    assert (tmp_path / "d.csv").read_text().splitlines()[0].startswith("'=a,'=a_2,note,component,")
    script = reproduction_script(result, feature_names=["'=a", "=a"], csv_name="d.csv", columns=list(frame.columns))
    assert "FEATURES = [\"'=a_2\", \"'=a\"]" in script
    (tmp_path / "reproduce.py").write_text(script, encoding="utf-8")
    run = subprocess.run([sys.executable, "reproduce.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert float(re.search(r"^BIC: (\S+)$", run.stdout, re.MULTILINE)[1]) == pytest.approx(result.bic, abs=0.01)


@pytest.mark.skipif(not HAS_MCLUST, reason="needs R with mclust (apt-get install r-base-core r-cran-mclust)")
@pytest.mark.parametrize(("model", "k", "standardize"), [("VEV", 2, False), ("EVE", 3, True), ("VVI", 3, False)])
def test_mclust_continues_the_exported_model_to_the_same_bic(tmp_path, frame, model, k, standardize):
    raw = used_matrix(frame)
    X = (raw - raw.mean(axis=0)) / raw.std(axis=0) if standardize else raw
    result = fit_gmm(X, n_components=k, covariance_type=model)
    used = frame[[AWKWARD, "y"]].notna().all(axis=1).to_numpy()
    (tmp_path / "labelled data.csv").write_bytes(labelled_csv(frame, result, used_rows=used))
    script = mclust_script(result, feature_names=[AWKWARD, "y"], csv_name="labelled data.csv", standardize=standardize)
    (tmp_path / "continue.R").write_text(script, encoding="utf-8")
    run = subprocess.run(["Rscript", "continue.R"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    agree = re.search(r"^labels agree: (\d+) of (\d+) rows$", run.stdout, re.MULTILINE)
    assert int(agree[1]) == int(agree[2]) == 298
    ours = float(re.search(r"^GMM Explorer's BIC: (\S+)$", run.stdout, re.MULTILINE)[1])
    assert ours == pytest.approx(result.bic, abs=0.01)
