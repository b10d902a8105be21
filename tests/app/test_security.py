"""User text is data: hostile names and cells are shown literally, exports are safe, config is locked down."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib

import pytest
import streamlit

from gmm_core import io as core_io
from tests.app.conftest import APP, chart, goto, open_app, upload
from tests.app.hostile import (
    HOSTILE,
    HOSTILE_FILENAME,
    XSS_FORMULA_COLUMN,
    XSS_LABEL_COLUMN,
    XSS_LABELS,
    XSS_NUMERIC,
    XSS_TOKENS,
    plain,
)
from ui.dataset import MAX_UPLOAD_MB
from ui.text import escape_markdown, plotly_text

ROOT = APP.parent
CONFIG = ROOT / ".streamlit" / "config.toml"
XSS_CSV = (HOSTILE / "xss_columns.csv").read_bytes()

# Built from parts so that this file does not match itself.
RAW_HTML = re.compile("|".join([r"unsafe_allow_" + "html", r"\bst\.ht" + r"ml\s*\(", r"components\.(?:v1\.)?ht" + "ml"]))


def source_files():
    skip = {".venv", ".git", "tests", "test-artifacts", "__pycache__", ".hypothesis", ".pytest_cache"}
    return sorted(
        p for p in ROOT.rglob("*.py") if not skip.intersection(p.relative_to(ROOT).parts)
    )


def test_no_raw_html_anywhere_in_the_code():
    files = source_files()
    assert any(p.name == "app.py" for p in files) and any(p.parent.name == "ui" for p in files)
    offenders = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if RAW_HTML.search(line)
    ]
    assert not offenders, "raw HTML output is not allowed (user text must stay text):\n" + "\n".join(offenders)


def test_config_is_locked_down_for_a_single_user():
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    server, client, browser = config["server"], config["client"], config["browser"]
    assert server["address"] in ("localhost", "127.0.0.1")
    assert set(server["allowedHosts"]) <= {"localhost", "127.0.0.1", "::1"}
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True
    assert server["enableStaticServing"] is False
    assert server["maxUploadSize"] == MAX_UPLOAD_MB == 50  # MB, as the README and the uploader say
    assert MAX_UPLOAD_MB * 1024**2 <= core_io.MAX_BYTES
    assert browser["gatherUsageStats"] is False
    assert client["showErrorDetails"] == "none"
    assert client["toolbarMode"] == "minimal"
    # Every key is one Streamlit knows, so a typo cannot silently drop a setting.
    from streamlit import config as st_config

    known = set(st_config._config_options_template)
    unknown = [f"{section}.{key}" for section, keys in config.items() for key in keys if f"{section}.{key}" not in known]
    assert not unknown, unknown


# ---------------------------------------------------------------- hostile text through every page


def rendered_texts(at) -> list[str]:
    """Every string the current page renders as Markdown (or that ends up in Markdown)."""
    out = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader", "toast"):
        out += [element.value for element in at.get(kind)]
    out += [e.label for e in at.get("expander")]
    out += [t.label for t in at.tabs]
    out += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    for widget in (*at.selectbox, *at.multiselect, *at.radio, *at.toggle, *at.button, *at.number_input, *at.slider):
        out += [widget.label, widget.help or ""]
    return out


def chart_strings(spec) -> list[str]:
    """Every string anywhere in a Plotly spec."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, dict):
        return [s for value in spec.values() for s in chart_strings(value)]
    if isinstance(spec, list):
        return [s for value in spec for s in chart_strings(value)]
    return []


def assert_literal(at, page: str) -> str:
    """No hostile token is rendered raw on ``page``; returns what the user reads there."""
    texts = rendered_texts(at)
    for text in texts:
        for token in (*XSS_TOKENS, HOSTILE_FILENAME):
            assert token not in text, f"{page}: raw {token!r} reaches Markdown in {text!r}"
    assert not at.exception, at.exception
    return "\n".join(plain(t) for t in texts)


def assert_charts_escaped(at, page: str) -> list[str]:
    strings = [s for element in at.get("plotly_chart") for s in chart_strings(json.loads(element.proto.spec))]
    for s in strings:
        for token in XSS_TOKENS:
            if any(ch in token for ch in "<>&%"):
                assert token not in s, f"{page}: raw {token!r} in a chart string {s!r}"
    return strings


@pytest.fixture(scope="module")
def hostile_app():
    at = open_app()
    upload(at, XSS_CSV, HOSTILE_FILENAME)
    at.selectbox(key="label_col").set_value(XSS_LABEL_COLUMN).run()
    at.multiselect(key="extra_cols").set_value([XSS_NUMERIC[2], XSS_NUMERIC[3]]).run()
    assert not at.exception and not at.error
    return at


