"""Covariance ellipses of 2-D Gaussians, and marginals of wider ones."""

from __future__ import annotations

import numpy as np
from scipy import stats

#: Ellipse levels offered in the app: probability mass, or "k sigma" in Mahalanobis units.
SIGMA_LEVELS: tuple[float, ...] = (1.0, 2.0, 3.0)
MASS_LEVELS: tuple[float, ...] = (0.5, 0.9, 0.95)


def ellipse_radius(*, mass: float | None = None, sigma: float | None = None) -> float:
    """Mahalanobis radius of a 2-D Gaussian's region holding ``mass``, or of ``sigma``.

    Exactly one of ``mass`` (in (0, 1)) and ``sigma`` (> 0) is given. The region
    ``{x : (x - mu)' S^-1 (x - mu) <= r^2}`` holds mass ``chi2_2.cdf(r^2)``.
    """
    if (mass is None) == (sigma is None):
        raise ValueError("Give exactly one of mass and sigma.")
    if sigma is not None:
        if not np.isfinite(sigma) or sigma <= 0:
            raise ValueError(f"sigma must be a finite float > 0; got {sigma!r}.")
        return float(sigma)
    if not 0 < mass < 1:
        raise ValueError(f"mass must be in (0, 1); got {mass!r}.")
    return float(np.sqrt(stats.chi2.ppf(mass, df=2)))


def ellipse_points(
    mean,
    covariance,
    *,
    mass: float | None = 0.95,
    sigma: float | None = None,
    n_points: int = 100,
) -> np.ndarray:
    """Boundary of the region holding ``mass`` of a 2-D Gaussian (or at ``sigma``).

    Parameters
    ----------
    mean : array-like of shape (2,)
    covariance : array-like of shape (2, 2)
        Symmetric positive semi-definite.
    mass : float in (0, 1), default=0.95
        Probability mass inside the ellipse; semi-axes are
        ``sqrt(chi2_2.ppf(mass) * eigenvalue)``. Ignored when ``sigma`` is given.
    sigma : float, optional
        Mahalanobis radius instead of a mass (1, 2, 3 sigma).
    n_points : int, default=100
        Points on the closed outline; the last equals the first.

    Returns
    -------
    ndarray of shape (n_points, 2)
    """
    mean = np.asarray(mean, dtype=np.float64)
    covariance = np.asarray(covariance, dtype=np.float64)
    if mean.shape != (2,) or covariance.shape != (2, 2):
        raise ValueError(
            f"mean must have shape (2,) and covariance (2, 2); got {mean.shape} and {covariance.shape}."
        )
    if n_points < 3:
        raise ValueError(f"n_points must be >= 3; got {n_points!r}.")
    radius = ellipse_radius(mass=None if sigma is not None else mass, sigma=sigma)
    eigenvalues, eigenvectors = np.linalg.eigh((covariance + covariance.T) / 2)
    semi_axes = radius * np.sqrt(np.clip(eigenvalues, 0.0, None))
    angle = np.linspace(0.0, 2.0 * np.pi, n_points)
    circle = np.column_stack([np.cos(angle), np.sin(angle)])
    outline = mean + (circle * semi_axes) @ eigenvectors.T
    outline[-1] = outline[0]  # exactly closed, whatever sin(2 pi) rounds to
    return outline


def marginal(means: np.ndarray, covariances: np.ndarray, columns: tuple[int, int]):
    """Exact marginal of every component on two feature columns.

    Parameters
    ----------
    means : ndarray of shape (K, d)
    covariances : ndarray of shape (K, d, d)
    columns : pair of int

    Returns
    -------
    means : ndarray of shape (K, 2)
    covariances : ndarray of shape (K, 2, 2)
    """
    index = np.asarray(columns)
    return means[:, index], covariances[:, index[:, None], index[None, :]]
