"""MNIST figures: training curves (ch. 10), error vs width (§8 Fig. 3a, ch. 11),
activation priors (§6 Fig. 1, ch. 12)."""
from __future__ import annotations

from typing import Mapping

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from ibcore.plots.style import (DROPOUT_STYLES, SMALLEST, dropout_style, figsize, layout_with_provenance,
                                provenance, result_provenance, seed_count, use_style)

_KINDS = ("none", "binary", "lognormal", "information")
#: The MNIST chapters' kinds of dropout, labelled and styled from the book's one palette
#: (:data:`~ibcore.plots.style.DROPOUT_STYLES`).
METHOD_LABELS = {kind: DROPOUT_STYLES[kind].label for kind in _KINDS}
#: (colour, marker) per method, from :data:`~ibcore.plots.style.DROPOUT_STYLES`.
METHOD_STYLES = {kind: (DROPOUT_STYLES[kind].colour, DROPOUT_STYLES[kind].marker) for kind in _KINDS}


def plot_training_curves(result: dict) -> plt.Figure:
    """Test error and KL term per epoch, one style per dropout kind (``mnist-mlp``-style results; the
    paper's Fig. 3a at one width, as training curves).

    ``result["rows"]`` holds one trained model each, with ``dropout``, ``hidden``
    and ``history`` (per-epoch ``test_error`` and ``lz``). Seeds of the same
    dropout kind and widths are drawn as thin lines around their mean; kinds differ in colour,
    marker and line style, so that lines that overlap (no dropout and Information Dropout) stay
    apart. The right panel shows the KL term as nats per training image, N_train · Lz.
    """
    rows = result.get("rows") or []
    if not rows:
        raise ValueError("result has no rows to plot")
    use_style()
    n_train = result["data"]["n_train"]
    widths = sorted({tuple(row["hidden"]) for row in rows})
    groups: dict[tuple[str, tuple], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["dropout"], tuple(row["hidden"])), []).append(row)

    fig, (ax_err, ax_kl) = plt.subplots(1, 2, figsize=figsize(4.0))
    for (kind, hidden), members in groups.items():
        style = dropout_style(kind).kwargs()
        if len(widths) > 1:  # one shade per width, the widest darkest
            style.update(label=f"{style['label']} {'×'.join(map(str, hidden))}",
                         alpha=0.35 + 0.65 * widths.index(hidden) / (len(widths) - 1))
        errors = [[100 * e for e in row["history"]["test_error"]] for row in members]
        kls = [[n_train * v for v in row["history"]["lz"]] for row in members]
        _plot_runs(ax_err, errors, style)
        if any(any(curve) for curve in kls):  # binary/no dropout have no KL term
            _plot_runs(ax_kl, kls, style)
    ax_err.set(xlabel="epoch", ylabel="test error (%)", title="test error (noise off)")
    ax_kl.set(xlabel="epoch", ylabel="N_train · Lz (nats / image)",
              title="KL term, a bound on the information in z")
    ax_err.legend(fontsize=SMALLEST)
    if ax_kl.lines:
        ax_kl.legend(fontsize=SMALLEST)
    else:
        ax_kl.text(0.5, 0.5, "no KL term in these runs", ha="center", va="center", transform=ax_kl.transAxes)
    for ax in (ax_err, ax_kl):
        ax.xaxis.get_major_locator().set_params(integer=True)
    epochs = max(row["epochs"] for row in rows)
    return layout_with_provenance(fig, provenance(result["profile"], epochs=epochs, n_train=n_train,
                                                  seeds=seed_count(result), dataset=result["data"]["dataset"]))


def _plot_runs(ax: plt.Axes, curves: list[list[float]], style: dict) -> None:
    """The mean of per-epoch curves (one per seed) as a line with markers, each seed thin behind it."""
    n_epochs = min(map(len, curves))
    epochs = range(1, n_epochs + 1)
    mean = [sum(curve[i] for curve in curves) / len(curves) for i in range(n_epochs)]
    ax.plot(epochs, mean, markersize=6, lw=1.8, **style)
    if len(curves) > 1:
        for curve in curves:
            ax.plot(epochs, curve[:n_epochs], color=style["color"], linewidth=0.6, alpha=0.4)


