import numpy as np
import pytest

from gmm_core import load_dataset


@pytest.fixture(scope="session")
def faithful() -> np.ndarray:
    return load_dataset("old_faithful")[["eruptions", "waiting"]].to_numpy()


@pytest.fixture(scope="session")
def blobs() -> np.ndarray:
    return load_dataset("blobs", n_samples=300)[["x", "y"]].to_numpy()
