"""The current view as a link: the sidebar's model and built-in or generated data in the URL.

:func:`write_link` puts them into ``st.query_params`` after every run, so the address
bar always holds a link to what is on screen; :func:`read_link` applies a link's
parameters once per session, on its first run, before ``state.init`` fills in the
defaults. Invalid values are ignored and named in a toast; settings whose fit could
take longer than ``gmm_core.budget.LINK_SECONDS`` are lowered, with a toast saying
so. An uploaded file cannot travel in a link: the link names it (``upload``) and its
columns, and opens with a notice to upload it; its columns are chosen once it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import streamlit as st

from gmm_core import INIT_METHODS, MAX_REG_COVAR, MODEL_CHOICES, ONE_D_MODELS, DataError
from gmm_core.budget import LINK_SECONDS, clamp_to_budget, worst_fit_seconds
from ui import cache, state
from ui.data_controls import NO_LABEL
from ui.dataset import (
    BUILTIN_NAMES,
    MAX_GENERATED_SAMPLES,
    SEED_GENERATION,
    VARIANT_NAMES,
    Dataset,
    Generation,
    SourceTable,
    build_dataset,
    parse_spread,
    seed_dataset,
)
from ui.figures import ELLIPSE_LEVELS
from ui.tables import CRITERIA
from ui.text import escape_markdown
from ui.widgets import MAX_SEED

Parser = Callable[[str], object]
#: Characters of a file or column name kept from a link.
MAX_LINK_FILENAME = 200


def _choice(options) -> Parser:
    """A parser accepting exactly one of ``options``."""

    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(text)
        return text

    return parse


def _integer(low: int, high: int) -> Parser:
    """A parser of whole numbers from ``low`` to ``high``."""

    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return parse


def _number(low: float, high: float) -> Parser:
    """A parser of finite numbers from ``low`` to ``high``."""

    def parse(text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(text)
        return value

    return parse


#: Query parameter -> (session-state key of its sidebar widget, parser); the widgets' own limits.
MODEL_PARAMS: dict[str, tuple[str, Parser]] = {
    "cov_type": (state.COV_TYPE, _choice(MODEL_CHOICES + ONE_D_MODELS)),
    "n_components": (state.N_COMPONENTS, _integer(1, state.MAX_COMPONENTS)),
    "n_init": (state.N_INIT, _integer(1, 100)),
    "seed": (state.SEED, _integer(0, MAX_SEED)),
    "init": (state.INIT_PARAMS, _choice(INIT_METHODS)),
    "reg_covar": (state.REG_COVAR, _number(0.0, MAX_REG_COVAR)),
    "tol": (state.TOL, _number(1e-12, 1.0)),
    "max_iter": (state.MAX_ITER, _integer(1, 100_000)),
}
def _flag(text: str) -> bool:
    """'1' or '0'."""
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"


def _k_range(text: str) -> tuple[int, int]:
    """'2-7': a K range within 1..MAX_COMPONENTS."""
    low, high = (int(part) for part in text.split("-"))
    if not 1 <= low <= high <= state.MAX_COMPONENTS:
        raise ValueError(text)
    return low, high


def _models(texts: list[str]) -> list[str]:
    """One or more distinct models of the menu."""
    if not texts or len(set(texts)) != len(texts) or not set(texts) <= set(MODEL_CHOICES):
        raise ValueError(texts)
    return [m for m in MODEL_CHOICES if m in texts]


#: How the view is drawn and the sweep set up: query parameter -> (session-state key of its page
#: widget, parser of the parameter, writer of the value). Written only when not the default.
VIEW_PARAMS: dict[str, tuple[str, Parser, Callable]] = {
    "level": (state.ELLIPSE_LEVEL, _choice(ELLIPSE_LEVELS), str),
    "density": (state.SHOW_DENSITY, _flag, lambda on: "1" if on else "0"),
    "uncertainty": (state.SHOW_UNCERTAINTY, _flag, lambda on: "1" if on else "0"),
    "misclassified": (state.SHOW_MISCLASSIFIED, _flag, lambda on: "1" if on else "0"),
    "sweep_k": (state.SWEEP_K_RANGE, _k_range, lambda pair: f"{pair[0]}-{pair[1]}"),
    "sweep_models": (state.SWEEP_COV_TYPES, _models, list),
    "sweep_n_init": (state.SWEEP_N_INIT, _integer(1, 50), str),
    "criterion": (state.CRITERION, _choice(CRITERIA), str),
}
#: Query parameter (also the key of its Data page widget) -> (field of ``Generation``, parser).
GENERATION_PARAMS: dict[str, tuple[str, Parser]] = {
    state.GEN_VARIANT: ("variant", _choice(VARIANT_NAMES)),
    state.GEN_N_SAMPLES: ("n_samples", _integer(10, MAX_GENERATED_SAMPLES)),
    state.GEN_CENTERS: ("n_centers", _integer(1, 10)),
    state.GEN_SPREAD: ("spread", parse_spread),
    state.GEN_SEED: ("seed", _integer(0, MAX_SEED)),
}


def link_params(model: Mapping[str, object], dataset: Dataset) -> dict[str, str | list[str]]:
    """The query parameters of a view.

    Parameters
    ----------
    model : mapping
        Session state, or anything holding the sidebar's keys (``MODEL_PARAMS``).
    dataset : Dataset
        The current data; built-in and generated data are described by where they
        came from (``source``, then ``builtin`` or the ``gen_*`` parameters), the
        feature columns (``cols``, repeated) and ``standardize`` ('0' or '1').

    Returns
    -------
    dict
        Strings, and a list for ``cols``; floats written with ``repr`` so they read back exactly.
    """
    params: dict[str, str | list[str]] = {name: str(model[key]) for name, (key, _) in MODEL_PARAMS.items()}
    for name, (key, _, write) in VIEW_PARAMS.items():
        if key in model and model[key] != state.PAGE_DEFAULTS[key]:
            params[name] = write(model[key])
    source = dataset.table.source
    pending: state.LinkUpload | None = model.get(state.LINK_UPLOAD)
    if pending is not None and dataset.is_seed:  # the file is still to be uploaded: keep saying which
        return params | {"upload": pending.filename, "cols": list(pending.columns),
                         "standardize": "1" if pending.standardize else "0"}
    if source["kind"] == "builtin":
        params |= {"source": "builtin", "builtin": source["name"]}
    elif source["kind"] == "generated":
        params |= {
            "source": "generate",
            state.GEN_VARIANT: source["variant"],
            state.GEN_N_SAMPLES: str(source["n_samples"]),
            state.GEN_CENTERS: str(source["n_centers"]),
            state.GEN_SPREAD: ",".join(map(repr, source["cluster_std"])),
            state.GEN_SEED: str(source["random_state"]),
        }
    else:  # an uploaded file cannot travel: the link names it, and its columns
        params["upload"] = source["filename"]
    return params | {"cols": list(dataset.columns), "standardize": "1" if dataset.standardize else "0"}


def write_link() -> None:
    """Put the sidebar's model and the current data into the URL (after the page ran)."""
    st.query_params.from_dict(link_params(st.session_state, state.dataset()))


