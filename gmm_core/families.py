"""The four covariance structures, their mclust names and their parameter counts."""

from __future__ import annotations

COVARIANCE_TYPES: tuple[str, ...] = ("full", "tied", "diag", "spherical")

#: mclust's three-letter name of each scikit-learn covariance type
#: (volume, shape, orientation: E = equal, V = variable, I = identity).
MCLUST_NAMES: dict[str, str] = {
    "full": "VVV",
    "tied": "EEE",
    "diag": "VVI",
    "spherical": "VII",
}

#: One line per covariance type, in plain words, for menus and legends.
COVARIANCE_MEANINGS: dict[str, str] = {
    "full": "each component has its own ellipse: any size, shape and tilt",
    "tied": "all components share one ellipse: same size, shape and tilt",
    "diag": "each component has its own axis-aligned ellipse",
    "spherical": "each component is a circle of its own size",
}


def check_covariance_type(covariance_type: str) -> str:
    """Return ``covariance_type`` if it is known, else raise ``ValueError``."""
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {', '.join(map(repr, COVARIANCE_TYPES))}; "
            f"got {covariance_type!r}."
        )
    return covariance_type


def n_parameters(n_components: int, n_features: int, covariance_type: str) -> int:
    """Number of free parameters of a Gaussian mixture, as scikit-learn and mclust count them.

    Parameters
    ----------
    n_components : int
        Number of mixture components K.
    n_features : int
        Number of features d.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}

    Returns
    -------
    int
        ``covariance + K * d + K - 1`` where the covariance count is ``K d (d + 1) / 2``
        (full), ``d (d + 1) / 2`` (tied), ``K d`` (diag) or ``K`` (spherical).
    """
    k, d = n_components, n_features
    covariance = {
        "full": k * d * (d + 1) // 2,
        "tied": d * (d + 1) // 2,
        "diag": k * d,
        "spherical": k,
    }[check_covariance_type(covariance_type)]
    return covariance + k * d + k - 1