def test_hostile_names_are_shown_literally_on_the_data_page(hostile_app):
    at = goto(hostile_app, "data")
    shown = assert_literal(at, "data")
    assert HOSTILE_FILENAME in shown  # the sidebar and the heading name the file, literally
    assert escape_markdown(HOSTILE_FILENAME) in "\n".join(m.value for m in at.markdown)
    for name in (*XSS_NUMERIC, ):
        assert name in shown  # 'Columns: ...' report and the sidebar caption
    assert at.selectbox(key="x_col").value == XSS_NUMERIC[0]  # options are plain text
    strings = assert_charts_escaped(at, "data")
    spec = chart(at, "data_scatter")
    assert spec["layout"]["xaxis"]["title"]["text"] == plotly_text(XSS_NUMERIC[0])
    assert spec["layout"]["yaxis"]["title"]["text"] == plotly_text(XSS_NUMERIC[1])
    assert sorted(t["name"] for t in spec["data"]) == sorted(plotly_text(label) for label in XSS_LABELS)
    assert spec["layout"]["legend"]["title"]["text"] == plotly_text(XSS_LABEL_COLUMN)
    assert any(plotly_text(XSS_NUMERIC[0]) in s and "%{x" in s for s in strings)  # hover names the axis


def test_hostile_names_are_shown_literally_on_the_fit_page(hostile_app):
    at = goto(hostile_app, "fit")
    at.toggle(key="show_density").set_value(True).run()
    at.toggle(key="show_uncertainty").set_value(True).run()
    at.selectbox(key="plot_y").set_value(XSS_NUMERIC[3]).run()
    shown = assert_literal(at, "fit")
    assert XSS_LABEL_COLUMN in shown  # 'Label column: ...'
    strings = assert_charts_escaped(at, "fit")
    spec = chart(at, "fit_chart")
    assert spec["layout"]["yaxis"]["title"]["text"] == plotly_text(XSS_NUMERIC[3]) == "&#37;{y} &lt;b&gt;bold&lt;/b&gt;"
    hovers = [t.get("hovertemplate", "") for t in spec["data"]]
    assert any("&#37;{y} &lt;b&gt;bold&lt;/b&gt; %{y" in h for h in hovers), hovers
    assert not any("%{y} <b>" in s for s in strings)
    # The known labels appear (escaped) in the comparison with the components.
    assert all(plotly_text(label) in strings for label in XSS_LABELS), [s for s in strings if "red" in s]


def test_hostile_names_are_shown_literally_on_model_selection_and_export(hostile_app):
    at = goto(hostile_app, "model_selection")
    at.slider(key="sweep_k_range").set_value((1, 2)).run()
    at.multiselect(key="sweep_cov_types").set_value(["full"]).run()
    at.button(key="run_sweep").click().run()
    shown = assert_literal(at, "model_selection")
    assert HOSTILE_FILENAME in shown
    assert_charts_escaped(at, "model_selection")
    at = goto(hostile_app, "export")
    shown = assert_literal(at, "export")
    assert HOSTILE_FILENAME in shown
    preview = at.dataframe[0].value
    assert list(preview.columns[:6]) == [*XSS_NUMERIC, XSS_LABEL_COLUMN, XSS_FORMULA_COLUMN]


def test_hostile_names_in_error_messages_are_escaped():
    at = open_app()
    name = "<img src=x onerror=alert(1)>"
    upload(at, f"{name},:red[y]\n1,5\n2,5\n3,5\n4,5\n".encode(), "c.csv")
    at.toggle(key="standardize").set_value(True).run()
    (error,) = at.error
    assert name not in error.value and ":red[y]" not in error.value
    assert "Column ':red[y]' has the same value in every used row" in plain(error.value)
    upload(at, b"[x](javascript:alert(1)),b\nx,a\ny,b\n", HOSTILE_FILENAME)
    (error,) = at.error
    assert HOSTILE_FILENAME not in error.value
    assert plain(error.value).startswith(f"{HOSTILE_FILENAME} has no numeric column; at least one is needed.")


@pytest.mark.parametrize(
    "text",
    ["http://example.invalid/p.png", "see HTTPS://example.invalid", "www.example.invalid", "me@example.invalid",
     "![](http://example.invalid/p.png)", "<me@example.invalid>", "[x](javascript:alert(1))"],
)
def test_escaped_text_cannot_become_a_link(text):
    """GitHub-flavoured Markdown links bare URLs and e-mail addresses in the DECODED text (the
    same regular expressions as Streamlit's Markdown renderer); backslashes alone do not stop that."""
    escaped = escape_markdown(text)
    decoded = re.sub(r"\\(.)", r"\1", escaped)  # what the renderer's text nodes hold
    assert not re.search(r"(https?://|www(?=\.))", decoded, re.IGNORECASE), decoded
    assert not re.search(r"[-.\w+]@[-\w]", decoded), decoded
    assert plain(escaped) == text


# ---------------------------------------------------------------- exports


