"""The book's one plotting style: sizes that fit the text column, one palette per kind of dropout,
the provenance line every result figure carries, the one rounding rule and the one table style."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import matplotlib.pyplot as plt
import seaborn as sns

from ibcore.cache import readable_device

PALETTE = "colorblind"
#: The smallest font size a figure uses: 10 pt, 11.1 px at the book's 80 dpi (see :data:`MIN_TEXT_PX`).
SMALLEST = "small"

#: The book's display resolution: a figure of w inches is w × DPI CSS pixels wide on the page.
DPI = 80
#: Pixels per display pixel of the book's PNGs (inline figures and slider frames): 2 keeps
#: figures sharp on high-density screens.
PIXEL_RATIO = 2
#: The text column of the built book in CSS pixels: sphinx-book-theme 1.3's ``article.bd-article``
#: is 848 px wide in a 1400 px window, less 2 × 32 px of padding (measured in Chromium; 790 px at 1920).
COLUMN_PX = 784
#: The width a figure has in that column: pydata-sphinx-theme pads a ``<figure>`` by 8 px on each
#: side (measured), and a wider image is scaled down, its text with it.
FIGURE_PX = COLUMN_PX - 2 * 8
#: A figure's width in inches: :data:`FIGURE_PX` at :data:`DPI`, so that a figure is shown at its own
#: size (not scaled down) and its text keeps the size it was drawn at.
FIGURE_WIDTH = FIGURE_PX / DPI
#: No text of a figure is smaller than this at display size (CSS pixels).
MIN_TEXT_PX = 11


def figsize(height: float) -> tuple[float, float]:
    """(width, height) in inches of a figure as wide as the text column (:data:`FIGURE_WIDTH`)."""
    return (FIGURE_WIDTH, height)


@dataclass(frozen=True)
class DropoutStyle:
    """How one kind of dropout looks in every figure of the book: told apart by colour, marker
    and line style (a hollow marker for the baseline), so that overlapping lines stay readable."""

    label: str
    colour: str
    marker: str
    linestyle: str = "-"
    filled: bool = True

    def kwargs(self) -> dict:
        """Keyword arguments for ``Axes.plot`` / ``errorbar``; a hollow style is drawn on top, so that
        its outline stays visible where a filled marker lies under it."""
        return dict(color=self.colour, marker=self.marker, linestyle=self.linestyle, label=self.label,
                    markerfacecolor=self.colour if self.filled else "none", markeredgecolor=self.colour,
                    markeredgewidth=1.2 if self.filled else 1.6, zorder=2 if self.filled else 2.5)


#: THE palette of the book, one style per kind of dropout (colour-blind safe colours of seaborn's
#: "colorblind"); every figure that draws a kind of dropout reads it here.
DROPOUT_STYLES: dict[str, DropoutStyle] = {
    "none": DropoutStyle("no dropout", "#4d4d4d", "s", "--", filled=False),
    "binary": DropoutStyle("binary dropout", "#de8f05", "v", "-."),
    "lognormal": DropoutStyle("log-normal (fixed α)", "#029e73", "^", ":"),
    "information": DropoutStyle("Information Dropout", "#0173b2", "o", "-"),
    "gaussian": DropoutStyle("Gaussian dropout", "#d55e00", "D", "-"),
    "variational": DropoutStyle("variational bottleneck", "#cc78bc", "P", "--"),
}


def dropout_style(kind: str) -> DropoutStyle:
    """The style of a kind of dropout (:data:`DROPOUT_STYLES`); a kind the book does not know is grey."""
    return DROPOUT_STYLES.get(kind, DropoutStyle(kind, "0.3", "x", "-"))


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


#: What a figure or table of the ``quick`` profile says it is: a pipeline check, never evidence. (Not
#: "untrained": a quick mnist-mlp run reaches about 2 % test error; it is too short and too small for the claims.)
SMOKE_RUN = "pipeline check, not evidence"


def provenance(profile: str, *, epochs: int | None = None, n_train: int | None = None,
               dataset: str | None = None, seeds: int | None = None, paper_epochs: int | None = None) -> str:
    """One line saying where a figure's numbers come from: profile, epochs, seeds and data size,
    e.g. "cpu profile · 15 epochs · 2 seeds · 22,699 MNIST train images"; a ``quick`` run says
    first that it is a pipeline check (:data:`SMOKE_RUN`). With ``paper_epochs`` (the paper's own
    schedule) the epochs say whether they are the paper's: "80 epochs (the paper's)" or "15 of the
    paper's 80 epochs"."""
    parts = [f"{SMOKE_RUN} ({profile} profile)" if profile == "quick" else f"{profile} profile"]
    if epochs is not None and paper_epochs is not None and profile != "quick":
        parts.append(f"{epochs} epochs (the paper's)" if epochs == paper_epochs else
                     f"{epochs} of the paper's {paper_epochs} epochs")
    elif epochs is not None:
        parts.append(f"{epochs} epoch{'s' if epochs != 1 else ''}")
    if seeds is not None:
        parts.append(f"{seeds} seed{'s' if seeds != 1 else ''}")
    if n_train is not None:
        parts.append(f"{n_train:,} {dataset + ' ' if dataset else ''}train images")
    elif dataset:
        parts.append(dataset)
    return " · ".join(parts)


