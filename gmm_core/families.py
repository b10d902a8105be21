"""mclust's 14 covariance models, scikit-learn's four names for four of them, and parameter counts.

Celeux & Govaert (1995) write each component's covariance as
``Sigma_k = lambda_k D_k A_k D_k^T``: a volume ``lambda_k`` (a number), a shape
``A_k`` (a diagonal matrix with determinant 1) and an orientation ``D_k`` (an
orthogonal matrix). A model's three letters say, in that order, whether the
volume, the shape and the orientation are Equal across components, Variable,
or, for shape and orientation, the Identity (spherical shape; axis-aligned
orientation). For one column there is only a variance: mclust's E (equal) and
V (variable).
"""

from __future__ import annotations

#: mclust's 14 multivariate models, in mclust's order (``mclust.options("emModelNames")``).
MODELS: tuple[str, ...] = (
    "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
    "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV",
)
#: mclust's models for one column: equal and variable variance.
ONE_D_MODELS: tuple[str, ...] = ("E", "V")

#: scikit-learn's covariance types, each an alias of one mclust model.
COVARIANCE_TYPES: tuple[str, ...] = ("full", "tied", "diag", "spherical")
MCLUST_NAMES: dict[str, str] = {
    "full": "VVV",
    "tied": "EEE",
    "diag": "VVI",
    "spherical": "VII",
}
SKLEARN_NAMES: dict[str, str] = {model: alias for alias, model in MCLUST_NAMES.items()}

_LETTER = {"E": "equal", "V": "variable"}
_SHAPE = {"E": "equal shape", "V": "variable shape", "I": "spherical"}
_ORIENTATION = {"E": "equal orientation", "V": "variable orientation", "I": "axis-aligned"}


def _meaning(model: str) -> str:
    if model in ONE_D_MODELS:
        return f"{_LETTER[model]} variance"
    volume, shape, orientation = model
    if shape == "I":
        return f"{_LETTER[volume]} volume, spherical"
    return f"{_LETTER[volume]} volume, {_SHAPE[shape]}, {_ORIENTATION[orientation]}"


#: Each model's volume, shape and orientation in words, e.g. "variable volume, equal shape,
#: variable orientation" for VEV.
MODEL_MEANINGS: dict[str, str] = {model: _meaning(model) for model in MODELS + ONE_D_MODELS}

#: One line per scikit-learn covariance type, in plain words, for menus and legends.
COVARIANCE_MEANINGS: dict[str, str] = {
    "full": "each component has its own ellipse: any size, shape and tilt",
    "tied": "all components share one ellipse: same size, shape and tilt",
    "diag": "each component has its own axis-aligned ellipse",
    "spherical": "each component is a circle of its own size",
}

#: Every model in the order menus offer them: scikit-learn's four under their own names, then
#: mclust's other ten in mclust's order.
MODEL_CHOICES: tuple[str, ...] = COVARIANCE_TYPES + tuple(m for m in MODELS if m not in SKLEARN_NAMES)

#: Families of models by what they hold equal, for showing and hiding curves together.
MODEL_GROUPS: dict[str, tuple[str, ...]] = {
    "scikit-learn's four": ("VVV", "EEE", "VVI", "VII"),
    "spherical (·II)": ("EII", "VII"),
    "axis-aligned (··I)": ("EEI", "VEI", "EVI", "VVI"),
    "equal orientation (··E)": ("EEE", "VEE", "EVE", "VVE"),
    "variable orientation (··V)": ("EEV", "VEV", "EVV", "VVV"),
    "equal volume (E··)": tuple(m for m in MODELS if m[0] == "E"),
    "variable volume (V··)": tuple(m for m in MODELS if m[0] == "V"),
}


def model_meaning(name: str, n_features: int | None = None) -> str:
    """The model ``name`` in words: scikit-learn's picture for its four names, else volume,
    shape and orientation (``MODEL_MEANINGS``)."""
    if name in COVARIANCE_MEANINGS and n_features != 1:
        return COVARIANCE_MEANINGS[name]
    return MODEL_MEANINGS[model_name(name, n_features)]


#: Models whose fits do not depend on the units of each column: rescaling one column
#: rescales the fitted covariances with it (the others are invariant to one common unit only).
COLUMN_SCALE_EQUIVARIANT: frozenset[str] = frozenset(
    {"EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVV", "VVV", "E", "V"}
)


def model_name(name: str, n_features: int | None = None) -> str:
    """mclust's name of the model ``name`` (an mclust name or a scikit-learn alias).

    Parameters
    ----------
    name : str
        One of ``MODELS``, ``ONE_D_MODELS`` or ``COVARIANCE_TYPES``.
    n_features : int, optional
        Columns of the data. For one column every model is E or V, as mclust
        reduces them: by the letter of the volume (full, diag and spherical are
        V; tied is E).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        ``name`` is not a model, or E/V for data of more than one column.
    """
    model = MCLUST_NAMES.get(name, name)
    if model not in MODELS and model not in ONE_D_MODELS:
        raise ValueError(
            f"covariance_type must be one of mclust's models {', '.join(MODELS)} (or E and V for one "
            f"column) or scikit-learn's {', '.join(COVARIANCE_TYPES)}; got {name!r}."
        )
    if n_features is None:
        return model
    if n_features == 1:
        return model[0]
    if model in ONE_D_MODELS:
        raise ValueError(
            f"covariance_type {name!r} is for one column; the data have {n_features}. "
            f"Choose one of {', '.join(MODELS)}."
        )
    return model


def check_covariance_type(covariance_type: str) -> str:
    """Return ``covariance_type`` if it names a model (see :func:`model_name`), else raise ``ValueError``."""
    model_name(covariance_type)
    return covariance_type


def display_name(covariance_type: str) -> str:
    """'full (VVV)' for a scikit-learn alias, 'VEV' for an mclust name."""
    model = model_name(covariance_type)
    return f"{covariance_type} ({model})" if covariance_type != model else model


def n_covariance_parameters(model: str, n_components: int, n_features: int) -> int:
    """Free covariance parameters of ``model``, as mclust's ``nVarParams`` counts them."""
    k, d = n_components, n_features
    model = model_name(model, d)
    return {
        "E": 1,
        "V": k,
        "EII": 1,
        "VII": k,
        "EEI": d,
        "VEI": k + d - 1,
        "EVI": 1 + k * (d - 1),
        "VVI": k * d,
        "EEE": d * (d + 1) // 2,
        "VEE": k + d - 1 + d * (d - 1) // 2,
        "EVE": 1 + k * (d - 1) + d * (d - 1) // 2,
        "VVE": k * d + d * (d - 1) // 2,
        "EEV": d + k * d * (d - 1) // 2,
        "VEV": k + d - 1 + k * d * (d - 1) // 2,
        "EVV": 1 - k + k * d * (d + 1) // 2,
        "VVV": k * d * (d + 1) // 2,
    }[model]


def n_parameters(n_components: int, n_features: int, covariance_type: str) -> int:
    """Free parameters of a Gaussian mixture, as mclust's ``nMclustParams`` (and scikit-learn) count them.

    Parameters
    ----------
    n_components : int
        Number of mixture components K.
    n_features : int
        Number of features d.
    covariance_type : str
        An mclust model or a scikit-learn alias (see :func:`model_name`).

    Returns
    -------
    int
        ``covariance + K * d + K - 1``: the covariance parameters of the model
        (:func:`n_covariance_parameters`), the means and the weights.
    """
    k, d = n_components, n_features
    return n_covariance_parameters(covariance_type, k, d) + k * d + k - 1
