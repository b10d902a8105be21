"""Escaping and formatting of user text (column names, cell values, file names).

User text is data, never markup: everything that reaches Streamlit Markdown goes
through :func:`escape_markdown`, everything that reaches a Plotly title, legend or
hover label goes through :func:`plotly_text`. No Streamlit import here.
"""

from __future__ import annotations

import html
import re
import string
import unicodedata

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all
# of them also disarms Streamlit's extensions (:red[x] colours, $x$ LaTeX, :material/x: icons).
_MARKDOWN_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# GitHub-flavoured Markdown turns 'http://...', 'www.x' and 'a@b.c' into links AFTER escapes are
# decoded, so backslashes cannot stop it; an invisible WORD JOINER (U+2060) inside them does.
WORD_JOINER = "\u2060"
_AUTOLINK_START = re.compile(r"(https?|www)(?=[:.])", re.IGNORECASE)
_EMAIL_AT = re.compile(r"(?<=[-.\w+])@")
MAX_STEM_CHARS = 80


def escape_markdown(text: object) -> str:
    """``text`` as Markdown that renders literally, on one line.

    Parameters
    ----------
    text : object
        Anything; it is converted with ``str``.

    Returns
    -------
    str
        Every ASCII punctuation character backslash-escaped and line breaks turned
        into spaces, so no emphasis, link, heading, list, table, colour directive,
        icon or LaTeX can start inside it; a ``WORD_JOINER`` after 'http', 'https'
        and 'www' and before the '@' of an e-mail address, so no bare URL or address
        becomes a link. It renders as the text itself.
    """
    one_line = " ".join(str(text).splitlines())
    one_line = _EMAIL_AT.sub(WORD_JOINER + "@", _AUTOLINK_START.sub(r"\1" + WORD_JOINER, one_line))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)


def plotly_text(text: object) -> str:
    """``text`` for a Plotly title, legend entry, annotation or hover template.

    Plotly renders a subset of HTML (``<b>``, ``<br>``, ``<a href>``) and substitutes
    ``%{...}`` in templates; ``&``, ``<``, ``>`` become entities and ``%`` becomes
    ``&#37;``, which Plotly turns back into the plain characters.
    """
    return html.escape(str(text), quote=False).replace("%", "&#37;")


def safe_filename_stem(name: str, *, fallback: str = "data") -> str:
    """A file-name stem made from ``name`` that is safe on every operating system.

    Accents are folded to ASCII, any run of other characters becomes ``_``, an
    extension such as ``.csv`` is dropped, leading dots are removed and the result
    is at most ``MAX_STEM_CHARS`` characters; ``fallback`` when nothing is left.
    """
    stem = re.sub(r"\.(csv|tsv|txt)$", "", name.strip(), flags=re.IGNORECASE)
    ascii_only = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    cleaned = _FILENAME_UNSAFE.sub("_", ascii_only).strip("._-")[:MAX_STEM_CHARS].rstrip("._-")
    return cleaned or fallback


def format_number(value: float, digits: int = 6) -> str:
    """A float with ``digits`` significant digits and thousands separators ('1,234.57')."""
    if value != value:  # NaN
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e12:
        decimals = max(0, digits - 1 - int(f"{abs(value):e}".split("e")[1]))
        return f"{value:,.{decimals}f}"
    return f"{value:.{digits - 1}e}"
