"""Figures of the theory chapters (01, 02, 03, 20): ``ibcore.discrete_ib`` and ``ibcore.metrics`` results."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ibcore.plots.style import DROPOUT_STYLES, SMALLEST, figsize, use_style


def plot_ib_curve(solutions: Sequence, *, exact: tuple[np.ndarray, np.ndarray] | None = None,
                  current=None, ax: plt.Axes | None = None, title: str = "IB curve") -> plt.Figure:
    """The IB curve: one point (I(X;Z), I(Z;Y)) per solution, coloured by the book's β (eq. 2).

    ``solutions``: ``ibcore.discrete_ib.IBSolution`` objects; ``exact``: optional
    ``(i_xz, i_zy)`` arrays drawn as a line; ``current``: one solution to circle.
    """
    use_style()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=figsize(4.0))
    if exact is not None:
        ax.plot(*exact, color="0.6", lw=1.5, label="exact curve", zorder=1)
    pts = ax.scatter([s.i_xz for s in solutions], [s.i_zy for s in solutions], c=[s.beta for s in solutions],
                     cmap="viridis", norm=matplotlib.colors.LogNorm(), s=22, zorder=2, label="iterative IB")
    fig.colorbar(pts, ax=ax, label="β")
    if current is not None:
        ax.scatter([current.i_xz], [current.i_zy], s=160, facecolors="none", edgecolors="C3", lw=2,
                   zorder=3, label=f"β = {current.beta:.3g}")
    ax.set(xlabel="I(X; Z) [nats]", ylabel="I(Z; Y) [nats]", title=title)
    ax.legend(loc="lower right", fontsize=SMALLEST)
    fig.tight_layout()
    return fig


def plot_ib_frame(solution, solutions: Sequence, *,
                  exact: tuple[np.ndarray, np.ndarray] | None = None) -> plt.Figure:
    """One slider frame: the encoder p(z|x) at one β (heat map) beside its position on the curve."""
    use_style()
    fig, (ax_enc, ax_curve) = plt.subplots(1, 2, figsize=figsize(4.0), gridspec_kw={"width_ratios": [1, 1.4]})
    sns.heatmap(solution.encoder, ax=ax_enc, vmin=0, vmax=1, cmap="mako", annot=True, fmt=".2f",
                cbar=False, annot_kws={"size": 10})
    ax_enc.set(xlabel="z", ylabel="x", title=f"encoder p(z|x), β = {solution.beta:.3g}")
    plot_ib_curve(solutions, exact=exact, current=solution, ax=ax_curve,
                  title=f"L = H(Y|Z) + β I(X;Z) = {solution.lagrangian:.4f} nats")
    fig.tight_layout()
    return fig


def plot_stochastic_advantage(betas: Sequence[float], stochastic: Sequence[float], deterministic: Sequence[float],
                              *, theory: tuple[float, float] | None = None) -> plt.Figure:
    """Lagrangian of the best stochastic vs the best deterministic encoder over β (Remark, §4).

    ``stochastic``/``deterministic``: L values (nats); ``theory``: an interval of β
    where the stochastic encoder is predicted to win strictly (shaded).
    """
    use_style()
    fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=figsize(3.8))
    ax.plot(betas, deterministic, label="best deterministic", lw=2)
    ax.plot(betas, stochastic, "--", label="iterative IB (stochastic)", lw=2)
    ax.set(xlabel="β", ylabel="L = H(Y|Z) + β I(X;Z) [nats]", title="IB Lagrangian at the optimum")
    ax.legend(fontsize=SMALLEST)
    ax_gap.plot(betas, np.asarray(deterministic) - np.asarray(stochastic), color="C2", lw=2)
    if theory is not None:
        ax_gap.axvspan(*theory, color="C2", alpha=0.12, label="predicted range")
        ax_gap.legend(fontsize=SMALLEST)
    ax_gap.set(xlabel="β", ylabel="L_det − L_stoch [nats]", title="advantage of the stochastic encoder")
    fig.tight_layout()
    return fig


def plot_kl_priors(z_relu: np.ndarray, z_softplus: np.ndarray, alpha: float, *, bins: int = 120) -> plt.Figure:
    """Histograms of log z, z = ε·f(x), against the two priors of §6 (ReLU: log-uniform; Softplus: log-normal).

    Densities are of log z (nats' natural scale): the log-uniform prior q(z) = c/z is
    flat in log z (drawn flat, normalised over the plotted range); the log-normal prior
    is drawn with the mean and variance of log z fitted to the samples.
    """
    use_style()
    fig, axes = plt.subplots(1, 2, figsize=figsize(3.8))
    for ax, z, name in ((axes[0], z_relu, "ReLU"), (axes[1], z_softplus, "Softplus")):
        log_z = np.log(z[z > 0])
        lo, hi = np.quantile(log_z, [0.001, 0.999])
        ax.hist(log_z, bins=bins, range=(lo, hi), density=True, alpha=0.6, label="log z (samples)")
        grid = np.linspace(lo, hi, 200)
        if name == "ReLU":
            ax.plot(grid, np.full_like(grid, 1 / (hi - lo)), lw=2, label="log-uniform prior")
            share = f", {np.mean(z == 0):.0%} exact zeros"
        else:
            m, s = log_z.mean(), log_z.std()
            ax.plot(grid, np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * np.sqrt(2 * np.pi)), lw=2,
                    label=f"log-normal prior (μ={m:.2f}, σ={s:.2f})")
            share = ""
        ax.set(xlabel="log z", ylabel="density of log z", title=f"{name}, α = {alpha:.2f}{share}")
        ax.legend(fontsize=SMALLEST, loc="upper left")
    fig.tight_layout()
    return fig


def plot_tc_check(rows: Sequence[Mapping[str, float]]) -> plt.Figure:
    """Prop. 1 / Prop. 4: min_q E_x KL(p(z|x) ‖ Π q_i) against I(x; z) + TC(z), one point per draw."""
    use_style()
    fig, ax = plt.subplots(figsize=figsize(4.2))
    lhs = np.array([r["min_kl"] for r in rows])
    rhs = np.array([r["i_plus_tc"] for r in rows])
    lim = (0, 1.05 * max(lhs.max(), rhs.max()))
    ax.plot(lim, lim, color="0.6", lw=1, label="y = x")
    ax.scatter(rhs, lhs, s=30, zorder=2, label="random p(x) p(z|x)")
    ax.set(xlim=lim, ylim=lim, xlabel="I(x; z) + TC(z) [nats]", ylabel="min_q E_x KL(p(z|x) ‖ Π q_i) [nats]",
           title="Prop. 4: factorised prior ⇒ I + TC")
    ax.legend(fontsize=SMALLEST)
    fig.tight_layout()
    return fig


def plot_dropout_bound(scales: Sequence[float], curves: Mapping[str, Sequence[float]], *,
                       title: str = "Rescaling the input X → aX") -> plt.Figure:
    """Mutual information (nats) against the input scale a; ``curves`` maps a label to one value per scale."""
    use_style()
    fig, ax = plt.subplots(figsize=figsize(4.0))
    styles = ["-", "--", "-", "--"]
    colours = [DROPOUT_STYLES["gaussian"].colour, "0.35"]  # Gaussian dropout in the book's palette, then grey
    for k, (label, values) in enumerate(curves.items()):
        ax.plot(scales, values, styles[k % 4], lw=2, label=label, color=colours[(k // 2) % 2], marker="os"[k % 2],
                markersize=4)
    ax.set(xscale="log", xlabel="scale a of the input (X → aX)", ylabel="mutual information [nats]",
           title=title)
    ax.legend(fontsize=SMALLEST)
    fig.tight_layout()
    return fig


def plot_dropout_density(y: np.ndarray, density: np.ndarray, values: Sequence[float], probs: Sequence[float], *,
                         p: float, sigma: float, bound: float, mi: float) -> plt.Figure:
    """One slider frame: the density of Y = X·ε, ε ~ N(1, σ(p)²), with the bound (eq. 5) and I(X;Y)."""
    use_style()
    fig, ax = plt.subplots(figsize=figsize(3.6))
    ax.plot(y, density, lw=2, label="p(y)", color=DROPOUT_STYLES["gaussian"].colour)
    ax.vlines(values, 0, np.asarray(probs) * density.max(), color="0.25", lw=3, label="atoms of X (height ∝ p)")
    ax.set(xlabel="y", ylabel="density", ylim=(0, 1.1 * density.max()),
           title=f"p = {p:.2f}, σ = {sigma:.2f}: I(X;Y) = {mi:.3f} ≤ bound {bound:.3f} nats")
    ax.legend(fontsize=SMALLEST)
    fig.tight_layout()
    return fig
