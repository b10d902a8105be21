"""A short Python script that refits a model with plain scikit-learn from the exported CSV."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .export import neutralise_formula
from .fit import FitResult


def reproduction_script(
    result: FitResult,
    *,
    feature_names: Sequence[str],
    csv_name: str,
    standardize: bool = False,
) -> str:
    """Source of a runnable script that refits ``result`` with plain scikit-learn from its labelled CSV.

    The script reads the CSV written by :func:`~gmm_core.export.labelled_csv`,
    keeps the rows that have a component, optionally z-scores the feature
    columns, fits ``sklearn.mixture.GaussianMixture`` on those raw columns
    started from the fitted model (its weights, means and precisions), which
    EM confirms, and prints how many labels agree with the exported components
    and ``model.bic(X)``. Only numpy, pandas and scikit-learn are needed to run it.

    Parameters
    ----------
    result : FitResult
        Fitted with an integer ``random_state``, of a model scikit-learn has
        (VVV, EEE, VVI or VII: full, tied, diag, spherical).
    feature_names : sequence of str, length d
        The fitted columns of the original table, in the model's order. They
        are embedded with ``repr``, never as code, and neutralised as the CSV
        export neutralises its headers.
    csv_name : str
        Path of the CSV as the script should open it.
    standardize : bool, default=False
        Whether the columns were z-scored (population standard deviation) over
        the used rows before ``fit_gmm``.

    Returns
    -------
    str
        Python source. Its output ends with the lines
        ``labels agree: <m> of <n> rows`` and ``BIC: <repr of float>``.
    """
    settings = result.settings
    if settings.random_state is None:
        raise ValueError(
            "The model was fitted with random_state=None, so no script can reproduce it; "
            "fit with an integer random_state."
        )
    model = result.to_sklearn()  # raises ValueError for a model scikit-learn does not have
    names = [neutralise_formula(str(name)) for name in feature_names]
    if len(names) != result.n_features:
        raise ValueError(
            f"feature_names must name the model's {result.n_features} features; got {len(names)}."
        )
    if not isinstance(csv_name, str) or not csv_name:
        raise ValueError(f"csv_name must be a non-empty string; got {csv_name!r}.")
    lines = [
        '"""Refit a Gaussian mixture exported by GMM Explorer, with plain scikit-learn."""',
        "import numpy as np",
        "import pandas as pd",
        "from sklearn.mixture import GaussianMixture",
        "",
        f"CSV = {csv_name!r}",
        f"FEATURES = {names!r}",
        f"K = {settings.n_components!r}",
        "",
        "# Read as text and convert afterwards: exactly the numbers that were written.",
        "frame = pd.read_csv(CSV, dtype=str)",
        "# The export appends component, max_responsibility, uncertainty and K responsibilities;",
        "# rows the model did not use have no component.",
        "component = frame.iloc[:, -(3 + K)]",
        "used = component.notna().to_numpy()",
        "X = np.ascontiguousarray(frame.loc[used, FEATURES].astype(float).to_numpy())",
    ]
    if standardize:
        lines += [
            "# z-scores per column (population standard deviation), as before the fit.",
            "X = (X - X.mean(axis=0)) / X.std(axis=0)",
        ]
    start = {
        "weights_init": model.weights_,
        "means_init": model.means_,
        "precisions_init": model.precisions_,
    }
    lines.append("# The model GMM Explorer fitted: scikit-learn's EM starts there and confirms it.")
    for name, value in start.items():
        lines.append(f"{name} = np.array({np.asarray(value).tolist()!r})")
    options = {
        "n_components": settings.n_components,
        "covariance_type": model.covariance_type,
        "tol": 1e-10,
        "reg_covar": "reg_covar",
        "max_iter": 1000,
    }
    lines += [
        "# GMM Explorer adds reg_covar times the data's variance in each direction; scikit-learn",
        "# adds reg_covar in data units: its least variance keeps every covariance invertible here.",
        f"reg_covar = {settings.reg_covar!r} * float(X.var(axis=0).min())",
    ]
    arguments = "".join(
        f"    {name}={value if name == 'reg_covar' else repr(value)},\n" for name, value in options.items()
    )
    arguments += "".join(f"    {name}={name},\n" for name in start)
    lines += [
        "",
        f"model = GaussianMixture(\n{arguments})",
        "model.fit(X)",
        "labels = model.predict(X)",
        "exported = component[used].astype(int).to_numpy() - 1",
        'print(f"labels agree: {int(np.sum(labels == exported))} of {len(X)} rows")',
        'print(f"BIC: {float(model.bic(X))!r}")',
    ]
    return "\n".join(lines) + "\n"
