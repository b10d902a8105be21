import numpy as np
import pytest

from gmm_core import DataError, load_dataset, make_blobs_frame


def test_old_faithful_is_shipped_in_the_package():
    frame = load_dataset("old_faithful")
    assert frame.shape == (272, 2) and list(frame.columns) == ["eruptions", "waiting"]
    assert frame["eruptions"].between(1.5, 5.2).all() and frame["waiting"].between(43, 96).all()


def test_iris_has_its_species():
    frame = load_dataset("iris")
    assert frame.shape == (150, 5)
    assert frame["species"].value_counts().to_dict() == {"setosa": 50, "versicolor": 50, "virginica": 50}


def test_seed_example_blobs():
    frame = make_blobs_frame()
    assert frame.shape == (600, 3) and list(frame.columns) == ["x", "y", "true_component"]
    spreads = frame.groupby("true_component")[["x", "y"]].std().mean(axis=1).to_numpy()
    np.testing.assert_allclose(spreads, [1.0, 1.4, 0.8], rtol=0.15)
    assert frame.equals(make_blobs_frame()), "the same seed gives the same data"


@pytest.mark.parametrize("variant", ["anisotropic", "unequal_variance"])
def test_variants_differ_from_plain_blobs(variant):
    frame = load_dataset(variant, n_samples=300, n_components=4)
    assert frame.shape == (300, 3) and frame["true_component"].nunique() == 4
    assert not frame.equals(load_dataset("blobs", n_samples=300, n_components=4))


def test_unknown_dataset_names_the_choices():
    with pytest.raises(DataError, match="No built-in data set is called 'mnist'; choose one of old_faithful, iris"):
        load_dataset("mnist")
