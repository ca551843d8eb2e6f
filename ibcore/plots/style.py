"""The book's one plotting style and the provenance line every result figure carries."""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import seaborn as sns

PALETTE = "colorblind"
#: The smallest font size a figure uses: 10 pt, ≥ 10 px at the book's 80 dpi.
SMALLEST = "small"


#: The book's display resolution: a figure of w inches is w × DPI CSS pixels wide on the page.
DPI = 80
#: Pixels per display pixel of the book's PNGs (inline figures and slider frames): 2 keeps
#: figures sharp on high-density screens.
PIXEL_RATIO = 2


def use_style() -> None:
    """Apply the book's one plotting style (seaborn 'whitegrid', colour-blind palette).

    In a notebook, inline figures become "retina" PNGs: rendered at ``PIXEL_RATIO`` × ``DPI`` and
    shown at the size of ``DPI``, so that text keeps its size on the page and stays sharp.
    """
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titlesize": "medium"})
    _use_retina_inline_figures()


def _use_retina_inline_figures() -> None:
    """Ask IPython's inline backend for 2× PNGs with their display size in the metadata."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


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


#: Readable headers, with units, for the column names that results and tables use in code.
HEADERS = {
    "dropout": "dropout", "width": "width (units)", "beta": "β", "p": "p", "seed": "seed", "seeds": "seeds",
    "epochs": "epochs", "seconds": "time (s)", "sample_seconds": "sampling (s)",
    "test_error_pct": "test error (%)", "test_error_sd": "sd over seeds (%)", "train_error_pct": "train error (%)",
    "activation": "activation", "prior": "prior", "zero_fraction": "zeros (fraction)", "ks": "KS distance",
    "qq_r2": "Q–Q R²", "unit_ks_median": "median per-unit KS", "latent": "latent",
    "test_elbo": "test ELBO (nats)", "test_reconstruction": "reconstruction (nats)", "test_kl": "KL (nats)",
    "active_units": "active units", "bottleneck": "bottleneck",
    "test_nelbo_bpd": "test −ELBO (bits/dim)", "test_nll_bpd": "−log p(x|z) (bits/dim)",
    "test_kl_bpd": "VAE KL (bits/dim)", "train_bottleneck_kl": "Σ_j KL_j (nats, train)",
    "min_kl": "min KL (nats)", "i_xz": "I(x; z) (nats)", "tc": "TC(z) (nats)", "i_plus_tc": "I + TC (nats)",
    "gap": "min KL − (I + TC) (nats)", "max_marginal_gap": "max |q_i − p(z_i)|",
    "mean": "mean", "std": "sd", "min": "min", "max": "max", "count": "seeds",
}


def readable_header(name: object) -> object:
    """The header a table shows for a column named in code: ``HEADERS``, else underscores as spaces."""
    if not isinstance(name, str):
        return name
    return HEADERS.get(name, name.replace("_", " "))


def table(frame, *, caption: str | None = None, precision: int = 2, index: bool = False,
          escape: bool = True, formats: Mapping[str, str] | None = None):
    """The book's one table style: a pandas Styler of ``frame`` with readable headers
    (:func:`readable_header`), the index hidden unless ``index`` (it means something), numbers at
    ``precision`` decimals (or ``formats``, e.g. ``{"grid check": "{:.1e}"}``, by column), missing
    values as "—", text that wraps inside the column, and ``caption`` (e.g. the provenance line)
    below. ``escape=False`` lets cells hold HTML links."""
    frame = frame.rename(columns=readable_header)
    frame.index = frame.index.set_names([readable_header(n) for n in frame.index.names])
    styler = frame.style.format(precision=precision, na_rep="—", escape=None if not escape else "html")
    for column, spec in (formats or {}).items():
        styler = styler.format(spec, subset=[readable_header(column)], na_rep="—")
    if index:  # index values as written in code (β = 0.1, not 0.100000)
        styler = styler.format_index(lambda value: f"{value:g}" if isinstance(value, float) else value, axis=0)
    else:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    return styler.set_table_styles([
        {"selector": "", "props": "font-size: 0.9em;"},  # the table itself: ten columns fit the text column
        {"selector": "td, th", "props": "white-space: normal; text-align: left; vertical-align: top; "
                                        "padding: 0.15em 0.4em;"},
        {"selector": "td", "props": "font-variant-numeric: tabular-nums;"},
        {"selector": "caption", "props": "caption-side: bottom; font-size: 0.85em; color: #555;"}])
