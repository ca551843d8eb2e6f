"""Sphinx extension: an "Open in Colab" badge at the top of every chapter built from a notebook.

Jupyter Book 1.x offers Colab only inside the launch menu of the header, which readers miss.
This puts a visible link under each notebook page's title, to the same notebook on GitHub as
Colab opens it: ``https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH/PATH.ipynb``,
from the repository settings of ``_config.yml``. A link, not an image: the book loads nothing
from other hosts.
"""
from __future__ import annotations

from docutils import nodes

COLAB = "https://colab.research.google.com/github"
STYLE = ("display:inline-block;padding:0.15em 0.7em;border-radius:0.3em;background:#f9ab00;"
         "color:#1a1a1a;font-weight:600;text-decoration:none")


def colab_url(repository_url: str, branch: str, docname: str) -> str:
    """Colab's URL for the notebook ``docname`` (no suffix) of a GitHub repository."""
    slug = repository_url.rstrip("/").removeprefix("https://github.com/")
    return f"{COLAB}/{slug}/blob/{branch}/{docname}.ipynb"


def add_colab_badge(app, doctree: nodes.document, docname: str) -> None:
    """doctree-resolved handler: insert the badge after the title of a notebook's first section."""
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    options = app.config.html_theme_options or {}
    url = colab_url(options.get("repository_url", ""), options.get("repository_branch", "main"), docname)
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    badge = nodes.raw("", f'<p class="colab-badge"><a href="{url}" style="{STYLE}" '
                          f'title="Run this chapter in Google Colab">▶ Open in Colab</a></p>', format="html")
    section.insert(1 if section.children and isinstance(section[0], nodes.title) else 0, badge)


def setup(app) -> dict:
    app.connect("doctree-resolved", add_colab_badge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
