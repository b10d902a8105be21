"""Built-in data: Old Faithful, Iris and generated blobs."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris, make_blobs

from .errors import DataError

BLOB_VARIANTS: tuple[str, ...] = ("blobs", "anisotropic", "unequal_variance")
DATASETS: tuple[str, ...] = ("old_faithful", "iris", *BLOB_VARIANTS)

#: Shear applied by the anisotropic variant (scikit-learn's k-means gallery uses the same).
ANISOTROPIC_TRANSFORM = np.array([[0.6, -0.6], [-0.4, 0.8]])


def make_blobs_frame(
    *,
    n_samples: int = 600,
    n_components: int = 3,
    cluster_std=(1.0, 1.4, 0.8),
    random_state: int = 7,
    variant: str = "blobs",
    center_box: tuple[float, float] = (-10.0, 10.0),
) -> pd.DataFrame:
    """Gaussian blobs as a DataFrame with columns ``x``, ``y`` and ``true_component``.

    Parameters
    ----------
    n_samples : int, default=600
        Total points, split as evenly as possible between the blobs.
    n_components : int, default=3
        Number of blobs.
    cluster_std : float or sequence of float, default=(1.0, 1.4, 0.8)
        Spread of each blob; a sequence is cycled to ``n_components`` values.
    random_state : int, default=7
    variant : {'blobs', 'anisotropic', 'unequal_variance'}, default='blobs'
        'anisotropic' shears the plane so blobs become tilted ellipses;
        'unequal_variance' spreads the blobs 1x, 2.5x, 0.5x, ... ``cluster_std``.
    center_box : (float, float), default=(-10, 10)
        Range of the blob centres.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, 3)
    """
    if variant not in BLOB_VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, BLOB_VARIANTS))}; got {variant!r}.")
    if n_components < 1 or n_samples < n_components:
        raise ValueError(
            f"Need 1 <= n_components <= n_samples; got n_components={n_components}, n_samples={n_samples}."
        )
    stds = np.resize(np.atleast_1d(np.asarray(cluster_std, dtype=np.float64)), n_components)
    if variant == "unequal_variance":
        stds = stds * np.resize([1.0, 2.5, 0.5], n_components)
    X, y = make_blobs(
        n_samples=n_samples,
        n_features=2,
        centers=n_components,
        cluster_std=stds,
        center_box=center_box,
        random_state=random_state,
    )
    if variant == "anisotropic":
        X = X @ ANISOTROPIC_TRANSFORM
    return pd.DataFrame({"x": X[:, 0], "y": X[:, 1], "true_component": y + 1})


def load_dataset(name: str, **options) -> pd.DataFrame:
    """A built-in data set as a DataFrame.

    Parameters
    ----------
    name : {'old_faithful', 'iris', 'blobs', 'anisotropic', 'unequal_variance'}
        'old_faithful': 272 eruptions of the Old Faithful geyser, columns
        ``eruptions`` (minutes) and ``waiting`` (minutes to the next one).
        'iris': Fisher's 150 irises, four measurements in cm and ``species``.
        The others are :func:`make_blobs_frame` variants; ``options`` go to it.

    Returns
    -------
    pandas.DataFrame
    """
    if name == "old_faithful":
        with resources.files(__package__).joinpath("data/old_faithful.csv").open("rb") as handle:
            return pd.read_csv(handle, dtype="float64")
    if name == "iris":
        iris = load_iris(as_frame=True)
        frame = iris.frame.drop(columns="target")
        frame.columns = [c.replace(" (cm)", "").replace(" ", "_") for c in frame.columns]
        frame["species"] = pd.Categorical.from_codes(iris.target, iris.target_names).astype(str)
        return frame
    if name in BLOB_VARIANTS:
        return make_blobs_frame(variant=name, **options)
    raise DataError(f"No built-in data set is called {name!r}; choose one of {', '.join(DATASETS)}.")
