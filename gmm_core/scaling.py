"""Checked data, and the one global scale the fits work in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DataError

#: Squared, a spread outside this range overflows or underflows a covariance.
MIN_SCALE, MAX_SCALE = 1e-150, 1e150
#: A column whose spread is below this fraction of the global scale cannot be fitted beside
#: the others in double precision (its variance would underflow).
MIN_COLUMN_RATIO = 1e-140

def check_data(X) -> np.ndarray:
    """``X`` as a float64 matrix (n, d), or ``DataError`` saying what is wrong."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("The data must be numbers only; choose numeric columns.") from None
    if X.ndim != 2:
        raise DataError(f"The data must be a table (n_samples, n_features); got {X.ndim} dimension(s).")
    n, d = X.shape
    if d < 1:
        raise DataError("No feature column is chosen; choose at least one numeric column.")
    if n < 2:
        raise DataError(f"At least 2 rows of data are needed to fit a mixture; got {n}.")
    if not np.isfinite(X).all():
        raise DataError("The data contain missing or infinite values; drop those rows first.")
    return np.ascontiguousarray(X)



@dataclass(frozen=True)
class Scaling:
    """``Z = (X - center) / scale`` with one global ``scale`` for all columns."""

    center: np.ndarray
    scale: float

    @classmethod
    def of(cls, X: np.ndarray) -> "Scaling":
        # Compared with the first row, not the mean: the mean of equal numbers can round off them.
        if (X == X[0]).all():
            raise DataError(
                "All rows are identical, so there is no spread to model. "
                "Choose data with at least two different points."
            )
        center = X.mean(axis=0)
        deviations = X - center
        # Divide by the largest deviation first so squaring cannot overflow or underflow.
        spread = float(np.abs(deviations).max()) if np.isfinite(center).all() else np.inf
        # Root mean square of the column standard deviations.
        column_sd = (deviations / spread).std(axis=0) if np.isfinite(spread) else np.full(X.shape[1], np.inf)
        scale = spread * float(np.sqrt(np.mean(column_sd**2))) if np.isfinite(spread) else spread
        if not MIN_SCALE <= scale <= MAX_SCALE:
            raise DataError(
                f"The data's spread ({scale:.1e}) is outside what covariances can hold in double "
                f"precision ({MIN_SCALE:.0e} to {MAX_SCALE:.0e}). Rescale the columns first, "
                "e.g. divide them by a power of ten, or turn on standardising."
            )
        constant = np.flatnonzero(np.ptp(X, axis=0) == 0)
        if constant.size:
            raise DataError(
                f"Feature column {constant[0] + 1} has the same value in every row, so no covariance can "
                "be estimated with it and it says nothing about clusters. Drop that column."
            )
        # Each column's own spread first, so that a tiny column's variance cannot underflow here.
        column_spread = np.abs(deviations).max(axis=0)
        ratio = column_spread * (deviations / np.where(column_spread > 0, column_spread, 1.0)).std(axis=0) / scale
        tiny = np.flatnonzero(ratio < MIN_COLUMN_RATIO)
        if tiny.size:
            raise DataError(
                f"Feature column {tiny[0] + 1}'s spread is {ratio[tiny[0]]:.0e} of the columns' overall "
                "spread, too small for double precision to fit it beside them. Turn on standardising, "
                "or rescale that column."
            )
        return cls(center=center, scale=scale)

    def forward(self, points) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) - self.center) / self.scale

    def backward(self, points) -> np.ndarray:
        return self.center + self.scale * np.asarray(points, dtype=np.float64)


def column_sd(X: np.ndarray) -> np.ndarray:
    """Each column's population standard deviation, computed on deviations divided by their
    largest first, so that columns near 1e-300 or 1e300 neither underflow to 0 nor overflow."""
    deviations = X - X.mean(axis=0)
    largest = np.abs(deviations).max(axis=0)
    largest = np.where(largest > 0, largest, 1.0)
    return largest * (deviations / largest).std(axis=0)


def spread_ratio(X: np.ndarray) -> float:
    """The largest column standard deviation over the smallest: how far the columns' units are apart."""
    sd = column_sd(np.asarray(X, dtype=np.float64))
    return float(sd.max() / max(sd.min(), np.finfo(float).tiny))
