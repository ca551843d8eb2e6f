"""CIFAR-10 figures of §8 (ch. 15, 16): error vs filters (Fig. 3b), information per layer and per
unit (Fig. 6), test error and total correlation vs β (Fig. 5), Occluded CIFAR (Fig. 4).

Where a setting was trained with several seeds, a line joins the means over seeds, a bar spans
± one standard deviation and each seed is a small dot, so the reader sees the spread a verdict
is judged against.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ibcore.plots.style import SMALLEST, dropout_style, figsize, layout_with_provenance, result_provenance, use_style

_LAYER_STYLES = (("#0173b2", "o", "dropout layer 1 (after 32×32 → 16×16)"),
                ("#d55e00", "s", "dropout layer 2 (after 16×16 → 8×8)"))


def _rows(result: Mapping) -> list[dict]:
    rows = result.get("rows") or []
    if not rows:
        raise ValueError("the result has no rows to plot")
    return rows


def _over_seeds(rows: Sequence[Mapping], x: Callable[[Mapping], float],
                y: Callable[[Mapping], float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """(x values, mean of y over seeds, sd of y (0 for one seed), every (x, y) point), sorted by x."""
    groups: dict[float, list[float]] = {}
    for row in rows:
        groups.setdefault(x(row), []).append(y(row))
    xs = sorted(groups)
    means = np.array([np.mean(groups[v]) for v in xs])
    sds = np.array([np.std(groups[v], ddof=1) if len(groups[v]) > 1 else 0.0 for v in xs])
    return np.array(xs), means, sds, [(v, value) for v in xs for value in groups[v]]


def _seed_line(ax: plt.Axes, rows: Sequence[Mapping], x: Callable[[Mapping], float], y: Callable[[Mapping], float],
               *, colour, marker: str, label: str, ls: str = "-", filled: bool = True) -> None:
    """Mean over seeds with ± sd bars, and every seed as a dot."""
    xs, means, sds, points = _over_seeds(rows, x, y)
    ax.errorbar(xs, means, yerr=sds if sds.any() else None, color=colour, marker=marker, ls=ls, capsize=3,
                label=label, markerfacecolor=colour if filled else "white")
    if len(points) > len(xs):
        ax.plot(*zip(*points), ls="none", marker=".", ms=4, color=colour, alpha=0.5)


def _seeds_note(rows: Sequence[Mapping]) -> str:
    seeds = sorted({r.get("seed", 0) for r in rows})
    return f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}: mean ± sd, dots = seeds" if len(seeds) > 1 else "1 seed"


def _percent_axis(ax: plt.Axes, fractions: list[float]) -> None:
    ticks = sorted({round(100 * f) for f in fractions})
    ax.set_xticks(ticks, [f"{t}" for t in ticks])
    ax.set_xlabel("filters (% of All-CNN-32's)")


def plot_error_vs_filters(result: Mapping) -> plt.Figure:
    """Fig. 3b: CIFAR-10 test error (%) vs filter percentage, one line per dropout kind (Softplus),
    the mean over seeds with ± sd bars where a setting has several seeds."""
    rows = _rows(result)
    use_style()
    fig, ax = plt.subplots(figsize=figsize(4.4))
    for kind in dict.fromkeys(r["dropout"] for r in rows):
        style = dropout_style(kind)
        _seed_line(ax, [r for r in rows if r["dropout"] == kind], lambda r: 100 * r["filter_fraction"],
                   lambda r: 100 * r["test_error"], colour=style.colour, marker=style.marker, ls=style.linestyle,
                   filled=style.filled, label=style.label)
    _percent_axis(ax, [r["filter_fraction"] for r in rows])
    ax.set(ylabel="test error (%)", title=f"All-CNN-32 on CIFAR-10, Softplus (Fig. 3b) · {_seeds_note(rows)}")
    ax.legend(fontsize=SMALLEST)
    return layout_with_provenance(fig, result_provenance(result))


def plot_information_per_layer(result: Mapping) -> plt.Figure:
    """Fig. 6: (a) total information through each dropout layer, E_x Σ_units KL (nats per image),
    and (b) the average per unit, vs filter percentage (Information Dropout rows of cifar-filters;
    mean over seeds, ± sd)."""
    rows = [r for r in _rows(result) if r.get("information")]
    if not rows:
        raise ValueError("the result has no Information Dropout rows")
    use_style()
    fig, (ax_total, ax_unit) = plt.subplots(1, 2, figsize=figsize(4.0))
    percent = lambda r: 100 * r["filter_fraction"]  # noqa: E731
    for k, (colour, marker, label) in enumerate(_LAYER_STYLES):
        _seed_line(ax_total, rows, percent, lambda r, k=k: r["information"][k]["total"], colour=colour,
                   marker=marker, label=label)
        _seed_line(ax_unit, rows, percent, lambda r, k=k: r["information"][k]["per_unit"], colour=colour,
                   marker=marker, label=label)
    for ax in (ax_total, ax_unit):
        _percent_axis(ax, [r["filter_fraction"] for r in rows])
    ax_total.set(ylabel="nats per image", title="(a) total information through the layer")
    ax_unit.set(ylabel="nats per unit and image", title="(b) average information per unit")
    ax_total.legend(fontsize=SMALLEST)
    return layout_with_provenance(fig, result_provenance(result))


def _beta_axis(ax: plt.Axes, betas: Sequence[float]) -> None:
    """β on a log axis, or symmetric-log when β = 0 is among them, ticked at the values run."""
    positive = [b for b in betas if b > 0]
    if len(positive) < len(betas):
        ax.set_xscale("symlog", linthresh=min(positive) if positive else 1.0)
    else:
        ax.set_xscale("log")
    ticks = sorted(set(betas))
    ax.set_xticks(ticks, [f"{b:g}" for b in ticks])
    ax.minorticks_off()
    ax.set_xlabel("β (paper-equivalent)")


def plot_tc_vs_beta(result: Mapping) -> plt.Figure:
    """Fig. 5: test error (%) and the Gaussian total correlation of the last dropout layer's
    log-activations (nats) vs β: with the noise on (the paper's quantity) and, where the result has
    it, with the noise off (the control: the added noise alone lowers the noisy TC)."""
    rows = _rows(result)
    use_style()
    fig, (ax_err, ax_tc) = plt.subplots(1, 2, figsize=figsize(4.0))
    beta = lambda r: r["beta"]  # noqa: E731
    _seed_line(ax_err, rows, beta, lambda r: 100 * r["test_error"], colour="#0173b2", marker="o", label="test error")
    _seed_line(ax_tc, rows, beta, lambda r: r["total_correlation"], colour="#d55e00", marker="s",
               label="noise on: log(ε·f(x))")
    if all("total_correlation_noise_off" in r for r in rows):
        _seed_line(ax_tc, rows, beta, lambda r: r["total_correlation_noise_off"], colour="#d55e00", marker="D",
                   ls="--", label="noise off: log f(x) (control)")
        ax_tc.legend(fontsize=SMALLEST)
    for ax in (ax_err, ax_tc):
        _beta_axis(ax, [r["beta"] for r in rows])
    ax_err.set(ylabel="test error (%)", title=f"test error (noise off) · {_seeds_note(rows)}")
    ax_tc.set(ylabel="total correlation (nats)", title="TC of log z, last dropout layer")
    return layout_with_provenance(fig, result_provenance(result))


def plot_occlusion(result: Mapping) -> plt.Figure:
    """Fig. 4: main-task error with the noise off (D) and on (N), and the nuisance head's error
    on the occluding digit, vs the paper-equivalent β (symmetric-log x, so that β = 0 shows);
    means over seeds with ± sd. Where the result records it, the main task's clean training error
    (noise off, as D) too: its gap below D is the overfitting β is claimed to prevent."""
    rows = _rows(result)
    use_style()
    fig, ax = plt.subplots(figsize=figsize(4.4))
    lines = (("test_error", "main task, noise off (D)", "#0173b2", "o", "-"),
             ("noisy_test_error", "main task, noise on (N)", "#0173b2", "^", "--"),
             ("nuisance_error", "nuisance: the occluding digit", "#d55e00", "s", "-"))
    if all(r.get("clean_train_error") is not None for r in rows):
        lines += (("clean_train_error", "main task, clean training error (D)", "#029e73", "D", ":"),)
    for key, label, colour, marker, style in lines:
        _seed_line(ax, rows, lambda r: r["beta"], lambda r, key=key: 100 * r[key], colour=colour, marker=marker,
                   ls=style, label=label)
    _beta_axis(ax, [r["beta"] for r in rows])
    ax.axhline(90, color="0.5", lw=0.8, ls=":", label="chance (10 classes)")
    ax.set(ylabel="test error (%)", title=f"Occluded CIFAR (Fig. 4) · {_seeds_note(rows)}")
    ax.legend(fontsize=SMALLEST)
    return layout_with_provenance(fig, result_provenance(result))
