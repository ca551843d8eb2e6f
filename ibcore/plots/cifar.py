"""CIFAR-10 figures of §8 (ch. 15, 16): error vs filters (Fig. 3b), information per layer and per
unit (Fig. 6), test error and total correlation vs β (Fig. 5), Occluded CIFAR (Fig. 4)."""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt

from ibcore.plots.mnist import METHOD_LABELS, METHOD_STYLES
from ibcore.plots.style import SMALLEST, add_provenance, result_provenance, use_style

_LAYER_STYLES = (("#0173b2", "o", "dropout layer 1 (after 32×32 → 16×16)"),
                ("#d55e00", "s", "dropout layer 2 (after 16×16 → 8×8)"))


def _rows(result: Mapping) -> list[dict]:
    rows = result.get("rows") or []
    if not rows:
        raise ValueError("the result has no rows to plot")
    return rows


def _percent_axis(ax: plt.Axes, fractions: list[float]) -> None:
    ticks = sorted({round(100 * f) for f in fractions})
    ax.set_xticks(ticks, [f"{t}" for t in ticks])
    ax.set_xlabel("filters (% of All-CNN-32's)")


def plot_error_vs_filters(result: Mapping) -> plt.Figure:
    """Fig. 3b: CIFAR-10 test error (%) vs filter percentage, one line per dropout kind (Softplus)."""
    rows = _rows(result)
    use_style()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for kind in dict.fromkeys(r["dropout"] for r in rows):
        part = sorted((r for r in rows if r["dropout"] == kind), key=lambda r: r["filter_fraction"])
        colour, marker = METHOD_STYLES.get(kind, ("k", "o"))
        ax.plot([100 * r["filter_fraction"] for r in part], [100 * r["test_error"] for r in part],
                color=colour, marker=marker, label=METHOD_LABELS.get(kind, kind))
    _percent_axis(ax, [r["filter_fraction"] for r in rows])
    ax.set(ylabel="test error (%)", title="All-CNN-32 on CIFAR-10, Softplus (Fig. 3b)")
    ax.legend(fontsize=SMALLEST)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return add_provenance(fig, result_provenance(result))


def plot_information_per_layer(result: Mapping) -> plt.Figure:
    """Fig. 6: (a) total information through each dropout layer, E_x Σ_units KL (nats per image),
    and (b) the average per unit, vs filter percentage (Information Dropout rows of cifar-filters)."""
    rows = sorted((r for r in _rows(result) if r.get("information")), key=lambda r: r["filter_fraction"])
    if not rows:
        raise ValueError("the result has no Information Dropout rows")
    use_style()
    fig, (ax_total, ax_unit) = plt.subplots(1, 2, figsize=(10, 3.9))
    x = [100 * r["filter_fraction"] for r in rows]
    for k, (colour, marker, label) in enumerate(_LAYER_STYLES):
        ax_total.plot(x, [r["information"][k]["total"] for r in rows], color=colour, marker=marker, label=label)
        ax_unit.plot(x, [r["information"][k]["per_unit"] for r in rows], color=colour, marker=marker,
                     label=label)
    for ax in (ax_total, ax_unit):
        _percent_axis(ax, [r["filter_fraction"] for r in rows])
    ax_total.set(ylabel="nats per image", title="(a) total information through the layer")
    ax_unit.set(ylabel="nats per unit and image", title="(b) average information per unit")
    ax_total.legend(fontsize=SMALLEST)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return add_provenance(fig, result_provenance(result))


def plot_tc_vs_beta(result: Mapping) -> plt.Figure:
    """Fig. 5: test error (%) and the Gaussian total correlation of the last dropout layer's noisy
    log-activations (nats) vs the paper-equivalent β, log-x."""
    rows = sorted(_rows(result), key=lambda r: r["beta"])
    use_style()
    fig, (ax_err, ax_tc) = plt.subplots(1, 2, figsize=(10, 3.9))
    betas = [r["beta"] for r in rows]
    ax_err.plot(betas, [100 * r["test_error"] for r in rows], color="#0173b2", marker="o")
    ax_tc.plot(betas, [r["total_correlation"] for r in rows], color="#d55e00", marker="s")
    for ax in (ax_err, ax_tc):
        ax.set_xscale("log")
        ax.set_xticks(betas, [f"{b:g}" for b in betas])
        ax.minorticks_off()
        ax.set_xlabel("β (paper-equivalent)")
    ax_err.set(ylabel="test error (%)", title="test error (noise off)")
    ax_tc.set(ylabel="total correlation (nats)", title="TC of log z, last dropout layer (noise on)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return add_provenance(fig, result_provenance(result))


def plot_occlusion(result: Mapping) -> plt.Figure:
    """Fig. 4: main-task error with the noise off (D) and on (N), and the nuisance head's error
    on the occluding digit, vs the paper-equivalent β (symmetric-log x, so that β = 0 shows)."""
    rows = sorted(_rows(result), key=lambda r: r["beta"])
    use_style()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    betas = [r["beta"] for r in rows]
    lines = (("test_error", "main task, noise off (D)", "#0173b2", "o", "-"),
             ("noisy_test_error", "main task, noise on (N)", "#0173b2", "o", "--"),
             ("nuisance_error", "nuisance: the occluding digit", "#d55e00", "s", "-"))
    for key, label, colour, marker, style in lines:
        ax.plot(betas, [100 * r[key] for r in rows], color=colour, marker=marker, ls=style, label=label)
    positive = [b for b in betas if b > 0]
    ax.set_xscale("symlog", linthresh=min(positive) if positive else 1.0)
    ax.set_xticks(betas, [f"{b:g}" for b in betas])
    ax.minorticks_off()
    ax.axhline(90, color="0.5", lw=0.8, ls=":", label="chance (10 classes)")
    ax.set(xlabel="β (paper-equivalent)", ylabel="test error (%)", title="Occluded CIFAR (Fig. 4)")
    ax.legend(fontsize=SMALLEST)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return add_provenance(fig, result_provenance(result))
