"""Covariance ellipses of 2-D Gaussians, marginals of wider ones, and the volume, shape and
orientation of covariances."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import logsumexp

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


def weighted_log_densities(points: np.ndarray, weights, means, covariances) -> np.ndarray:
    """``log w_k + log N(x | mu_k, S_k)`` of each component at each row of ``points``.

    Parameters
    ----------
    points : ndarray of shape (m, d)
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d)
    covariances : ndarray of shape (K, d, d)

    Returns
    -------
    ndarray of shape (m, K)
    """
    return np.column_stack([
        np.log(w) + stats.multivariate_normal(mean=m, cov=c, allow_singular=True).logpdf(points).reshape(-1)
        for w, m, c in zip(weights, means, covariances)
    ])


def log_mixture_density(points: np.ndarray, weights, means, covariances) -> np.ndarray:
    """``log sum_k w_k N(x | mu_k, S_k)`` at each row of ``points`` (shapes as :func:`weighted_log_densities`)."""
    return logsumexp(weighted_log_densities(points, weights, means, covariances), axis=1)


def marginal(means: np.ndarray, covariances: np.ndarray, columns):
    """Exact marginal of every component on some feature columns (a pair for an ellipse).

    Parameters
    ----------
    means : ndarray of shape (K, d)
    covariances : ndarray of shape (K, d, d)
    columns : sequence of int, length m

    Returns
    -------
    means : ndarray of shape (K, m)
    covariances : ndarray of shape (K, m, m)
    """
    index = np.asarray(columns)
    return means[:, index], covariances[:, index[:, None], index[None, :]]


@dataclass(frozen=True)
class CovarianceTerms:
    """Celeux & Govaert's terms of each covariance, ``Sigma_k = volume_k D_k diag(shape_k) D_k^T``.

    Attributes
    ----------
    volume : ndarray of shape (K,)
        ``det(Sigma_k) ** (1 / d)``.
    shape : ndarray of shape (K, d)
        Axis lengths squared relative to the volume (their product is 1): largest first;
        in column order for axis-aligned models, and in the shared axes' order (longest on
        average first) for models of equal orientation.
    orientation : ndarray of shape (K, d, d)
        The axes as columns (the identity for axis-aligned models), each with its largest
        entry positive.
    """

    volume: np.ndarray
    shape: np.ndarray
    orientation: np.ndarray


def covariance_terms(covariances: np.ndarray, model: str) -> CovarianceTerms:
    """Volume, shape and orientation of each covariance of a fit of ``model`` (an mclust name).

    Parameters
    ----------
    covariances : ndarray of shape (K, d, d)
    model : str
        mclust's name (one of ``MODELS``, or E and V for one column): axis-aligned models
        (third letter I, and one column) keep the columns as axes.

    Returns
    -------
    CovarianceTerms
    """
    covariances = np.asarray(covariances, dtype=np.float64)
    K, d, _ = covariances.shape
    if d == 1 or model[-1] == "I":
        eigenvalues = np.einsum("kii->ki", covariances).copy()
        axes = np.broadcast_to(np.eye(d), (K, d, d)).copy()
    elif model[-1] == "E":
        # One orientation for all: it diagonalises every covariance, and so their sum scaled to
        # equal volumes, whose axes keep one order for every component even when shapes differ.
        symmetric = (covariances + covariances.transpose(0, 2, 1)) / 2
        volumes = np.exp(np.linalg.slogdet(symmetric)[1] / d)
        _, common = np.linalg.eigh((symmetric / volumes[:, None, None]).sum(axis=0))
        axes = np.broadcast_to(common[:, ::-1], (K, d, d)).copy()
        eigenvalues = np.einsum("kji,kjl,kli->ki", axes, symmetric, axes)
    else:
        eigenvalues, axes = np.linalg.eigh((covariances + covariances.transpose(0, 2, 1)) / 2)
        eigenvalues, axes = eigenvalues[:, ::-1], axes[:, :, ::-1]
    if not (d == 1 or model[-1] == "I"):
        flip = np.sign(np.take_along_axis(axes, np.abs(axes).argmax(axis=1)[:, None, :], axis=1))
        axes = axes * np.where(flip == 0, 1.0, flip)
    eigenvalues = np.clip(eigenvalues, np.finfo(float).tiny, None)
    volume = np.exp(np.log(eigenvalues).mean(axis=1))
    return CovarianceTerms(volume=volume, shape=eigenvalues / volume[:, None], orientation=axes)


#: Examples of the three terms for :func:`example_covariances`: equal or variable.
_EXAMPLE_VOLUMES = {"E": (1.0, 1.0, 1.0), "V": (1.0, 2.4, 0.4)}
_EXAMPLE_ELONGATIONS = {"I": (1.0, 1.0, 1.0), "E": (3.0, 3.0, 3.0), "V": (3.0, 1.3, 6.0)}
_EXAMPLE_ANGLES = {"I": (0.0, 0.0, 0.0), "E": (30.0, 30.0, 30.0), "V": (30.0, 105.0, 160.0)}
#: Where the three example components sit.
EXAMPLE_MEANS = np.array([[0.0, 0.0], [4.5, 0.0], [2.25, 3.9]])


def example_covariances(model: str) -> np.ndarray:
    """Three 2-D covariances that ``model`` (an mclust name) allows, each term as free as it may be.

    An equal term is the same for the three; a variable one differs; spherical shape
    is a circle and identity orientation keeps the axes on the columns. For pictures
    of what a model can and cannot draw.

    Returns
    -------
    ndarray of shape (3, 2, 2)
    """
    volume, shape, orientation = model if len(model) == 3 else (model, "I", "I")
    out = np.empty((3, 2, 2))
    for k in range(3):
        elongation = _EXAMPLE_ELONGATIONS[shape][k]
        angle = np.radians(_EXAMPLE_ANGLES[orientation if shape != "I" else "I"][k])
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        axes = np.diag([np.sqrt(elongation), 1.0 / np.sqrt(elongation)])
        out[k] = _EXAMPLE_VOLUMES[volume][k] * rotation @ axes @ rotation.T
    return out
