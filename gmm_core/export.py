"""Labelled data as CSV bytes, safe to open in a spreadsheet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .fit import FitResult

#: A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula.

    Text that is a plain number ("-1.5", "+3") is left alone.
    """
    if not text.startswith(FORMULA_PREFIXES):
        return text
    try:
        float(text)
    except ValueError:
        return "'" + text
    return text


def labelled_frame(frame: pd.DataFrame, result: FitResult, *, used_rows=None) -> pd.DataFrame:
    """The original rows plus the model's labels, as a DataFrame.

    Parameters
    ----------
    frame : pandas.DataFrame of shape (n_rows, m)
        The data as uploaded or generated, every row and column.
    result : FitResult
        A model fitted to ``frame``'s usable rows, in order.
    used_rows : array-like of bool, shape (n_rows,), optional
        Which rows of ``frame`` the model was fitted to (from ``feature_matrix``);
        by default all of them.

    Returns
    -------
    pandas.DataFrame of shape (n_rows, m + 3 + K)
        ``frame`` plus ``component`` (1..K, empty for unused rows),
        ``max_responsibility``, ``uncertainty`` (1 - max responsibility) and
        ``responsibility_1`` ... ``responsibility_K``. A new column whose name is
        already taken gets a ``_2``, ``_3`` ... suffix.
    """
    used = np.ones(len(frame), dtype=bool) if used_rows is None else np.asarray(used_rows, dtype=bool)
    if used.shape != (len(frame),) or used.sum() != result.n_samples:
        raise ValueError(
            f"used_rows must mark {result.n_samples} of the frame's {len(frame)} rows; "
            f"it marks {int(used.sum())} of {used.shape[0]}."
        )
    responsibilities = result.responsibilities
    added = {
        "component": result.labels + 1,
        "max_responsibility": responsibilities.max(axis=1),
        "uncertainty": result.uncertainty,
        **{f"responsibility_{k + 1}": responsibilities[:, k] for k in range(result.n_components)},
    }
    out = frame.reset_index(drop=True).copy()
    taken = set(map(str, out.columns))
    for name, values in added.items():
        column = pd.Series(pd.NA if name == "component" else np.nan, index=out.index,
                           dtype="Int64" if name == "component" else "float64")
        column[used] = values
        out[_unique(name, taken)] = column
    return out


def labelled_csv(frame: pd.DataFrame, result: FitResult, *, used_rows=None) -> bytes:
    """:func:`labelled_frame` as UTF-8 CSV bytes, safe against formula injection.

    Headers and text cells that a spreadsheet would run as a formula (starting
    with = + - @ tab or CR) get a leading apostrophe, and headers stay distinct
    (:func:`export_names`); numbers are untouched and written with full precision.
    """
    out = labelled_frame(frame, result, used_rows=used_rows)
    out.columns = export_names(out.columns)
    for name in out.columns:
        column = out[name]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            out[name] = column.map(lambda v: neutralise_formula(v) if isinstance(v, str) else v)
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def export_names(columns) -> list[str]:
    """The header :func:`labelled_csv` writes for each of ``columns``: neutralised, and distinct
    (a name that neutralising makes equal to an earlier one, as ``=a`` beside ``'=a``, gets
    ``_2``, ``_3`` ...)."""
    taken: set[str] = set()
    return [_unique(neutralise_formula(str(c)), taken) for c in columns]


def _unique(name: str, taken: set[str]) -> str:
    candidate, i = name, 1
    while candidate in taken:
        i += 1
        candidate = f"{name}_{i}"
    taken.add(candidate)
    return candidate
