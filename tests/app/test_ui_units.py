"""The app's pure helpers: escaping, file names, sampling, figures, tables, data sets, JSON export."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_core import DataError, fit_gmm, make_blobs_frame, sweep
from gmm_core.model_json import model_document, model_json
from ui import figures
from ui.dataset import Generation, build_dataset, content_hash, generated_table, parse_spread, uploaded_table
from ui.tables import best_index, component_table, parameter_table, sweep_table
from ui.text import escape_markdown, format_number, plotly_text, safe_filename_stem


@pytest.fixture(scope="module")
def blobs():
    return make_blobs_frame()[["x", "y"]].to_numpy()


@pytest.fixture(scope="module")
def result(blobs):
    return fit_gmm(blobs, n_components=3, covariance_type="full", n_init=2)


@pytest.mark.parametrize(
    "text",
    ["*bold* _it_ `code`", ":red[alarm]", "$x^2$", "[link](http://evil)", "# heading", "<b>x</b>", "a\nb", ":material/home:"],
)
def test_escaped_markdown_has_no_unescaped_specials(text):
    escaped = escape_markdown(text)
    assert "\n" not in escaped
    unescaped = escaped.replace("\\\\", "").replace("\\", "").replace("\u2060", "")  # word joiners break autolinks
    for i, ch in enumerate(escaped):
        if ch in "*_`[]()$:#<>" and (i == 0 or escaped[i - 1] != "\\"):
            pytest.fail(f"unescaped {ch!r} in {escaped!r}")
    assert unescaped.replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_plotly_text_escapes_html_and_templates():
    assert plotly_text("<b>x</b> & %{y}") == "&lt;b&gt;x&lt;/b&gt; &amp; &#37;{y}"


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("My data (1).csv", "My_data_1"),
        ("../../etc/passwd", "etc_passwd"),
        ("Café Müller.CSV", "Cafe_Muller"),
        ("...", "data"),
        ("a" * 200 + ".csv", "a" * 80),
        ("old_faithful", "old_faithful"),
    ],
)
def test_safe_filename_stem(name, stem):
    assert safe_filename_stem(name) == stem


def test_format_number():
    assert format_number(4849.4567) == "4,849.46"
    assert format_number(-3.950591) == "-3.95059"
    assert format_number(float("nan")) == "n/a"


def test_heatmap_rows_sorted_by_component_then_confidence():
    rng = np.random.default_rng(1)
    responsibilities = rng.dirichlet([1, 1, 1], size=2_000)
    labels = responsibilities.argmax(axis=1)
    rows = figures.heatmap_rows(responsibilities, labels, cap=400)
    assert len(rows) == 400 and len(set(rows)) == 400
    assert np.all(np.diff(labels[rows]) >= 0)
    confidence = responsibilities.max(axis=1)
    for k in range(3):
        assert np.all(np.diff(confidence[rows][labels[rows] == k]) <= 0)


def test_fit_scatter_uses_webgl_and_samples_large_data():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50_000, 2))
    labels = (points[:, 0] > 0).astype(int)
    covariances = np.stack([np.eye(2), np.eye(2)])
    figure = figures.fit_scatter(
        points, labels, np.array([0.5, 0.5]), np.array([[-1.0, 0], [1, 0]]), covariances,
        axis_names=("a", "b"), uncertainty=np.zeros(50_000), show_density=True,
    )
    point_traces = [t for t in figure.data if t.meta == "points"]
    assert {t.type for t in point_traces} == {"scattergl"}
    assert sum(len(t.x) for t in point_traces) == 20_000  # figures.MAX_POINTS: the browser draws a sample
    assert [t.meta for t in figure.data].count("ellipse") == 2
    assert [t.meta for t in figure.data].count("density") == 1


def test_small_data_use_svg_scatter(result, blobs):
    figure = figures.fit_scatter(
        blobs, result.labels, result.weights, result.means, result.covariances, axis_names=("x", "y"), level="1σ"
    )
    assert {t.type for t in figure.data if t.meta == "points"} == {"scatter"}
    ellipse = next(t for t in figure.data if t.meta == "ellipse")
    # A 1-sigma ellipse: every point at Mahalanobis distance 1 from its mean.
    k = 0
    offsets = np.column_stack([ellipse.x, ellipse.y]) - result.means[k]
    distances = np.einsum("ni,ij,nj->n", offsets, np.linalg.inv(result.covariances[k]), offsets)
    assert np.allclose(distances, 1.0)


def test_criteria_figure_never_marks_a_degenerate_fit_best():
    table = sweep(make_blobs_frame()[["x", "y"]].to_numpy(), ks=[1, 2, 3], covariance_types=["full", "diag"],
                  n_init=1).table
    table.loc[table["bic"].idxmin(), "degenerate"] = True
    figure = figures.criteria_figure(table)
    best = [t for t in figure.data if t.meta == "best_overall"]
    assert len(best) == 3
    eligible_min = table[~table["degenerate"]]["bic"].min()
    assert best[0].y[0] == eligible_min
    assert [t.meta for t in figure.data].count("degenerate") == 3
    shown = sweep_table(table, "BIC")
    assert shown["best by BIC"].sum() == 1
    assert shown.iloc[-1]["degenerate"]
    assert shown.iloc[0]["Δ BIC"] == 0


def test_best_index_per_type_and_none_when_nothing_is_eligible():
    table = pd.DataFrame(
        {"k": [1, 2, 1], "covariance_type": ["full", "full", "tied"], "bic": [5.0, 3.0, 4.0],
         "aic": [1.0, 2.0, 3.0], "icl": [5.0, 3.0, 4.0], "degenerate": [False, False, False]}
    )
    assert best_index(table, "BIC") == 1
    assert best_index(table, "AIC") == 0
    assert dict(best_index(table, "BIC", by_type=True)) == {"full": 1, "tied": 2}
    assert best_index(table.assign(degenerate=True), "BIC") is None


def test_parameter_tables(result):
    tidy = parameter_table(result, ["x", "y"])
    assert len(tidy) == 3 * (1 + 2 + 3)
    covariance = tidy[(tidy.parameter == "covariance") & (tidy.component == 2) & (tidy.feature == "x") & (tidy.feature_2 == "y")]
    assert covariance["value"].item() == pytest.approx(result.covariances[1, 0, 1])
    components = component_table(result, ["x", "y"])
    assert components["weight"].sum() == pytest.approx(1.0)
    assert components["points assigned"].sum() == 600


def test_content_hash_sees_one_changed_value_in_a_large_matrix():
    X = np.random.default_rng(0).normal(size=(200_000, 2))
    Y = X.copy()
    Y[123_456, 1] += 1e-9
    assert content_hash(X) != content_hash(Y)
    assert content_hash(X) == content_hash(X.copy())


def test_parse_spread():
    assert parse_spread("1.0, 1.4 ,0.8") == (1.0, 1.4, 0.8)
    for bad in ("", "a", "1, -2", "0"):
        with pytest.raises(DataError):
            parse_spread(bad)


def test_dataset_standardising_and_dropped_rows():
    table = uploaded_table("d.csv", b"a,b,c\n1,10,x\n2,,y\n3,30,z\n5,20,w\n")
    dataset = build_dataset(table, ["a", "b"], label_column="c", standardize=True)
    assert dataset.used_rows.tolist() == [True, False, True, True]
    assert np.allclose(dataset.X.mean(axis=0), 0) and np.allclose(dataset.X.std(axis=0), 1)
    assert dataset.known_labels.tolist() == ["x", "z", "w"]
    assert dataset.row_numbers.tolist() == [1, 3, 4]
    with pytest.raises(DataError, match="same value"):
        build_dataset(uploaded_table("d.csv", b"a,b\n1,2\n1,3\n"), ["a", "b"], standardize=True)
    with pytest.raises(DataError):
        build_dataset(table, ["a", "a"])


def test_generated_table_matches_the_core_generator():
    table = generated_table(Generation())
    assert table.frame.equals(make_blobs_frame())
    with pytest.raises(DataError):
        generated_table(Generation(n_samples=2, n_centers=3))


def test_model_document_is_strict_json_with_everything_needed(result):
    document = model_document(
        result, source={"kind": "upload", "filename": "d.csv"}, content_hash="sha256:abc",
        feature_names=["x", "y"], standardize={"center": [0.0, 1.0], "scale": [2.0, 3.0]},
    )
    text = model_json(document)
    loaded = json.loads(text)
    model = loaded["model"]
    assert model["covariance_type"] == "full" and model["mclust_name"] == "VVV" and model["n_components"] == 3
    assert np.allclose(model["weights"], result.weights)
    assert np.allclose(model["means"], result.means)
    assert np.array(model["covariances"]).shape == (3, 2, 2)
    assert loaded["settings"] == {
        "n_components": 3, "covariance_type": "full", "n_init": 2, "random_state": 0,
        "init_params": "hc+kmeans", "reg_covar": 1e-08, "tol": 0.001, "max_iter": 1000, "stopping": "aitken",
    }
    assert loaded["fit"]["bic"] == pytest.approx(result.bic)
    assert loaded["start"] == {}
    assert loaded["data"]["content_hash"] == "sha256:abc"
    assert loaded["data"]["preprocessing"]["scale"] == [2.0, 3.0]
    assert loaded["library_versions"]["scikit-learn"] == "1.9.1"
    assert "NaN" not in text and "Infinity" not in text


def test_model_document_of_a_warm_start_holds_the_start(blobs, result):
    warm = fit_gmm(blobs, n_components=3, **result.as_start())
    document = model_document(warm, source={}, content_hash="h", feature_names=["x", "y"])
    start = json.loads(model_json(document))["start"]
    assert set(start) == {"weights_init", "means_init", "covariances_init"}
    for name, value in result.as_start().items():
        np.testing.assert_array_equal(start[name], value)


def test_model_document_turns_non_finite_numbers_into_null(result):
    document = model_document(result, source={"note": float("inf")}, content_hash="h", feature_names=["x", "y"])
    assert json.loads(model_json(document))["data"]["source"]["note"] is None
    with pytest.raises(ValueError):
        model_document(result, source={}, content_hash="h", feature_names=["x"])


def test_export_file_names_come_from_the_sanitised_source_name(result):
    from ui.export_view import file_stem

    table = uploaded_table("Ventes été/2024 (final).csv", b"a,b\n1,2\n3,4\n5,7\n")
    dataset = build_dataset(table, ["a", "b"])
    assert file_stem(dataset, result) == "Ventes_ete_2024_final_full_k3"


@pytest.mark.parametrize(("model", "distinct_colours"), [("EII", 3), ("VVV", 3)])
def test_the_model_picture_is_three_filled_ellipses_and_nothing_else(model, distinct_colours):
    svg = figures.model_family_svg(model)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and svg.endswith("</svg>")
    polygons = re.findall(r'<polygon points="([-0-9., ]+)" fill="(rgba\([0-9,.]+\))" stroke="(#[0-9A-F]{6})" stroke-width="2"/>', svg)
    assert len(polygons) == 3 and len({p[2] for p in polygons}) == distinct_colours
    assert re.sub(r"<polygon[^>]*/>", "", svg).count("<") == 2  # the svg element's two tags


def test_standardising_columns_near_the_ends_of_double_precision_fits_like_any_other():
    rows = np.arange(60.0) % 7 + np.repeat([0.0, 20.0], 30)
    frame = pd.DataFrame({"tiny": rows * 1e-300, "huge": rows[::-1] * 1e300, "plain": rows})
    table = uploaded_table("d.csv", frame.to_csv(index=False).encode())
    dataset = build_dataset(table, ("tiny", "huge", "plain"), standardize=True)
    expected = (rows - rows.mean()) / rows.std()
    np.testing.assert_allclose(dataset.X[:, 0], expected, rtol=1e-9)
    np.testing.assert_allclose(dataset.X[:, 1], expected[::-1], rtol=1e-9)
    assert fit_gmm(dataset.X, n_components=2, covariance_type="diag").converged


def test_rings_of_misclassified_points_are_sampled_so_they_never_hide_a_cluster():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(200_000, 2))
    labels = (points[:, 0] > 0).astype(int)
    wrong = rng.uniform(size=len(points)) < 0.25
    means, covariances = np.array([[-1.0, 0.0], [1.0, 0.0]]), np.array([np.eye(2)] * 2)
    spec = figures.fit_scatter(
        points, labels, np.array([0.5, 0.5]), means, covariances, axis_names=("x", "y"), misclassified=wrong
    )
    (rings,) = [t for t in spec.data if t.meta == "misclassified"]
    assert len(rings.x) == 1_000
    assert rings.name == f"misclassified ({int(wrong.sum()):,}; 1,000 drawn)"


def lab(colour: str) -> np.ndarray:
    """CIE L*a*b* (D65) of a hex sRGB colour."""
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    f = np.cbrt(xyz / np.array([0.95047, 1.0, 1.08883]))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_first_five_components_get_clearly_different_colours():
    from ui.colours import PALETTE

    first = [lab(c) for c in PALETTE[:5]]
    closest = min(np.linalg.norm(a - b) for i, a in enumerate(first) for b in first[i + 1 :])
    assert closest > 30  # CIE76 distance (sky blue beside blue was 26): no two blues side by side


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 3000)), max_size=60))
def test_the_shared_cache_never_holds_more_bytes_than_its_bound(puts):
    from ui.memo import ByteCache, size_of

    cache = ByteCache(max_bytes=8 * 1024)
    kept = {}  # what a plain LRU of unbounded entries, trimmed to the byte bound, would hold
    for key, n in puts:
        value = np.zeros(n)  # 8 n bytes of data
        cache.put(key, value)
        if size_of(value) <= cache.max_bytes / 4:  # larger results are never kept
            kept.pop(key, None)
            kept[key] = size_of(value)
            while sum(kept.values()) > cache.max_bytes:
                del kept[next(iter(kept))]
        assert cache.bytes == sum(kept.values()) <= cache.max_bytes
        assert {k for k in range(10) if k in cache} == set(kept)


def test_the_shared_cache_counts_a_fits_arrays_and_computes_each_key_once(result):
    from ui.memo import ByteCache, size_of

    arrays = sum(getattr(result, name).nbytes for name in ("weights", "means", "covariances", "responsibilities", "labels"))
    assert arrays <= size_of(result) <= arrays + 64 * 1024  # the small rest: settings, restarts table, warnings
    cache, calls = ByteCache(max_bytes=10**8), []
    for _ in range(3):
        assert cache.get_or_compute("fit", lambda: calls.append(1) or result) is result
    assert calls == [1]


def test_a_sessions_uploads_are_trimmed_to_the_budget_oldest_first():
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    from gmm_core.budget import SESSION_UPLOAD_BYTES
    from ui.dataset import MAX_UPLOAD_MB
    from ui.uploads import trim_session

    assert SESSION_UPLOAD_BYTES >= 2 * MAX_UPLOAD_MB * 1024**2  # a file in use and one arriving always fit
    manager = MemoryUploadedFileManager("/upload")
    for i in range(5):  # replayed uploads no widget uses: 5 x 40 bytes
        manager.add_file("attacker", UploadedFileRec(f"f{i}", "x.csv", "text/csv", b"a" * 40))
        trim_session(manager, "attacker", 100)
    manager.add_file("other", UploadedFileRec("g", "y.csv", "text/csv", b"b" * 400))
    trim_session(manager, "other", 100)
    assert list(manager.file_storage["attacker"]) == ["f3", "f4"]  # the newest that fit in 100 bytes
    assert list(manager.file_storage["other"]) == ["g"]  # the newest file stays even when larger
    assert manager._total_bytes == 80 + 400