def width_table(result: Mapping) -> "pd.DataFrame":
    """Test error (%) per method × width: mean, standard deviation, min and max over seeds."""
    import pandas as pd

    frame = pd.DataFrame([{k: r[k] for k in ("width", "dropout", "seed", "test_error")}
                          for r in result["rows"]])
    frame["test_error"] *= 100
    return frame.groupby(["dropout", "width"], sort=False)["test_error"].agg(
        ["mean", "std", "min", "max", "count"]).round(2)


def plot_error_vs_width(result: Mapping, ax: plt.Axes | None = None) -> plt.Figure:
    """Fig. 3a: test error (%) vs hidden width, log-x, one line per dropout method.

    Lines are the mean over seeds; the band spans the lowest to the highest seed. Each method keeps
    its colour, marker and line style of :data:`~ibcore.plots.style.DROPOUT_STYLES`.
    """
    if not result.get("rows"):
        raise ValueError("the result has no rows to plot")
    use_style()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=figsize(4.4))
    table = width_table(result).reset_index()
    for method, part in table.groupby("dropout", sort=False):
        style = dropout_style(method).kwargs()
        ax.plot(part["width"], part["mean"], markersize=7, lw=1.8, **style)
        ax.fill_between(part["width"], part["min"], part["max"], color=style["color"], alpha=0.15, lw=0)
    ax.set(xscale="log", yscale="log", xlabel="hidden units per layer (3 layers)",
           ylabel="test error (%)", title=f"MNIST error vs width ({int(table['count'].max())} seeds, band = range)")
    widths = sorted(table["width"].unique())
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.legend(fontsize=SMALLEST)
    return layout_with_provenance(fig, result_provenance(result))


def _density(hist: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edges, bin centres, density of log z among the positive values) of a stored histogram."""
    edges, counts = np.asarray(hist["edges"]), np.asarray(hist["counts"], dtype=float)
    widths = np.diff(edges)
    return edges, edges[:-1] + widths / 2, counts / max(counts.sum(), 1) / widths


def _normal_pdf(x: np.ndarray, mu, sigma) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def plot_activation_priors(result: Mapping) -> plt.Figure:
    """Fig. 1: histograms of log z (post-noise, last dropout layer, test images) vs the priors.

    ReLU: the log-uniform prior c/z is flat in log z (dashed), and q₀ is the
    zero fraction. Softplus: the normal fitted to log z (solid) and the
    average of the learned per-unit log-normal priors (dashed).
    """
    rows = {r["activation"]: r for r in result["rows"]}
    use_style()
    fig, axes = plt.subplots(1, len(rows), figsize=figsize(4.0), squeeze=False)
    for ax, (activation, row) in zip(axes[0], rows.items()):
        edges, centres, density = _density(row["histogram"])
        ax.stairs(density, edges, fill=True, alpha=0.5, label="empirical p(log z), z > 0")
        fit = row["fit"]
        if activation == "relu":
            ax.axhline(1 / (edges[-1] - edges[0]), ls="--", color="k", label="log-uniform c/z (flat)")
            title = f"ReLU: q₀ = {row['zero_fraction']:.3f} exact zeros"
        else:
            ax.plot(centres, _normal_pdf(centres, fit["mu"], fit["sigma"]), color="C1",
                    label=f"fitted N({fit['mu']:.2f}, {fit['sigma']:.2f}²)")
            if "learned_prior" in row:
                mu, sigma = (np.asarray(row["learned_prior"][k])[:, None] for k in ("mu", "sigma"))
                ax.plot(centres, _normal_pdf(centres[None], mu, sigma).mean(0), "k--",
                        label="learned prior (mean over units)")
            title = f"Softplus: KS = {fit['ks']:.3f}, Q-Q R² = {fit['qq_r2']:.3f}"
        ax.set(xlabel="log z", ylabel="density", title=title)
        ax.legend(fontsize=SMALLEST)
    return layout_with_provenance(fig, result_provenance(result))
