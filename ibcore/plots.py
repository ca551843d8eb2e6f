"""The book's figures: one seaborn style, every figure labelled with its provenance.

Each public ``plot_*`` function takes results (plain dicts/arrays from
``ibcore.experiments`` or ``ibcore.metrics``) and returns a matplotlib Figure.
Every figure that shows a trained model carries a caption line made by
:func:`provenance`, e.g. "quick profile · 3 epochs · 22,699 MNIST train images".
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

PALETTE = "colorblind"


def use_style() -> None:
    """Apply the book's one plotting style (seaborn 'whitegrid', colour-blind palette)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "axes.titlesize": "medium"})


def provenance(profile: str, *, epochs: int | None = None, n_train: int | None = None,
               dataset: str | None = None) -> str:
    """One line saying where a figure's numbers come from (profile, epochs, data size)."""
    parts = [f"{profile} profile"]
    if epochs is not None:
        parts.append(f"{epochs} epoch{'s' if epochs != 1 else ''}")
    if n_train is not None:
        parts.append(f"{n_train:,} {dataset + ' ' if dataset else ''}train images")
    elif dataset:
        parts.append(dataset)
    return " · ".join(parts)


def add_provenance(fig: plt.Figure, text: str) -> plt.Figure:
    """Write the provenance line in the figure's bottom-left corner."""
    fig.text(0.01, 0.005, text, fontsize="x-small", color="0.35", ha="left", va="bottom")
    return fig
