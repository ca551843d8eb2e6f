"""Glued numbers: numeric values for the build's check, a true minus when the book prints them."""
from __future__ import annotations

import pytest

from ibcore.plots import prose


@pytest.mark.parametrize("text, shown", [("-90.16", "−90.16"), ("-0.5 nats", "−0.5 nats"), ("(-.5)", "(−.5)"),
                                         ("β-VAE", "β-VAE"), ("1-2 %", "1-2 %"), ("3e-5", "3e-5"), ("12", "12")])
def test_a_sign_becomes_a_true_minus_and_other_hyphens_stay(text, shown):
    assert prose.true_minus(text) == shown


def test_glued_values_stay_numbers():
    glued = prose.glue_numbers("test", {"elbo": -90.16, ("k", 2): 3})
    assert glued == {"test-elbo": -90.16, "test-k-2": 3.0} and all(type(v) is float for v in glued.values())


def test_glued_texts_are_strings_under_their_keys():
    assert prose.glue_text("ch11-claim", {("vs binary", "verdict"): "partly"}) == {"ch11-claim-vs-binary-verdict": "partly"}
    with pytest.raises(ValueError, match="non-empty strings"):
        prose.glue_text("test", {"verdict": 1.0})


def test_the_sphinx_extension_rewrites_pasted_numbers_only():
    pytest.importorskip("docutils")
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    document = new_document("test", get_default_settings(Parser))
    paragraph = nodes.paragraph()
    paragraph += nodes.inline("-95.84", "-95.84", classes=["pasted-text"])
    paragraph += nodes.Text(" nats, not -1 here")
    document += paragraph

    class App:
        handlers = {}

        def connect(self, event, handler):
            self.handlers[event] = handler

    app = App()
    assert prose.setup(app)["parallel_read_safe"]
    app.handlers["doctree-resolved"](app, document, "test")
    assert document.astext() == "−95.84 nats, not -1 here"
