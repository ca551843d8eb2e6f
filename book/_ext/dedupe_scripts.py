"""Sphinx extension: drop repeated <script> entries from each page.

Under Jupyter Book 1.x, sphinx-thebe registers its inline configuration
(``const THEBE_JS_URL = ...``) twice, and the second copy throws
"Identifier 'THEBE_JS_URL' has already been declared" in every page's console.
Keeping the first of identical scripts (same file, attributes and body) fixes it.
"""
from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple:
    """Identity of a script entry: its file (None and "" both mean inline) and its attributes/body."""
    attributes = getattr(script, "attributes", {}) or {}
    return str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items()))


def dedupe_scripts(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """html-page-context handler: keep the first of each identical script."""
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        if (key := _key(script)) not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"][:] = unique


def setup(app) -> dict:
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
