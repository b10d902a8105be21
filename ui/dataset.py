"""The data the app works on: a loaded table, then the feature matrix chosen from it.

Pure functions of their arguments (no Streamlit): ``ui.cache`` wraps the slow ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gmm_core import DataError, feature_matrix, load_dataset, make_blobs_frame, read_table, suggest_columns
from gmm_core.scaling import column_sd

BUILTIN_NAMES: dict[str, str] = {"old_faithful": "Old Faithful", "iris": "Iris"}
#: Default feature columns and label column of each built-in data set.
BUILTIN_DEFAULTS: dict[str, tuple[tuple[str, str], str | None]] = {
    "old_faithful": (("eruptions", "waiting"), None),
    "iris": (("petal_length", "petal_width"), "species"),
}
VARIANT_NAMES: dict[str, str] = {
    "blobs": "Blobs (per-cluster spread)",
    "anisotropic": "Anisotropic (sheared)",
    "unequal_variance": "Unequal variance",
}
MAX_GENERATED_SAMPLES = 1_000_000
#: Largest upload in MB: the file uploader's ``max_upload_size`` and the reader's ``max_bytes``
#: (keep ``server.maxUploadSize`` in .streamlit/config.toml equal). 50 MB holds about
#: 2 million rows of a few numeric columns, the reader's row cap.
MAX_UPLOAD_MB = 50


@dataclass(frozen=True)
class Generation:
    """Parameters of generated blobs (``gmm_core.make_blobs_frame``)."""

    variant: str = "blobs"
    n_samples: int = 600
    n_centers: int = 3
    spread: tuple[float, ...] = (1.0, 1.4, 0.8)
    seed: int = 7

    def __post_init__(self):
        # At most one spread per centre (fewer are repeated): extra ones would only lengthen
        # the data's name and the link.
        object.__setattr__(self, "spread", tuple(self.spread[: max(1, self.n_centers)]))


#: The seed example the app opens on.
SEED_GENERATION = Generation()


@dataclass(frozen=True, eq=False)
class SourceTable:
    """A loaded table, before its feature columns are chosen.

    Attributes
    ----------
    key : str
        Identity of the contents: a hash of the uploaded bytes, or of the parameters
        that made the table.
    name : str
        What to call the data on screen.
    stem : str
        Base of the names of downloaded files (not yet sanitised).
    source : dict
        JSON-ready description of where the data came from.
    frame : pandas.DataFrame
        Every row and column as loaded.
    report : tuple of str
        Plain lines on how the file was read (empty for built-in and generated data).
    numeric_columns : tuple of str
    default_columns : tuple of str
        The feature columns chosen at first.
    default_label : str or None
        The column of known labels chosen at first.
    """

    key: str
    name: str
    stem: str
    source: dict
    frame: pd.DataFrame
    report: tuple[str, ...] = ()
    numeric_columns: tuple[str, ...] = ()
    default_columns: tuple[str, ...] = ()
    default_label: str | None = None


#: Above this many rows a sweep chooses on a stratified subsample (``ui.cache.run_sweep``)
#: and fits start warm when they can (``ui.warm``).
LARGE_DATA_ROWS = 20_000


@dataclass(frozen=True, eq=False)
class Dataset:
    """The feature matrix every page works on, and where it came from.

    Attributes
    ----------
    table : SourceTable
    columns : tuple of str
        Feature columns, in the order of the columns of ``X``.
    label_column : str or None
        Column of ``table.frame`` holding known labels, if any.
    standardize : bool
        Whether ``X`` holds z-scores of the columns.
    X : ndarray of shape (n_used, d)
        The matrix the model is fitted to.
    used_rows : ndarray of bool, shape (n_rows,)
        Rows of ``table.frame`` that are in ``X``.
    center, scale : ndarray of shape (d,)
        ``X = (raw - center) / scale``; zeros and ones without standardising.
    content_hash : str
        'sha256:' and the hash of ``X``'s shape and bytes: the cache key of fits.
    report : tuple of str
        Plain lines on which rows were used.
    """

    table: SourceTable
    columns: tuple[str, ...]
    label_column: str | None
    standardize: bool
    X: np.ndarray = field(repr=False)
    used_rows: np.ndarray = field(repr=False)
    center: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    content_hash: str
    report: tuple[str, ...]

    @property
    def is_large(self) -> bool:
        """More than ``LARGE_DATA_ROWS`` rows: large enough to take shortcuts, said on the page."""
        return self.X.shape[0] > LARGE_DATA_ROWS

    @property
    def choice(self) -> tuple:
        """What was chosen to make this data set; equal choices give equal data."""
        return (self.table.key, self.columns, self.label_column, self.standardize)

    @property
    def is_seed(self) -> bool:
        """Whether this is the seed example the app opens on."""
        return self.table.key == generation_key(SEED_GENERATION) and self.columns == ("x", "y")

    @property
    def known_labels(self) -> np.ndarray | None:
        """Known labels of the used rows, as strings, or None."""
        if self.label_column is None:
            return None
        return self.table.frame[self.label_column].to_numpy()[self.used_rows].astype(str)

    @property
    def row_numbers(self) -> np.ndarray:
        """1-based row number in ``table.frame`` of each row of ``X``."""
        return np.flatnonzero(self.used_rows) + 1

    def axis_name(self, column: str) -> str:
        """A column's name as an axis title, marked when it is standardised."""
        return f"{column} (z-score)" if self.standardize else column

    def standardization(self) -> dict[str, list[float]] | None:
        """``center`` and ``scale`` as lists when standardised, else None (for the JSON export)."""
        if not self.standardize:
            return None
        return {"center": self.center.tolist(), "scale": self.scale.tolist()}


