"""The app's colours, in one place: colour-blind safe, and stable per component.

A component's colour is chosen by its *slot*, not by its index in a fit: the
app matches each new fit's components to the previous fit's
(``gmm_core.match_components``) and hands the slots to the figure builders, so
a component keeps its colour when K, the covariance type or the seed changes.
No Streamlit here.
"""

from __future__ import annotations

import numpy as np

from gmm_core import MODEL_CHOICES, match_components
from gmm_core.families import SKLEARN_NAMES

#: Colours of slots 0, 1, ...: Okabe & Ito's palette (2008) without black, which the
#: means are drawn in, ordered so that the first five differ in hue (its two blues apart:
#: sky blue sixth) and with its yellow last as it is the faintest on white; then eight of
#: Paul Tol's "muted" colours (leaving out the cyan, which is close to the Okabe-Ito sky
#: blue). Fifteen in all: the app's largest K.
PALETTE: tuple[str, ...] = (
    "#E69F00",  # orange
    "#0072B2",  # blue
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#332288",  # indigo
    "#882255",  # wine
    "#999933",  # olive
    "#44AA99",  # teal
    "#CC6677",  # rose
    "#DDCC77",  # sand
    "#117733",  # green
    "#AA4499",  # purple
)
#: Colours of the models in the model-selection charts, in ``MODEL_CHOICES`` order: Paul Tol's
#: "bright" scheme for scikit-learn's four, then his "muted" and "dark" ones for mclust's other
#: ten. Fourteen colours cannot all be told apart at a glance, so the charts also vary the dash
#: (``MODEL_DASHES``) and name each curve on hover.
MODEL_COLOURS: dict[str, str] = dict(zip(MODEL_CHOICES, (
    "#4477AA", "#EE6677", "#228833", "#AA3377",
    "#332288", "#88CCEE", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#44AA99", "#EE7733", "#555555",
)))
#: One column's two models take the colours of the models they reduce from (tied, full).
MODEL_COLOURS |= {"E": MODEL_COLOURS["tied"], "V": MODEL_COLOURS["full"]}
#: Line dash per model: solid for scikit-learn's four (and E, V), by orientation (third letter) for the rest.
MODEL_DASHES: dict[str, str] = {
    model: "solid" if i < 4 else {"I": "dot", "E": "dash", "V": "dashdot"}[model[2]]
    for i, model in enumerate(MODEL_CHOICES)
} | {"E": "solid", "V": "solid"}


def model_colour(name: str) -> str:
    """Colour of a model in the charts, under either of its names."""
    return MODEL_COLOURS[SKLEARN_NAMES.get(name, name)]


def model_dash(name: str) -> str:
    """Line dash of a model in the charts, under either of its names."""
    return MODEL_DASHES[SKLEARN_NAMES.get(name, name)]


def component_colour(slot: int, alpha: float | None = None) -> str:
    """Colour of ``slot`` (0-based, wrapping around the palette), as hex, or rgba with ``alpha``."""
    colour = PALETTE[int(slot) % len(PALETTE)]
    if alpha is None:
        return colour
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def slot_marker(slots_of_points: np.ndarray) -> dict:
    """Marker colours of points given each point's slot, as numbers on a stepped colour scale.

    One number per point (instead of one colour string) keeps animation frames
    small; the scale maps the number ``s`` exactly to ``PALETTE[s]``.

    Parameters
    ----------
    slots_of_points : ndarray of int, shape (n,)

    Returns
    -------
    dict
        ``color``, ``cmin``, ``cmax`` and ``colorscale`` of a Plotly marker.
    """
    last = len(PALETTE) - 1
    return {
        "color": np.asarray(slots_of_points, dtype=np.int8) % len(PALETTE),
        "cmin": 0,
        "cmax": last,
        "colorscale": [[i / last, colour] for i, colour in enumerate(PALETTE)],
    }


def match_slots(previous_means, previous_slots, means, *, previous_covariances=None, covariances=None) -> np.ndarray:
    """Slots of components with ``means``: those of the previous components they continue.

    ``gmm_core.match_components`` on the Gaussians' overlap when both covariance
    sets are given, on the means alone when not, or when a collapsed component's
    covariance is not positive definite.

    Returns
    -------
    ndarray of int, shape (K_new,)
    """
    if previous_covariances is not None:
        try:
            return match_components(
                previous_means, means, previous_covariances=previous_covariances,
                new_covariances=covariances, previous_slots=previous_slots,
            )
        except ValueError:
            pass  # a collapsed component: its overlap is undefined, its mean is not
    return match_components(previous_means, means, previous_slots=previous_slots)
