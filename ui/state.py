"""Session state: every key by name, one ``init`` and typed getters.

Widget keys are the keys of the widgets that write them; page widgets use
``persist_state="session"`` so their values survive page switches. Plain keys
(``DATASET``, ``UPLOADED``, ``SWEEP``, ...) hold state that no widget owns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from gmm_core import (
    DEFAULT_INIT,
    DEFAULT_MAX_ITER,
    DEFAULT_REG_COVAR,
    DEFAULT_SWEEP_N_INIT,
    DEFAULT_TOL,
    MODEL_CHOICES,
    FitResult,
    FitSettings,
    StabilityResult,
    SubsampleInfo,
)
from ui.dataset import SEED_GENERATION, Dataset, seed_dataset

# Sidebar: the model, shared by every page.
COV_TYPE = "cov_type"
N_COMPONENTS = "n_components"
N_INIT = "n_init"
SEED = "seed"
INIT_PARAMS = "init_params"
REG_COVAR = "reg_covar"
TOL = "tol"
MAX_ITER = "max_iter"

# Data page.
SOURCE = "source"
UPLOAD = "upload"
X_COL = "x_col"
Y_COL = "y_col"
EXTRA_COLS = "extra_cols"
LABEL_COL = "label_col"
STANDARDIZE = "standardize"
BUILTIN = "builtin"
GEN_VARIANT = "gen_variant"
GEN_N_SAMPLES = "gen_n_samples"
GEN_CENTERS = "gen_centers"
GEN_SPREAD = "gen_spread"
GEN_SEED = "gen_seed"

# Fit page.
PLOT_X = "plot_x"
PLOT_Y = "plot_y"
ELLIPSE_LEVEL = "ellipse_level"
SHOW_DENSITY = "show_density"
SHOW_UNCERTAINTY = "show_uncertainty"
SHOW_MISCLASSIFIED = "show_misclassified"
SHOW_DIAGNOSTICS = "show_diagnostics"  # the Diagnostics expander, open or not
SHOW_KMEANS = "show_kmeans"  # the k-means expander, open or not
EQUAL_AXES = "equal_axes"
EQUAL_AXES_FOR = "equal_axes_for"  # content hash of the data EQUAL_AXES was last set by default for
PAIRS_COLUMNS = "pairs_columns"  # the scatterplot matrix's columns, when there are more than it shows
PAIRS_UNCERTAINTY = "pairs_uncertainty"
FROM_SCRATCH = "fit_from_scratch"  # the button that refits a warm-started model from init_params
FIT_AGAIN = "fit_again"  # the button that runs a fit the user stopped once more
BACK_TO_PREVIOUS = "back_to_previous"  # the button that brings back the data before unfittable ones

# EM step-through page.
EM_INIT = "em_init"
EM_COV_TYPE = "em_cov_type"
EM_MEANS = "em_means"

# Model selection page.
SWEEP_K_RANGE = "sweep_k_range"
SWEEP_COV_TYPES = "sweep_cov_types"
SWEEP_N_INIT = "sweep_n_init"
RUN_SWEEP = "run_sweep"
CRITERION = "criterion"
SWEEP_GROUPS = "sweep_groups"
SWEEP_VIEW = "sweep_view"
CHOSEN_MODEL = "chosen_model"
USE_MODEL = "use_model"
STABILITY_SEEDS = "stability_seeds"
RUN_STABILITY = "run_stability"

# Export page.
DOWNLOAD_CSV = "download_csv"
DOWNLOAD_JSON = "download_json"
DOWNLOAD_SCRIPT = "download_script"
DOWNLOAD_R_SCRIPT = "download_r_script"

# Plain state.
DATASET = "dataset"  # ui.dataset.Dataset: the data every page works on
UPLOADED = "uploaded"  # ui.dataset.SourceTable: the last uploaded file that was read without error
COLUMNS_FOR = "columns_for"  # key of the table the column widgets were last set for
LAST_GOOD_FIT = "last_good_fit"  # (content hash, FitSettings) of the last fit that worked
SWEEP = "sweep"  # SweepRecord: the last sweep and what it was run on
SWEEP_TRIED = "sweep_tried"  # content hash of the data a sweep last ran (or failed) on by itself
ADOPTED = "adopted"  # (covariance type, K) last set by "Use this model"
COLOURS = "colours"  # ColourMemory: the last fit drawn and its components' colour slots
STABILITY = "stability"  # StabilityRecord: the last stability run and what it was run on
EM_MEANS_FOR = "em_means_for"  # what the initial-means editor was last filled for
STARTS = "starts"  # {(content hash, FitSettings): Start or None} (ui.warm)
LAST_FIT = "last_fit"  # LastFit: the last model shown on large data
LINK_READ = "link_read"  # set once the URL's query parameters were read (ui.share)
LINK_UPLOAD = "link_upload"  # LinkUpload: the file a link was made with, not yet uploaded
DATA_CHOICE = "data_choice"  # the DATA_WIDGETS values that made DATASET
PREVIOUS_DATA = "previous_data"  # DataChoice: the last data that could be fitted, before DATASET
CURRENT_VIEW = "current_view"  # (what it was made for, FitView) of this run of the script
STOPPED = "stopped"  # ui.work.stop_key of the computation the user stopped last

MAX_COMPONENTS = 15
#: Most feature columns a link may name.
MAX_LINK_COLUMNS = 200

#: What makes the current data: the Data page's widgets and the last upload.
DATA_WIDGETS = (
    SOURCE, BUILTIN, GEN_VARIANT, GEN_N_SAMPLES, GEN_CENTERS, GEN_SPREAD, GEN_SEED,
    X_COL, Y_COL, EXTRA_COLS, LABEL_COL, STANDARDIZE, COLUMNS_FOR, UPLOADED,
)


# Records held in session state (which key holds which is said beside the key above).


@dataclass(frozen=True, eq=False)
class Start:
    """Where a fit starts: ``fit_gmm``'s ``weights_init``, ``means_init`` and ``covariances_init``.

    ``origin`` says, for the page, which model they come from; ``key`` identifies the
    values for the fit cache.
    """

    origin: str
    params: dict
    key: str

    @classmethod
    def of(cls, origin: str, params: dict) -> "Start":
        digest = hashlib.sha256()
        for name in sorted(params):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(params[name], dtype=np.float64).tobytes())
        return cls(origin=origin, params=dict(params), key=digest.hexdigest())


@dataclass(frozen=True, eq=False)
class LastFit:
    """The last model shown on large data, as a start for the next fit."""

    content_hash: str
    columns: tuple[str, ...]
    standardize: bool
    n_rows: int
    settings: FitSettings
    start: Start


@dataclass(frozen=True, eq=False)
class FitView:
    """The model to show: the sidebar's, or the last one that worked when the sidebar's cannot be fitted.

    ``slots`` holds the colour slot of each component of ``result`` (see ``ui.widgets.colour_slots``);
    ``start`` is where EM started when it did not start from scratch (see ``ui.warm``).
    """

    result: FitResult | None
    error: str | None = None
    stopped: str | None = None  # the model the user stopped fitting, when they did
    slots: np.ndarray | None = None
    start: Start | None = None


@dataclass(frozen=True, eq=False)
class ShownBefore:
    """The model drawn before the current one on the same data: its label, BIC, and components
    (means (K, d), covariances (K, d, d)) with their colour slots (K,), in the fit's own order."""

    label: str
    bic: float
    means: np.ndarray
    covariances: np.ndarray
    slots: np.ndarray