def read_link() -> None:
    """Apply the URL's parameters once per session, before ``state.init``; name the invalid ones in a toast."""
    if st.session_state.get(state.LINK_READ):
        return
    st.session_state[state.LINK_READ] = True
    params = st.query_params
    ignored = []
    for name, (key, parse) in MODEL_PARAMS.items():
        if name in params:
            try:
                st.session_state[key] = parse(params[name])
            except ValueError:
                ignored.append(name)
    for name, (key, parse, _) in VIEW_PARAMS.items():
        if name in params:
            try:
                st.session_state[key] = parse(params.get_all(name) if name == "sweep_models" else params[name])
            except ValueError:
                ignored.append(name)
    if "source" in params:
        ignored += _read_data(params)
    elif "upload" in params:
        _expect_upload(params)
    if ignored:
        st.toast(
            f"Ignored link settings that are not valid: {escape_markdown(', '.join(ignored))}.",
            icon=":material/link_off:",
        )
    dataset = st.session_state.get(state.DATASET)
    notice = _clamp_to_budget(seed_dataset() if dataset is None else dataset)
    if notice:
        st.toast(notice, icon=":material/speed:")


def _expect_upload(params) -> None:
    """Remember the link's file and columns (used when that file is uploaded) and say what to do."""
    filename = params["upload"][:MAX_LINK_FILENAME]
    columns = tuple(name[:MAX_LINK_FILENAME] for name in params.get_all("cols")[: state.MAX_LINK_COLUMNS])
    st.session_state[state.LINK_UPLOAD] = state.LinkUpload(filename, columns, params.get("standardize") == "1")
    st.toast(
        f"This link was made with the file {escape_markdown(filename)}, which cannot travel in a link. Upload it "
        "on the Data page to restore the view; the model settings are the link's.",
        icon=":material/upload_file:",
    )


