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
    """Source of a runnable script that refits ``result`` from its labelled CSV.

    The script reads the CSV written by :func:`~gmm_core.export.labelled_csv`,
    keeps the rows that have a component, optionally z-scores the feature
    columns, centres them and divides by one global scale exactly as
    ``fit_gmm`` does, fits ``sklearn.mixture.GaussianMixture`` with
    ``result.settings`` from ``result.start`` (the starting weights, means and
    precisions, if it had any), and prints how many labels agree with the
    exported components and the BIC in the units the model was fitted in. Only
    numpy, pandas and scikit-learn are needed to run it.

    Parameters
    ----------
    result : FitResult
        Fitted with an integer ``random_state``.
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
    names = [neutralise_formula(str(name)) for name in feature_names]
    if len(names) != result.n_features:
        raise ValueError(
            f"feature_names must name the model's {result.n_features} features; got {len(names)}."
        )
    if not isinstance(csv_name, str) or not csv_name:
        raise ValueError(f"csv_name must be a non-empty string; got {csv_name!r}.")
    start = result.start
    options = {
        "n_components": settings.n_components,
        "covariance_type": settings.covariance_type,
        # fit_gmm runs a single start when the means are given.
        "n_init": 1 if "means_init" in start else settings.n_init,
        "init_params": settings.init_params,
        "random_state": settings.random_state,
        "reg_covar": settings.reg_covar,
        "tol": settings.tol,
        "max_iter": settings.max_iter,
    }
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
    lines += [
        "# Centre, and divide by ONE scale for all columns so that reg_covar and tol mean the",
        "# same in any units while every covariance type keeps its meaning.",
        "center = X.mean(axis=0)",
        "scale = float(np.sqrt(np.mean(X.var(axis=0))))",
        "Z = (X - center) / scale",
    ]
    # The start in data units, mapped to the fitted units as fit_gmm maps it.
    to_fitted = {
        "weights_init": "{}",
        "means_init": "({} - center) / scale",
        "precisions_init": "{} * scale**2",
    }
    for name, value in start.items():
        array = f"np.array({np.asarray(value).tolist()!r})"
        lines.append(f"{name} = {to_fitted[name].format(array)}")
    arguments = "".join(f"    {name}={value!r},\n" for name, value in options.items())
    arguments += "".join(f"    {name}={name},\n" for name in start)
    lines += [
        "",
        f"model = GaussianMixture(\n{arguments})",
        "model.fit(Z)",
        "labels = model.predict(Z)",
        "n, d = Z.shape",
        "# Dividing by scale multiplies every density by scale**d, so in the units of X",
        "# the log-likelihood is n*d*log(scale) lower and BIC = -2 logL + p log n is 2*n*d*log(scale) higher.",
        "bic = model.bic(Z) + 2 * n * d * np.log(scale)",
        "exported = component[used].astype(int).to_numpy() - 1",
        'print(f"labels agree: {int(np.sum(labels == exported))} of {n} rows")',
        'print(f"BIC: {float(bic)!r}")',
    ]
    return "\n".join(lines) + "\n"