def content_hash(X: np.ndarray) -> str:
    """'sha256:<hex>' of ``X``'s shape and bytes: equal only for identical matrices."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    digest = hashlib.sha256(repr(X.shape).encode())
    digest.update(X.tobytes())
    return "sha256:" + digest.hexdigest()


def bytes_hash(data: bytes) -> str:
    """'sha256:<hex>' of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


#: Largest spread of generated blobs: far beyond the centres' box (±10), short of overflowing.
MAX_SPREAD = 1e6


def parse_spread(text: str) -> tuple[float, ...]:
    """Per-cluster spreads from text like '1.0, 1.4, 0.8'.

    Raises
    ------
    DataError
        Unless ``text`` holds one or more positive numbers separated by commas or spaces.
    """
    parts = [part for part in text.replace(",", " ").replace(";", " ").split() if part]
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if not values or not all(np.isfinite(v) and 0 < v <= MAX_SPREAD for v in values):
        raise DataError(
            f"The spread must be one or more positive numbers up to {MAX_SPREAD:,.0f} separated by commas, "
            "such as 1.0, 1.4, 0.8 (one per centre, repeated if there are fewer; the centres lie within ±10)."
        )
    return values


def generation_key(generation: Generation) -> str:
    """Identity of the blobs ``generation`` makes."""
    return f"generated:{generation!r}"


def generated_table(generation: Generation) -> SourceTable:
    """Blobs made by ``gmm_core.make_blobs_frame``, with their true component as known labels."""
    g = generation
    if not 1 <= g.n_centers <= g.n_samples <= MAX_GENERATED_SAMPLES:
        raise DataError(
            f"Choose between 1 and {MAX_GENERATED_SAMPLES:,} points and at most as many centres as "
            f"points; got {g.n_samples:,} points and {g.n_centers} centres."
        )
    frame = make_blobs_frame(
        n_samples=g.n_samples,
        n_components=g.n_centers,
        cluster_std=g.spread,
        random_state=g.seed,
        variant=g.variant,
    )
    spread = ", ".join(f"{s:g}" for s in g.spread)
    return SourceTable(
        key=generation_key(g),
        name=f"{g.variant} ({g.n_samples:,} points, {g.n_centers} centres, spread {spread}, seed {g.seed})",
        stem=g.variant,
        source={
            "kind": "generated",
            "generator": "gmm_core.make_blobs_frame",
            "variant": g.variant,
            "n_samples": g.n_samples,
            "n_centers": g.n_centers,
            "cluster_std": list(g.spread),
            "random_state": g.seed,
        },
        frame=frame,
        numeric_columns=("x", "y"),
        default_columns=("x", "y"),
        default_label="true_component",
    )


def builtin_table(name: str) -> SourceTable:
    """A built-in data set ('old_faithful' or 'iris')."""
    frame = load_dataset(name)
    columns, label = BUILTIN_DEFAULTS[name]
    return SourceTable(
        key=f"builtin:{name}",
        name=BUILTIN_NAMES[name],
        stem=name,
        source={"kind": "builtin", "name": name},
        frame=frame,
        numeric_columns=tuple(c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])),
        default_columns=columns,
        default_label=label,
    )


def uploaded_table(filename: str, data: bytes) -> SourceTable:
    """An uploaded CSV file read by ``gmm_core.read_table``; raises ``DataError`` for a bad file."""
    table = read_table(data, filename=filename, max_bytes=MAX_UPLOAD_MB * 1024**2)
    numeric = table.numeric_columns
    suggested = suggest_columns(table)
    key = bytes_hash(data)
    return SourceTable(
        key=key,
        name=filename or "uploaded file",
        stem=filename or "upload",
        source={"kind": "upload", "filename": filename, "file_hash": key, "n_bytes": len(data)},
        frame=table.frame,
        report=table.report.lines(),
        numeric_columns=numeric,
        default_columns=suggested.features if len(suggested.features) >= 2 else tuple(numeric[:2]),
        default_label=suggested.label,
    )


def build_dataset(
    table: SourceTable, columns, *, label_column: str | None = None, standardize: bool = False
) -> Dataset:
    """The matrix of ``columns`` of ``table`` (rows with a number in each), z-scored if asked.

    Raises
    ------
    DataError
        No column, unusable columns, too few complete rows, or a constant column to
        standardise.
    """
    columns = tuple(columns)
    if not columns:
        raise DataError("Choose at least one feature column.")
    X, report = feature_matrix(table.frame, columns)
    d = X.shape[1]
    center, scale = np.zeros(d), np.ones(d)
    constant = [name for name, low, high in zip(columns, X.min(axis=0), X.max(axis=0)) if low == high]
    # Every column constant: the fit says that all rows are identical.
    if 0 < len(constant) < d:
        raise DataError(
            f"Column {constant[0]!r} has the same value in every used row, so it says nothing about "
            "clusters and no covariance can be estimated with it. Choose another column."
        )
    if standardize:
        center, scale = X.mean(axis=0), column_sd(X)
        X = (X - center) / scale
    X = np.ascontiguousarray(X)
    X.flags.writeable = False
    return Dataset(
        table=table,
        columns=columns,
        label_column=label_column,
        standardize=bool(standardize),
        X=X,
        used_rows=np.asarray(report.used_rows, dtype=bool),
        center=center,
        scale=scale,
        content_hash=content_hash(X),
        report=report.lines(),
    )


def seed_dataset() -> Dataset:
    """The seed example: 600 blobs, 3 centres, spreads (1.0, 1.4, 0.8), seed 7."""
    table = generated_table(SEED_GENERATION)
    return build_dataset(table, table.default_columns, label_column=table.default_label)
