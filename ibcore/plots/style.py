"""The book's one plotting style and the provenance line every result figure carries."""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import seaborn as sns

PALETTE = "colorblind"
#: The smallest font size a figure uses: 10 pt, ≥ 10 px at the book's 80 dpi.
SMALLEST = "small"


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


def add_provenance(fig: plt.Figure, text: str, *, fontsize: str | float = SMALLEST) -> plt.Figure:
    """Write the provenance line in the figure's bottom-left corner."""
    fig.text(0.01, 0.005, text, fontsize=fontsize, color="0.35", ha="left", va="bottom")
    return fig


def result_provenance(result: Mapping) -> str:
    """The provenance line of an experiment result: profile, epochs, train and test size, and, when
    the result records its ``provenance`` (device, commit), where it ran: "… · cpu · commit abc1234"."""
    data = result["data"]
    text = provenance(result["profile"], epochs=result["config"].get("epochs"),
                      n_train=data.get("n_train"), dataset=data.get("dataset"))
    text += f" · {data['n_test']:,} test" if "n_test" in data else ""
    run = result.get("provenance") or {}
    if run.get("device"):
        text += f" · {run['device']}"
    if run.get("commit"):
        text += f" · commit {str(run['commit'])[:7]}"
    return text


def table(frame, *, caption: str | None = None, precision: int = 2, index: bool = False,
          escape: bool = True):
    """The book's one table style: a pandas Styler of ``frame`` with the index hidden unless
    ``index`` (it means something), numbers at ``precision`` decimals, missing values as "—",
    text that wraps inside the column, and ``caption`` (e.g. the provenance line) below.
    ``escape=False`` lets cells hold HTML links."""
    styler = frame.style.format(precision=precision, na_rep="—", escape=None if not escape else "html")
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    return styler.set_table_styles([
        {"selector": "td, th", "props": "white-space: normal; text-align: left; vertical-align: top;"},
        {"selector": "caption", "props": "caption-side: bottom; font-size: 0.85em; color: #555;"}])
