"""GMM Explorer's pure core: data, Gaussian mixture fits, model selection, geometry, export.

Only numpy, pandas, scipy and scikit-learn are used here; nothing knows Streamlit or Plotly.
"""

from .datasets import DATASETS, load_dataset, make_blobs_frame
from .errors import DataError, FitError, Stopped
from .export import FORMULA_PREFIXES, labelled_csv, labelled_frame, neutralise_formula
from .criteria import Criteria, eligible, information_criteria
from .engine import INIT_METHODS, STOPPING_RULES
from .families import (
    COVARIANCE_MEANINGS,
    COVARIANCE_TYPES,
    MCLUST_NAMES,
    MODEL_CHOICES,
    MODEL_GROUPS,
    MODEL_MEANINGS,
    MODELS,
    ONE_D_MODELS,
    display_name,
    model_meaning,
    model_name,
    n_parameters,
)
from .fit import (
    DEFAULT_INIT,
    DEFAULT_MAX_ITER,
    DEFAULT_N_INIT,
    DEFAULT_REG_COVAR,
    DEFAULT_STOPPING,
    DEFAULT_TOL,
    MAX_REG_COVAR,
    RESTART_COLUMNS,
    FitResult,
    FitSettings,
    fit_gmm,
)
from .em_trace import DEFAULT_TRACE_MAX_ITER, EMTrace, em_trace, initial_means
from .evidence import EVIDENCE_COLUMNS, KASS_RAFTERY, bic_evidence, describe_model, kass_raftery, recommendation
from .geometry import CovarianceTerms, covariance_terms, ellipse_points, ellipse_radius, example_covariances, marginal
from .matching import LabelMatch, match_components, match_labels
from .io import ColumnSuggestion, FeatureReport, Table, TableReport, feature_matrix, read_table, suggest_columns
from .reproduce import mclust_script, reproduction_script
from .selection import DEFAULT_SWEEP_N_INIT, SWEEP_COLUMNS, SubsampleInfo, SweepResult, estimated_sweep_seconds, sweep
from .stability import (
    DIAGNOSTIC_COLUMNS,
    STABILITY_FIT_COLUMNS,
    STABILITY_MODEL_COLUMNS,
    StabilityResult,
    fit_diagnostics,
    restart_stability,
)
from .work import Work

__all__ = [
    "COVARIANCE_MEANINGS",
    "COVARIANCE_TYPES",
    "DATASETS",
    "DEFAULT_INIT",
    "DEFAULT_MAX_ITER",
    "DEFAULT_N_INIT",
    "DEFAULT_REG_COVAR",
    "DEFAULT_STOPPING",
    "DEFAULT_SWEEP_N_INIT",
    "DEFAULT_TOL",
    "DEFAULT_TRACE_MAX_ITER",
    "DIAGNOSTIC_COLUMNS",
    "EVIDENCE_COLUMNS",
    "FORMULA_PREFIXES",
    "INIT_METHODS",
    "KASS_RAFTERY",
    "MCLUST_NAMES",
    "MODELS",
    "MODEL_CHOICES",
    "MODEL_GROUPS",
    "MODEL_MEANINGS",
    "ONE_D_MODELS",
    "MAX_REG_COVAR",
    "RESTART_COLUMNS",
    "STABILITY_FIT_COLUMNS",
    "STABILITY_MODEL_COLUMNS",
    "STOPPING_RULES",
    "SWEEP_COLUMNS",
    "Criteria",
    "DataError",
    "EMTrace",
    "FeatureReport",
    "FitError",
    "Stopped",
    "FitResult",
    "FitSettings",
    "LabelMatch",
    "StabilityResult",
    "SubsampleInfo",
    "SweepResult",
    "Table",
    "TableReport",
    "Work",
    "bic_evidence",
    "describe_model",
    "display_name",
    "eligible",
    "CovarianceTerms",
    "covariance_terms",
    "ellipse_points",
    "example_covariances",
    "ellipse_radius",
    "em_trace",
    "feature_matrix",
    "fit_diagnostics",
    "fit_gmm",
    "information_criteria",
    "initial_means",
    "kass_raftery",
    "labelled_csv",
    "labelled_frame",
    "load_dataset",
    "make_blobs_frame",
    "marginal",
    "match_components",
    "match_labels",
    "model_meaning",
    "model_name",
    "n_parameters",
    "neutralise_formula",
    "read_table",
    "suggest_columns",
    "ColumnSuggestion",
    "recommendation",
    "mclust_script",
    "reproduction_script",
    "restart_stability",
    "estimated_sweep_seconds",
    "sweep",
]