def _clamp_to_budget(dataset: Dataset) -> str | None:
    """Lower the link's K, restarts and iterations until its worst-case fit stays within
    ``gmm_core.budget.LINK_SECONDS`` (a link opens without a click); say what was lowered, or None."""
    s = st.session_state
    asked = {name: int(s.get(key, state.MODEL_DEFAULTS[key])) for name, key in _BUDGETED.items()}
    n, d = dataset.X.shape
    clamped = clamp_to_budget(n, d, **asked)
    if not clamped.changes:
        return None
    worst = worst_fit_seconds(n, d, **asked)
    for name, _, allowed in clamped.changes:
        s[_BUDGETED[name]] = allowed
    lowered = ", ".join(f"{name} from {before:,} to {after:,}" for name, before, after in clamped.changes)
    return (
        f"This link asked for up to {_duration(worst)} of fitting on {n:,} rows; a link may start at most "
        f"{LINK_SECONDS:.0f} s, so it opens with {lowered}. Raise them in the sidebar to fit as the link asked."
    )


#: The settings ``_clamp_to_budget`` may lower: name in ``gmm_core.budget`` -> session-state key.
_BUDGETED = {"n_components": state.N_COMPONENTS, "n_init": state.N_INIT, "max_iter": state.MAX_ITER}


def _duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h', '2 days': an order of magnitude."""
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} s"


def _read_data(params) -> list[str]:
    """Make the link's data the current data set and set the Data page's widgets to match.

    Returns
    -------
    list of str
        Names of the parameters that were invalid; each was replaced by its default.
    """
    ignored: list[str] = []

    def value(name: str, parse: Parser, default):
        if name not in params:
            return default
        try:
            return parse(params[name])
        except (ValueError, DataError):
            ignored.append(name)
            return default

    source = value("source", _choice(("builtin", "generate")), None)
    if source == "builtin":
        name = value("builtin", _choice(BUILTIN_NAMES), state.DATA_DEFAULTS[state.BUILTIN])
        widgets = {state.SOURCE: source, state.BUILTIN: name}
    elif source == "generate":
        generation = Generation(
            **{
                field: value(name, parse, getattr(SEED_GENERATION, field))
                for name, (field, parse) in GENERATION_PARAMS.items()
            }
        )
        widgets = {
            state.SOURCE: source,
            **{name: getattr(generation, field) for name, (field, _) in GENERATION_PARAMS.items()},
            state.GEN_SPREAD: ", ".join(map(repr, generation.spread)),
        }
    else:
        return ignored
    try:
        table = cache.builtin(name) if source == "builtin" else cache.generated(generation)
        columns = _columns(params.get_all("cols"), table)
        if columns is None:
            ignored.append("cols")
            columns = table.default_columns
        standardize = value("standardize", _choice(("0", "1")), "0") == "1"
        dataset = build_dataset(table, columns, label_column=table.default_label, standardize=standardize)
    except DataError:
        # Data that cannot be made (numbers that overflow, say): the session keeps the data it has.
        return ignored + [name for name in ("source", *GENERATION_PARAMS) if name in params and name not in ignored]
    st.session_state.update(widgets)
    st.session_state[state.COLUMNS_FOR] = table.key
    st.session_state[state.X_COL], st.session_state[state.Y_COL] = columns[:2]
    st.session_state[state.EXTRA_COLS] = list(columns[2:])
    st.session_state[state.LABEL_COL] = table.default_label or NO_LABEL
    st.session_state[state.STANDARDIZE] = standardize
    state.set_dataset(dataset)
    return ignored


def _columns(names: list[str], table: SourceTable) -> tuple[str, ...] | None:
    """``names`` when they are two or more distinct numeric columns of ``table``; the defaults when none
    are given; None when they are invalid."""
    if not names:
        return table.default_columns
    if len(names) < 2 or len(set(names)) != len(names) or not set(names) <= set(table.numeric_columns):
        return None
    return tuple(names)