@dataclass(frozen=True, eq=False)
class ColourMemory:
    """The last fit drawn: the data and settings it was fitted with, its components and their slots,
    its BIC, and the model drawn before it on the same data, if any."""

    content_hash: str
    settings: FitSettings
    means: np.ndarray
    covariances: np.ndarray
    slots: np.ndarray
    bic: float
    before: ShownBefore | None = None


@dataclass(frozen=True, eq=False)
class SweepRecord:
    """A finished sweep: the table of ``gmm_core.sweep`` and what it was run on.

    ``subsample`` says how the sweep chose on a subsample (see ``ui.cache.run_sweep``), else None.
    """

    content_hash: str
    ks: tuple[int, ...]
    covariance_types: tuple[str, ...]
    n_init: int
    settings: dict
    table: pd.DataFrame
    subsample: SubsampleInfo | None = None


@dataclass(frozen=True, eq=False)
class StabilityRecord:
    """A finished stability run (``gmm_core.restart_stability``) and what it was run on."""

    content_hash: str
    ks: tuple[int, ...]
    covariance_types: tuple[str, ...]
    result: StabilityResult
    rows: int  # the rows it refitted (a subsample of large data)


@dataclass(frozen=True)
class LinkUpload:
    """The file a link was made with, which the user has yet to upload, and the view's columns."""

    filename: str
    columns: tuple[str, ...]
    standardize: bool


@dataclass(frozen=True, eq=False)
class DataChoice:
    """A data set and the values of ``DATA_WIDGETS`` that made it."""

    dataset: Dataset
    widgets: dict