def add_provenance(fig: plt.Figure, text: str, *, fontsize: str | float = SMALLEST, wrap: bool = False) -> plt.Figure:
    """Write the provenance line in the figure's bottom-left corner. With ``wrap``, a line wider than
    the figure is broken at its " · " separators (a slider frame is saved as drawn, so a line that
    ran past the edge would be cut off there); :func:`provenance_lines` says how many lines it took."""
    artist = fig.text(0.01, 0.005, text, fontsize=fontsize, color="0.35", ha="left", va="bottom")
    if not wrap:
        return fig
    lines, room = [], 0.97 * fig.bbox.width
    for part in text.split(" · "):
        artist.set_text(f"{lines[-1]} · {part}" if lines else part)
        if lines and _width_px(fig, artist) <= room:
            lines[-1] += f" · {part}"
        else:
            lines.append(part)
    artist.set_text(" ·\n".join(lines))
    return fig


def layout_with_provenance(fig: plt.Figure, text: str) -> plt.Figure:
    """Write the provenance line under the figure, broken at its " · " separators where it is wider
    than the figure (:func:`add_provenance` with ``wrap``), and lay the axes out above it: a long
    line neither runs past the edge (which would widen the saved figure and shrink its text) nor
    overlaps the x-axis labels."""
    add_provenance(fig, text, wrap=True)
    fig.tight_layout(rect=(0, provenance_margin(fig, 0.06), 1, 1))
    return fig


def provenance_margin(fig: plt.Figure, above: float) -> float:
    """The bottom margin, as a share of the figure's height, that keeps ``above`` inches (tick labels,
    an x label) clear over the provenance line :func:`add_provenance` wrote, however many lines it took
    (0.17 in a line at the smallest font)."""
    return (above + 0.17 * provenance_lines(fig)) / fig.get_figheight()


def _width_px(fig: plt.Figure, artist) -> float:
    return artist.get_window_extent(fig.canvas.get_renderer()).width


def provenance_lines(fig: plt.Figure) -> int:
    """How many lines the provenance line of :func:`add_provenance` took (0 if there is none)."""
    texts = [t for t in fig.texts if t.get_position() == (0.01, 0.005)]
    return texts[-1].get_text().count("\n") + 1 if texts else 0


def seed_count(result: Mapping) -> int | None:
    """How many seeds a result averages over: its rows' distinct ``seed``, else its config's."""
    seeds = {row["seed"] for row in result.get("rows") or [] if "seed" in row}
    if seeds:
        return len(seeds)
    config = result.get("config") or {}
    return len(config["seeds"]) if "seeds" in config else (1 if "seed" in config else None)


def result_provenance(result: Mapping) -> str:
    """The provenance line of an experiment result: profile, epochs, seeds, train and test size, and,
    when the result records its ``provenance`` (device, commit), where it ran: "… · cpu · commit abc1234".
    A result computed with other ibcore sources than today's (its recorded source hash differs, or it
    records none) says so: "… · earlier ibcore sources" (``python -m ibcore verify NAME`` re-checks it)."""
    data = result["data"]
    text = provenance(result["profile"], epochs=result["config"].get("epochs"), seeds=seed_count(result),
                      n_train=data.get("n_train"), dataset=data.get("dataset"), paper_epochs=paper_epochs(result))
    text += f" · {data['n_test']:,} test" if "n_test" in data else ""
    run = result.get("provenance") or {}
    if run.get("device"):
        text += f" · {readable_device(run['device'])}"
    if run.get("commit"):
        text += f" · commit {str(run['commit'])[:7]}"
    if run and run.get("source_hash") != _todays_sources():
        text += " · earlier ibcore sources"
    return text


