"""Shared helpers of the app tests: a fresh AppTest, chart specs, CSV uploads."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGES = {
    "data": "app_pages/data.py",
    "fit": "app_pages/fit.py",
    "em": "app_pages/em.py",
    "model_selection": "app_pages/model_selection.py",
    "export": "app_pages/export.py",
}


def open_app() -> AppTest:
    """The app run once from scratch, without an exception."""
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest, key: str) -> dict:
    """Spec (data, layout) of the Plotly chart drawn with ``key``."""
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.spec)
    raise AssertionError(f"No chart with key {key!r}; ids: {[e.proto.id for e in at.get('plotly_chart')]}")


def table_with(at: AppTest, column: str):
    """The one dataframe shown with ``column``."""
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def traces(spec: dict, meta: str) -> list[dict]:
    """Traces of a chart spec tagged with ``meta``."""
    return [trace for trace in spec["data"] if trace.get("meta") == meta]


def values(data) -> np.ndarray:
    """A trace's array: Plotly sends numpy arrays as {'dtype', 'bdata', 'shape'}."""
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = data.get("shape")
        return array.reshape([int(n) for n in str(shape).split(",")]) if shape else array
    return np.asarray(data)


def n_points(spec: dict, meta: str) -> int:
    """Number of points in the traces tagged ``meta``."""
    return sum(len(values(trace["x"])) for trace in traces(spec, meta))


def upload(at: AppTest, data: bytes, name: str = "d.csv") -> AppTest:
    """Choose 'Upload CSV' on the Data page and upload ``data``."""
    goto(at, "data")
    at.radio(key="source").set_value("upload").run()
    at.file_uploader(key="upload").set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def sidebar_text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption])


@pytest.fixture
def app() -> AppTest:
    return open_app()