def test_export_is_safe_in_a_spreadsheet_and_has_a_safe_name(monkeypatch):
    calls = {}
    real = streamlit.download_button

    def spy(label, data=None, file_name=None, **kwargs):
        calls[kwargs.get("key")] = (file_name, data)
        return real(label, data, file_name, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    at = open_app()
    upload(at, XSS_CSV, HOSTILE_FILENAME)
    goto(at, "export")
    name, data = calls["download_csv"]
    json_name, _ = calls["download_json"]
    for file_name in (name, json_name):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", file_name), file_name
        assert not file_name.startswith(".") and len(file_name) < 120  # no separators: the regex
    assert name.endswith("_full_k3_labelled.csv") and json_name.endswith("_full_k3_model.json")

    content = (data() if callable(data) else data)
    content = content.decode("utf-8") if isinstance(content, bytes) else content
    rows = list(csv.reader(io.StringIO(content)))
    header, body = rows[0], rows[1:]
    assert len(body) == 36
    assert header[:6] == [*XSS_NUMERIC, XSS_LABEL_COLUMN, "'" + XSS_FORMULA_COLUMN]
    assert header[6:] == ["component", "max_responsibility", "uncertainty", "responsibility_1", "responsibility_2",
                          "responsibility_3"]
    source = list(csv.reader(io.StringIO(XSS_CSV.decode())))[1:]
    for out, original in zip(body, source):
        assert [float(v) for v in out[:4]] == [float(v) for v in original[:4]]  # numbers untouched, '-0.832' too
        assert out[4] == original[4]  # ':red[x]', '<img ...>' are not formulas: kept as they are
        cell = original[5].strip()
        expected = "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell
        assert out[5] == expected
        assert out[6] in ("1", "2", "3")
    formulas = {row[5] for row in body}
    assert {"'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd"} <= formulas
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)
    assert not any(cell.startswith("-") and not _is_number(cell) for row in rows for cell in row)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- shared links


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize(
    "params",
    [
        {"cov_type": "<img src=x onerror=alert(1)>", "n_components": "1e9", "tol": "nan", "max_iter": "-1",
         "seed": "9" * 30, "init": ":red[x]", "reg_covar": "-1"},
        {"source": "builtin", "builtin": "../../etc/passwd", "cols": ["<img src=x onerror=alert(1)>", "x"]},
        {"source": "builtin", "builtin": "iris", "cols": ["species", "species"], "standardize": "$x$"},
        {"source": "generate", "gen_n_samples": "10", "gen_centers": "10", "gen_spread": "1e308"},
        {"source": "<b>upload</b>", "cols": "[x](javascript:alert(1))"},
    ],
)
def test_a_hostile_link_cannot_break_the_app_or_inject_text(params):
    """A shared link is user input too: invalid values are ignored (and named), never rendered raw."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    raw = [v for value in params.values() for v in ([value] if isinstance(value, str) else value)]
    for text in rendered_texts(at):
        for value in raw:
            if any(ch in value for ch in "<[]$:"):
                assert value not in text, (value, text)
    assert at.selectbox(key="cov_type").value in ("full", "tied", "diag", "spherical")
    assert 1 <= at.number_input(key="n_components").value <= 15


def test_reproduction_script_keeps_hostile_names_as_strings(monkeypatch, tmp_path):
    """The downloaded Python script embeds column names as string literals: running it runs no user text."""
    import ast
    import subprocess
    import sys

    calls = {}
    real = streamlit.download_button

    def spy(label, data=None, file_name=None, **kwargs):
        calls[kwargs.get("key")] = (file_name, data)
        return real(label, data, file_name, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    evil = 'x"]; import os; print("PWNED"); os.system("echo PWNED") #'
    rows = "".join(f"{a},{b}\n" for a, b in [(1, 2), (3, 5), (2, 2), (8, 1), (5, 5), (9, 9), (1, 8), (7, 3)])
    data = f'"{evil.replace(chr(34), chr(34) * 2)}",=1+1\n{rows}'.encode()
    at = open_app()
    upload(at, data, 'evil"); import os #.csv')
    goto(at, "export")
    assert "download_script" in calls, f"no reproduction script download; buttons: {sorted(calls)}"
    script_name, source = calls["download_script"]
    csv_name, csv_data = calls["download_csv"]
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.py", script_name), script_name
    source = source() if callable(source) else source
    tree = ast.parse(source)
    features = next(
        node.value for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "FEATURES" for t in node.targets)
    )
    assert ast.literal_eval(features) == [evil, "'=1+1"]
    assert not any(
        isinstance(node, ast.Call) and "PWNED" in ast.unparse(node) and ast.unparse(node.func) in ("print", "os.system")
        for node in ast.walk(tree)
    )
    (tmp_path / csv_name).write_bytes(csv_data() if callable(csv_data) else csv_data)
    (tmp_path / script_name).write_text(source, encoding="utf-8")
    run = subprocess.run([sys.executable, script_name], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "PWNED" not in run.stdout + run.stderr
    assert "labels agree: 8 of 8 rows" in run.stdout
