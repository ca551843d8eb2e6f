"""Numbers for a chapter's prose, taken from its results rather than typed by hand.

A chapter glues the numbers its text quotes (myst-nb's ``glue``), and its Markdown shows them with
the ``{glue:text}`` role, e.g. ``{glue:text}`ch11-information-3:.1f` %``. A number that a result no
longer holds fails the book build (a missing key is a warning, and the build treats warnings as
errors), so the prose cannot drift from the committed results.

Numbers are glued as numbers, so that the role's format (``:.1f``) applies and a missing or
non-numeric value still fails the build. Python prints a negative one with a hyphen-minus;
:func:`setup` makes this module a Sphinx extension (``sphinx: extra_extensions:
[ibcore.plots.prose]`` in ``_config.yml``) that prints every pasted number with a true minus
(U+2212) instead.
"""
from __future__ import annotations

import numbers
import re
from typing import Any, Mapping

#: The minus sign of typeset numbers (U+2212), which the prose uses instead of the hyphen-minus.
MINUS = "\u2212"
_SIGN_OF_A_NUMBER = re.compile(r"(?<![\w.])-(?=\.?\d)")


def glue_key(*parts: object) -> str:
    """The glue key of a number: its parts, lower-case, joined by "-" (``("ch11", "none", 3)`` → ``ch11-none-3``)."""
    text = "-".join(str(part) for part in parts).lower()
    return re.sub(r"[^a-z0-9.]+", "-", text).strip("-")


def glue_numbers(prefix: str, values: Mapping[object, float]) -> dict[str, float]:
    """Glue each value as ``<prefix>-<key>`` for the prose (no output shown) and return them by key.

    Values must be finite real numbers; they are glued as Python floats, which the
    ``{glue:text}`` role can format (``:.2f``). Outside a myst-nb build (``myst_nb`` missing,
    e.g. on Colab) nothing is glued and the numbers are only returned.

    Raises:
        ValueError: a value that is not a finite real number, or two keys that give one glue key.
    """
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value \
                or value in (float("inf"), float("-inf")):
            raise ValueError(f"glued numbers must be finite real numbers, got {key!r}: {value!r}")
    return _glue_all(prefix, {key: float(value) for key, value in values.items()}, "numbers")


def glue_text(prefix: str, values: Mapping[object, str]) -> dict[str, str]:
    """Glue each text as ``<prefix>-<key>`` (no output shown) and return them by key: the words a
    paragraph takes from a result, e.g. a claim's verdict, so that prose and table cannot disagree.
    Outside a myst-nb build nothing is glued and the texts are only returned.

    Raises:
        ValueError: a value that is not a non-empty string, or two keys that give one glue key.
    """
    for key, value in values.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"glued texts must be non-empty strings, got {key!r}: {value!r}")
    return _glue_all(prefix, values, "texts")


def _glue_all(prefix: str, values: Mapping[object, object], kind: str) -> dict:
    """Glue each (checked) value as ``<prefix>-<key>`` without output; two keys giving one glue key raise."""
    glued: dict = {}
    for key, value in values.items():
        name = glue_key(prefix, *(key if isinstance(key, tuple) else (key,)))
        if name in glued:
            raise ValueError(f"two {kind} would be glued as {name!r}")
        glued[name] = value
    try:
        from myst_nb import glue
    except ImportError:
        return glued
    for name, value in glued.items():
        glue(name, value, display=False)
    return glued


def glue_frame(prefix: str, frame) -> dict[str, float]:
    """Glue every number of a DataFrame as ``<prefix>-<row>-<column>`` (a MultiIndex row joins its
    levels): ``glue_frame("ch11", means)`` glues ``ch11-3-information`` for row 3, column
    "information". Missing values and text cells are skipped."""
    values = {}
    for row, series in frame.iterrows():
        for column, value in series.items():
            if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value:  # not NaN
                values[(*(row if isinstance(row, tuple) else (row,)), column)] = value
    return glue_numbers(prefix, values)


def true_minus(text: str) -> str:
    """``text`` with each hyphen-minus that signs a number replaced by a true minus: "-90.2 nats"
    → "−90.2 nats"; hyphens inside words and ranges ("β-VAE", "1-2") stay."""
    return _SIGN_OF_A_NUMBER.sub(MINUS, text)


def _pasted_numbers_with_true_minus(app: Any, doctree: Any, docname: str) -> None:
    """Rewrite the text of every number myst-nb pasted (``{glue:text}`` gives ``span.pasted-text``)."""
    from docutils import nodes

    for inline in list(doctree.findall(nodes.inline)):
        if "pasted-text" not in inline.get("classes", ()):
            continue
        for text in list(inline.findall(nodes.Text)):
            if (new := true_minus(text.astext())) != text.astext():
                text.parent.replace(text, nodes.Text(new))


def setup(app: Any) -> dict:
    """A Sphinx extension: glued numbers print with a true minus (see the module's docstring)."""
    app.connect("doctree-resolved", _pasted_numbers_with_true_minus)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