#: The seed example's model (its data are ``ui.dataset.SEED_INPUTS``).
MODEL_DEFAULTS: dict[str, object] = {
    COV_TYPE: "full",
    N_COMPONENTS: 3,
    N_INIT: 8,
    SEED: 0,
    INIT_PARAMS: DEFAULT_INIT,
    REG_COVAR: DEFAULT_REG_COVAR,
    TOL: DEFAULT_TOL,
    MAX_ITER: DEFAULT_MAX_ITER,
}

#: The Data page's widgets as they make the seed example.
DATA_DEFAULTS: dict[str, object] = {
    SOURCE: "generate",
    GEN_VARIANT: SEED_GENERATION.variant,
    GEN_N_SAMPLES: SEED_GENERATION.n_samples,
    GEN_CENTERS: SEED_GENERATION.n_centers,
    GEN_SPREAD: ", ".join(f"{s:.1f}" for s in SEED_GENERATION.spread),
    GEN_SEED: SEED_GENERATION.seed,
    BUILTIN: "old_faithful",
    STANDARDIZE: False,
}

PAGE_DEFAULTS: dict[str, object] = {
    ELLIPSE_LEVEL: "95%",
    SHOW_DENSITY: False,
    SHOW_UNCERTAINTY: False,
    SHOW_MISCLASSIFIED: True,
    PAIRS_UNCERTAINTY: False,
    EM_INIT: "random",
    SWEEP_K_RANGE: (1, 9),
    SWEEP_COV_TYPES: list(MODEL_CHOICES),
    SWEEP_N_INIT: DEFAULT_SWEEP_N_INIT,
    CRITERION: "BIC",
    SWEEP_VIEW: "values",
    STABILITY_SEEDS: 5,
}


def init() -> None:
    """Give every key that has a default its value, once per session.

    Runs on every rerun; ``setdefault`` leaves values the user has set alone.
    """
    for key, value in (MODEL_DEFAULTS | DATA_DEFAULTS | PAGE_DEFAULTS).items():
        st.session_state.setdefault(key, value)
    if DATASET not in st.session_state:
        st.session_state[DATASET] = seed_dataset()
    if DATA_CHOICE not in st.session_state:
        st.session_state[DATA_CHOICE] = _data_widgets()


def set_dataset(dataset: Dataset) -> None:
    """Make ``dataset`` the current data, made by the Data page's widgets as they are now.

    The data it replaces stay one click away (``PREVIOUS_DATA``, see :func:`back_to_previous`)
    when a model could be fitted to them; otherwise the data before them stay there.
    """
    s = st.session_state
    current: Dataset | None = s.get(DATASET)
    last_good = s.get(LAST_GOOD_FIT)
    if current is not None and current.content_hash != dataset.content_hash and last_good \
            and last_good[0] == current.content_hash:
        s[PREVIOUS_DATA] = DataChoice(current, s.get(DATA_CHOICE) or {})
    s[DATASET] = dataset
    s[DATA_CHOICE] = _data_widgets()


def back_to_previous() -> None:
    """``on_click`` of "Back to ...": the previous data and the widgets that made them (the uploader
    itself lets go of its file when the Data page is left, so nothing loads the other file again)."""
    s = st.session_state
    previous: DataChoice = s.pop(PREVIOUS_DATA)
    for key in DATA_WIDGETS:
        if key in previous.widgets:
            s[key] = previous.widgets[key]
        else:
            s.pop(key, None)
    s[DATASET] = previous.dataset
    s[DATA_CHOICE] = dict(previous.widgets)


def _data_widgets() -> dict:
    return {key: st.session_state[key] for key in DATA_WIDGETS if key in st.session_state}


def fit_settings() -> FitSettings:
    """The sidebar's model settings."""
    s = st.session_state
    return FitSettings(
        n_components=int(s[N_COMPONENTS]),
        covariance_type=str(s[COV_TYPE]),
        n_init=int(s[N_INIT]),
        random_state=int(s[SEED]),
        init_params=str(s[INIT_PARAMS]),
        reg_covar=float(s[REG_COVAR]),
        tol=float(s[TOL]),
        max_iter=int(s[MAX_ITER]),
    )


def dataset() -> Dataset:
    """The current data set."""
    return st.session_state[DATASET]


def ensure_choice(key: str, options, default) -> None:
    """Reset widget ``key`` to ``default`` when its value is not one of ``options``.

    Call before the widget is drawn, e.g. when a new table brings other columns.
    """
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def ensure_list(key: str, options, default) -> None:
    """Reset multiselect ``key`` to ``default`` when it holds a value that is not one of ``options``."""
    value = st.session_state.get(key)
    if value is None or any(v not in options for v in value):
        st.session_state[key] = list(default)
