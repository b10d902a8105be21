"""A fitted mixture as a self-describing JSON document (no Streamlit here)."""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import metadata

import numpy as np

from .families import model_meaning
from .fit import FitResult

FORMAT = "gmm-explorer/model"
FORMAT_VERSION = 1
#: Distributions whose versions are recorded, so a model can be reproduced.
LIBRARIES: tuple[str, ...] = ("scikit-learn", "numpy", "scipy", "pandas", "streamlit", "plotly")


def library_versions(names: Sequence[str] = LIBRARIES) -> dict[str, str | None]:
    """Installed version of each distribution in ``names`` (None if it is not installed), and Python's."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def model_document(
    result: FitResult,
    *,
    source: Mapping,
    content_hash: str,
    feature_names: Sequence[str],
    standardize: Mapping[str, Sequence[float]] | None = None,
) -> dict:
    """Everything needed to understand, reproduce and reuse a fit, as JSON-ready values.

    Parameters
    ----------
    result : FitResult
    source : mapping
        JSON-ready description of where the data came from (file name, built-in
        data set or generator parameters).
    content_hash : str
        Hash of the exact matrix the model was fitted to, e.g. ``'sha256:...'``.
    feature_names : sequence of str, length d
        Names of the feature columns, in the order of the model's dimensions.
    standardize : mapping with 'center' and 'scale', each of length d, optional
        When the columns were standardised before fitting, ``z = (x - center) / scale``;
        the model's parameters are then in z units.

    Returns
    -------
    dict
        Keys ``format``, ``format_version``, ``created``, ``model`` (weights, means,
        full covariances, covariance type, K), ``fit`` (criteria, convergence,
        warnings), ``settings`` (every fit setting), ``start`` (``result.start``: the
        starting weights, means and precisions when EM did not start from
        ``init_params``, else empty), ``data`` (source, content hash,
        features, rows, preprocessing) and ``library_versions``. Non-finite numbers
        are None.
    """
    feature_names = [str(name) for name in feature_names]
    if len(feature_names) != result.n_features:
        raise ValueError(
            f"feature_names must name the model's {result.n_features} features; got {len(feature_names)}."
        )
    preprocessing = {"standardize": standardize is not None}
    if standardize is not None:
        preprocessing |= {"center": list(standardize["center"]), "scale": list(standardize["scale"])}
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {
            "covariance_type": result.covariance_type,
            "mclust_name": result.mclust_name,
            "covariance_meaning": model_meaning(result.covariance_type, result.n_features),
            "n_components": result.n_components,
            "n_features": result.n_features,
            "feature_names": feature_names,
            "weights": result.weights,
            "means": result.means,
            "covariances": result.covariances,
            "covariances_note": "full d x d matrix per component, whatever the covariance type",
        },
        "fit": {
            "n_samples": result.n_samples,
            "log_likelihood": result.log_likelihood,
            "mean_log_likelihood": result.mean_log_likelihood,
            "bic": result.bic,
            "aic": result.aic,
            "icl": result.icl,
            "criteria_sign": "lower is better (scikit-learn); mclust reports the negatives",
            "n_parameters": result.n_parameters,
            "converged": result.converged,
            "n_iter": result.n_iter,
            "degenerate": result.degenerate,
            "warnings": list(result.warnings),
        },
        "settings": asdict(result.settings),
        # Empty when EM started from init_params; else the given start, and n_init did not apply.
        "start": dict(result.start),
        "data": {
            "source": dict(source),
            "content_hash": content_hash,
            "feature_names": feature_names,
            "n_rows_used": result.n_samples,
            "preprocessing": preprocessing,
        },
        "library_versions": library_versions(),
    }
    return _json_ready(document)


def model_json(document: Mapping) -> str:
    """``document`` as strict, indented JSON text (no NaN or Infinity)."""
    return json.dumps(_json_ready(document), indent=2, allow_nan=False, ensure_ascii=False)


def _json_ready(value):
    """``value`` with numpy arrays and scalars as lists and floats, non-finite floats as None."""
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value