def paper_epochs(result: Mapping) -> int | None:
    """The epochs of the paper's own schedule for ``result``'s experiment (its ``full`` profile), or None
    for an experiment this ibcore does not register."""
    from ibcore import experiments

    try:
        return experiments.get(result["name"]).config("full").get("epochs")
    except (KeyError, ValueError):
        return None


@lru_cache(maxsize=1)
def _todays_sources() -> str:
    from ibcore.cache import source_hash

    return source_hash()


def glue_provenance(key: str, result: Mapping) -> str:
    """Glue a result's provenance line as text under ``key`` (a caption or the prose shows it with
    ``{glue:text}`key```) and return it; outside a myst-nb build it is only returned."""
    text = result_provenance(result)
    try:
        from myst_nb import glue
    except ImportError:
        return text
    glue(key, text, display=False)
    return text


def number(value: float, decimals: int = 1) -> str:
    """The book's one rounding rule for a number in text: the raw value rounded once to ``decimals``
    (Python's ``format``, which ``{glue:text}`key:.1f``` also applies), with a true minus sign.
    Round the raw value, never a rounded table: 12.4537 → "12.5", while 12.45 → "12.4"."""
    return format(float(value), f".{decimals}f").replace("-", "−")


#: The attribute under which :func:`set_alt` keeps a figure's alt text.
_ALT = "ibcore_alt_text"


def set_alt(fig: plt.Figure, text: str) -> plt.Figure:
    """Give a figure the text a screen reader says for it (slider frames use it as the image's alt)."""
    setattr(fig, _ALT, text)
    return fig


def alt_text(fig: plt.Figure) -> str:
    """The alt text of a figure: the one :func:`set_alt` gave it, else what its titles and axis labels
    say ("<title>: <y label> against <x label>; …")."""
    given = getattr(fig, _ALT, "")
    if given:
        return given
    parts = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) is not None else []
    for ax in fig.axes:
        axes = " against ".join(label for label in (ax.get_ylabel(), ax.get_xlabel()) if label)
        described = ": ".join(text for text in (ax.get_title(), axes) if text)
        if described and described not in parts:
            parts.append(described)
    return "; ".join(part for part in parts if part) or "figure"


#: Readable headers, with units, for the column names that results and tables use in code.
HEADERS = {
    "dropout": "dropout", "width": "width (units)", "beta": "β", "p": "p", "seed": "seed", "seeds": "seeds",
    "epochs": "epochs", "seconds": "time (s)", "sample_seconds": "sampling (s)",
    "test_error_pct": "test error (%)", "test_error_sd": "sd over seeds (%)",
    "clean_train_error_pct": "clean train error (%, noise off)",
    "train_error_pct": "running train error (%, noisy batches)",
    "activation": "activation", "prior": "prior", "zero_fraction": "zeros (fraction)", "ks": "KS distance",
    "qq_r2": "Q–Q R²", "unit_ks_median": "median per-unit KS", "latent": "latent",
    "test_elbo": "test ELBO (nats)", "test_reconstruction": "reconstruction (nats)", "test_kl": "KL (nats)",
    "active_units": "active units", "bottleneck": "bottleneck",
    "test_nelbo_bpd": "test −ELBO (bits/dim)", "test_nll_bpd": "−log p(x|z) (bits/dim)",
    "test_kl_bpd": "VAE KL (bits/dim)", "train_bottleneck_kl": "Σⱼ KLⱼ (nats, train)",
    "min_kl": "min KL (nats)", "i_xz": "I(x; z) (nats)", "tc": "TC(z) (nats)", "i_plus_tc": "I + TC (nats)",
    "gap": "min KL − (I + TC) (nats)", "max_marginal_gap": "max |q_i − p(z_i)|",
    "mean": "mean", "std": "sd", "min": "min", "max": "max", "count": "seeds",
}


def readable_header(name: object) -> object:
    """The header a table shows for a column named in code: :data:`HEADERS`, else a snake_case name
    with its underscores as spaces. A name that is already text (spaces, dots, symbols:
    "−H − kl.log_uniform(α, 0.7)", or a header of :data:`HEADERS`) is shown as written."""
    if not isinstance(name, str):
        return name
    if name in HEADERS:
        return HEADERS[name]
    return name.replace("_", " ") if name.replace("_", "").isalnum() else name


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
