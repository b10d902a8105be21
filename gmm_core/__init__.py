"""GMM Explorer's pure core: data, Gaussian mixture fits, model selection, geometry, export.

Only numpy, pandas, scipy and scikit-learn are used here; nothing knows Streamlit or Plotly.
"""

from .datasets import DATASETS, load_dataset, make_blobs_frame
from .errors import DataError, FitError
from .export import FORMULA_PREFIXES, labelled_csv, labelled_frame, neutralise_formula
from .families import COVARIANCE_MEANINGS, COVARIANCE_TYPES, MCLUST_NAMES, n_parameters
from .fit import (
    DEFAULT_MAX_ITER,
    DEFAULT_N_INIT,
    DEFAULT_REG_COVAR,
    DEFAULT_TOL,
    INIT_METHODS,
    FitResult,
    FitSettings,
    fit_gmm,
)
from .geometry import ellipse_points, ellipse_radius, marginal
from .io import FeatureReport, Table, TableReport, feature_matrix, read_table
from .selection import DEFAULT_SWEEP_N_INIT, SWEEP_COLUMNS, sweep

__all__ = [
    "COVARIANCE_MEANINGS",
    "COVARIANCE_TYPES",
    "DATASETS",
    "DEFAULT_MAX_ITER",
    "DEFAULT_N_INIT",
    "DEFAULT_REG_COVAR",
    "DEFAULT_SWEEP_N_INIT",
    "DEFAULT_TOL",
    "INIT_METHODS",
    "MCLUST_NAMES",
    "SWEEP_COLUMNS",
    "FORMULA_PREFIXES",
    "DataError",
    "FeatureReport",
    "FitError",
    "FitResult",
    "FitSettings",
    "Table",
    "TableReport",
    "ellipse_points",
    "ellipse_radius",
    "feature_matrix",
    "fit_gmm",
    "labelled_csv",
    "labelled_frame",
    "load_dataset",
    "make_blobs_frame",
    "marginal",
    "n_parameters",
    "neutralise_formula",
    "read_table",
    "sweep",
]
