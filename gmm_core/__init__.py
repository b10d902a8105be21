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
from .em_trace import DEFAULT_TRACE_MAX_ITER, EMTrace, em_trace, initial_means
from .evidence import EVIDENCE_COLUMNS, KASS_RAFTERY, bic_evidence, kass_raftery, model_name, recommendation
from .geometry import ellipse_points, ellipse_radius, marginal
from .matching import LabelMatch, match_components, match_labels
from .io import FeatureReport, Table, TableReport, feature_matrix, read_table
from .reproduce import reproduction_script
from .selection import DEFAULT_SWEEP_N_INIT, SWEEP_COLUMNS, sweep
from .stability import (
    DIAGNOSTIC_COLUMNS,
    RESTART_COLUMNS,
    STABILITY_FIT_COLUMNS,
    STABILITY_MODEL_COLUMNS,
    StabilityResult,
    fit_diagnostics,
    restart_report,
    restart_stability,
)

__all__ = [
    "COVARIANCE_MEANINGS",
    "COVARIANCE_TYPES",
    "DATASETS",
    "DEFAULT_MAX_ITER",
    "DEFAULT_N_INIT",
    "DEFAULT_REG_COVAR",
    "DEFAULT_SWEEP_N_INIT",
    "DEFAULT_TOL",
    "DEFAULT_TRACE_MAX_ITER",
    "DIAGNOSTIC_COLUMNS",
    "EVIDENCE_COLUMNS",
    "FORMULA_PREFIXES",
    "INIT_METHODS",
    "KASS_RAFTERY",
    "MCLUST_NAMES",
    "RESTART_COLUMNS",
    "STABILITY_FIT_COLUMNS",
    "STABILITY_MODEL_COLUMNS",
    "SWEEP_COLUMNS",
    "DataError",
    "EMTrace",
    "FeatureReport",
    "FitError",
    "FitResult",
    "FitSettings",
    "LabelMatch",
    "StabilityResult",
    "Table",
    "TableReport",
    "bic_evidence",
    "ellipse_points",
    "ellipse_radius",
    "em_trace",
    "feature_matrix",
    "fit_diagnostics",
    "fit_gmm",
    "initial_means",
    "kass_raftery",
    "labelled_csv",
    "labelled_frame",
    "load_dataset",
    "make_blobs_frame",
    "marginal",
    "match_components",
    "match_labels",
    "model_name",
    "n_parameters",
    "neutralise_formula",
    "read_table",
    "recommendation",
    "reproduction_script",
    "restart_report",
    "restart_stability",
    "sweep",
]
