"""A short Python script that refits a model with plain scikit-learn from the exported CSV."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .export import export_names
from .fit import FitResult


def exported_feature_names(result: FitResult, feature_names: Sequence[str],
                           columns: Sequence[str] | None = None) -> list[str]:
    """The CSV export's header of each feature (``export.export_names`` over every column of the
    table, ``columns``; by default the features alone), so that a script finds each feature even
    when two names neutralise alike."""
    features = [str(name) for name in feature_names]
    if len(features) != result.n_features:
        raise ValueError(
            f"feature_names must name the model's {result.n_features} features; got {len(features)}."
        )
    columns = features if columns is None else [str(c) for c in columns]
    header = dict(zip(columns, export_names(columns)))
    missing = [name for name in features if name not in header]
    if missing:
        raise ValueError(f"columns must hold every feature; missing {missing!r}.")
    return [header[name] for name in features]


def reproduction_script(
    result: FitResult,
    *,
    feature_names: Sequence[str],
    csv_name: str,
    standardize: bool = False,
    columns: Sequence[str] | None = None,
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
        are embedded with ``repr``, never as code, under the headers the CSV
        export writes for them (see :func:`exported_feature_names`).
    csv_name : str
        Path of the CSV as the script should open it.
    standardize : bool, default=False
        Whether the columns were z-scored (population standard deviation) over
        the used rows before ``fit_gmm``.
    columns : sequence of str, optional
        Every column of the exported table, in order (by default the features).

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
    names = exported_feature_names(result, feature_names, columns)
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


def r_string(text: str) -> str:
    """``text`` as an R string literal: quotes and backslashes escaped, every character outside
    printable ASCII written as a Unicode escape, so no text can end the literal or change the code."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{{{code:04x}}}")
        else:
            out.append(f"\\U{{{code:08x}}}")
    return '"' + "".join(out) + '"'


def _r_numbers(values) -> str:
    return "c(" + ", ".join(repr(float(v)) for v in np.ravel(values)) + ")"


def mclust_script(
    result: FitResult,
    *,
    feature_names: Sequence[str],
    csv_name: str,
    standardize: bool = False,
    columns: Sequence[str] | None = None,
) -> str:
    """Source of an R script that continues ``result`` with mclust's own EM from the labelled CSV.

    Any of the 14 models (and E, V for one column). The script reads the CSV
    written by :func:`~gmm_core.export.labelled_csv`, keeps the rows that have a
    component, optionally z-scores the columns, computes the responsibilities of
    the fitted model (weights, means and covariances are embedded as numbers)
    and runs ``mclust::me()`` from them: its first M-step gives back the fitted
    model and EM confirms it. It prints how many labels agree with the exported
    components and mclust's BIC, whose negative is the app's. Needs R and the
    mclust package (``apt-get install r-base-core r-cran-mclust``).

    Parameters
    ----------
    result : FitResult
    feature_names : sequence of str, length d
        The fitted columns of the original table, embedded as escaped R string
        literals under the headers the CSV export writes for them.
    csv_name : str
    standardize : bool, default=False
        Whether the columns were z-scored (population standard deviation).
    columns : sequence of str, optional
        Every column of the exported table, in order (by default the features).

    Returns
    -------
    str
        R source. Its output ends with the lines ``labels agree: <m> of <n> rows``,
        ``mclust BIC: <value>`` and ``GMM Explorer's BIC: <value>``.
    """
    names = exported_feature_names(result, feature_names, columns)
    if not isinstance(csv_name, str) or not csv_name:
        raise ValueError(f"csv_name must be a non-empty string; got {csv_name!r}.")
    K = result.n_components
    lines = [
        "# Continue a Gaussian mixture exported by GMM Explorer with R's mclust: EM from the fitted model.",
        "suppressPackageStartupMessages(library(mclust))",
        f"csv <- {r_string(csv_name)}",
        f"features <- c({', '.join(r_string(n) for n in names)})",
        f"K <- {K}L",
        f"model <- {r_string(result.mclust_name)}",
        "# Read as text and convert afterwards: exactly the numbers that were written.",
        'frame <- read.csv(csv, colClasses = "character", check.names = FALSE, na.strings = "")',
        "# The export appends component, max_responsibility, uncertainty and K responsibilities;",
        "# rows the model did not use have no component.",
        "component <- frame[[ncol(frame) - K - 2L]]",
        "used <- !is.na(component)",
        "X <- as.matrix(as.data.frame(lapply(frame[used, features, drop = FALSE], as.numeric)))",
        "n <- nrow(X)",
        "d <- ncol(X)",
    ]
    if standardize:
        lines += [
            "# z-scores per column (population standard deviation), as before the fit.",
            "X <- scale(X, center = TRUE, scale = apply(X, 2, sd) * sqrt((n - 1) / n))",
        ]
    lines += [
        "# The model GMM Explorer fitted.",
        f"pro <- {_r_numbers(result.weights)}",
        f"mean <- matrix({_r_numbers(result.means)}, nrow = d)",  # column k: mean of component k
        f"sigma <- array({_r_numbers(result.covariances)}, dim = c(d, d, K))",  # R fills column-major
        "log_density <- sapply(seq_len(K), function(k) {",
        "  L <- chol(sigma[, , k])",
        "  y <- backsolve(L, t(X) - mean[, k], transpose = TRUE)",
        "  log(pro[k]) - sum(log(diag(L))) - 0.5 * colSums(y^2) - 0.5 * d * log(2 * pi)",
        "})",
        "log_density <- matrix(log_density, ncol = K)",
        "z <- exp(log_density - apply(log_density, 1, max))",
        "z <- z / rowSums(z)",
        "fit <- me(data = if (d == 1) X[, 1] else X, modelName = model, z = z)",
        "if (is.na(fit$loglik)) stop(paste(\"mclust's EM stopped:\", attr(fit, \"returnCode\")))",
        "bic_mclust <- bic(model, fit$loglik, n, d, K)",
        "labels <- map(fit$z)",
        "exported <- as.integer(component[used])",
        'cat(sprintf("labels agree: %d of %d rows\\n", sum(labels == exported), n))',
        'cat(sprintf("mclust BIC: %.6f\\n", bic_mclust))',
        'cat(sprintf("GMM Explorer\'s BIC: %.6f\\n", -bic_mclust))',
    ]
    return "\n".join(lines) + "\n"
