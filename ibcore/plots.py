"""The book's figures: one seaborn style, every figure labelled with its provenance.

Each public ``plot_*`` function takes results (plain dicts/arrays from
``ibcore.experiments`` or ``ibcore.metrics``) and returns a matplotlib Figure.
Every figure that shows a trained model carries a caption line made by
:func:`provenance`, e.g. "quick profile · 3 epochs · 22,699 MNIST train images".
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ibcore.cache import decode_array

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


def plot_training_curves(result: dict) -> plt.Figure:
    """Test error and KL term per epoch, one colour per dropout kind (``mnist-mlp``-style results).

    ``result["rows"]`` holds one trained model each, with ``dropout``, ``hidden``
    and ``history`` (per-epoch ``test_error`` and ``lz``). Seeds of the same
    dropout kind and widths are drawn as thin lines around their mean.
    The right panel shows the KL term as nats per training image, N_train · Lz.
    """
    rows = result.get("rows") or []
    if not rows:
        raise ValueError("result has no rows to plot")
    use_style()
    n_train = result["data"]["n_train"]
    several_widths = len({tuple(row["hidden"]) for row in rows}) > 1
    groups: dict[str, list[dict]] = {}
    for row in rows:
        label = row["dropout"] + (f" {'×'.join(map(str, row['hidden']))}" if several_widths else "")
        groups.setdefault(label, []).append(row)

    fig, (ax_err, ax_kl) = plt.subplots(1, 2, figsize=(9, 3.6))
    colours = sns.color_palette(PALETTE, len(groups))
    for colour, (label, members) in zip(colours, groups.items()):
        errors = [[100 * e for e in row["history"]["test_error"]] for row in members]
        kls = [[n_train * v for v in row["history"]["lz"]] for row in members]
        _plot_runs(ax_err, errors, colour, label)
        if any(any(curve) for curve in kls):  # binary/no dropout have no KL term
            _plot_runs(ax_kl, kls, colour, label)
    ax_err.set(xlabel="epoch", ylabel="test error (%)", title="test error (noise off)")
    ax_kl.set(xlabel="epoch", ylabel="N_train · Lz (nats / image)",
              title="KL term, a bound on the information in z")
    ax_err.legend(title="dropout", fontsize="small")
    if ax_kl.lines:
        ax_kl.legend(fontsize="small")
    else:
        ax_kl.text(0.5, 0.5, "no KL term in these runs", ha="center", va="center", transform=ax_kl.transAxes)
    for ax in (ax_err, ax_kl):
        ax.xaxis.get_major_locator().set_params(integer=True)
    epochs = max(row["epochs"] for row in rows)
    add_provenance(fig, provenance(result["profile"], epochs=epochs, n_train=n_train,
                                   dataset=result["data"]["dataset"]))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def _plot_runs(ax: plt.Axes, curves: list[list[float]], colour, label: str) -> None:
    """The mean of per-epoch curves (one per seed) as a line with markers, each seed thin behind it."""
    n_epochs = min(map(len, curves))
    epochs = range(1, n_epochs + 1)
    mean = [sum(curve[i] for curve in curves) / len(curves) for i in range(n_epochs)]
    ax.plot(epochs, mean, color=colour, marker="o", markersize=3, label=label)
    if len(curves) > 1:
        for curve in curves:
            ax.plot(epochs, curve[:n_epochs], color=colour, linewidth=0.6, alpha=0.5)


# ---------------------------------------------------------------------------
# Theory chapters (01, 02, 03, 20): small figures of ibcore.discrete_ib / ibcore.metrics results
# ---------------------------------------------------------------------------

def plot_ib_curve(solutions: Sequence, *, exact: tuple[np.ndarray, np.ndarray] | None = None,
                  current=None, ax: plt.Axes | None = None, title: str = "IB curve") -> plt.Figure:
    """The IB curve: one point (I(X;Z), I(Z;Y)) per solution, coloured by the book's β (eq. 2).

    ``solutions``: ``ibcore.discrete_ib.IBSolution`` objects; ``exact``: optional
    ``(i_xz, i_zy)`` arrays drawn as a line; ``current``: one solution to circle.
    """
    use_style()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 3.6))
    if exact is not None:
        ax.plot(*exact, color="0.6", lw=1.5, label="exact curve", zorder=1)
    pts = ax.scatter([s.i_xz for s in solutions], [s.i_zy for s in solutions], c=[s.beta for s in solutions],
                     cmap="viridis", norm=matplotlib.colors.LogNorm(), s=22, zorder=2, label="iterative IB")
    fig.colorbar(pts, ax=ax, label="β")
    if current is not None:
        ax.scatter([current.i_xz], [current.i_zy], s=160, facecolors="none", edgecolors="C3", lw=2,
                   zorder=3, label=f"β = {current.beta:.3g}")
    ax.set(xlabel="I(X; Z) [nats]", ylabel="I(Z; Y) [nats]", title=title)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def plot_ib_frame(solution, solutions: Sequence, *,
                  exact: tuple[np.ndarray, np.ndarray] | None = None) -> plt.Figure:
    """One slider frame: the encoder p(z|x) at one β (heat map) beside its position on the curve."""
    use_style()
    fig, (ax_enc, ax_curve) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [1, 1.4]})
    sns.heatmap(solution.encoder, ax=ax_enc, vmin=0, vmax=1, cmap="mako", annot=True, fmt=".2f",
                cbar=False, annot_kws={"size": 8})
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
    fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax.plot(betas, deterministic, label="best deterministic", lw=2)
    ax.plot(betas, stochastic, "--", label="iterative IB (stochastic)", lw=2)
    ax.set(xlabel="β", ylabel="L = H(Y|Z) + β I(X;Z) [nats]", title="IB Lagrangian at the optimum")
    ax.legend(fontsize="small")
    ax_gap.plot(betas, np.asarray(deterministic) - np.asarray(stochastic), color="C2", lw=2)
    if theory is not None:
        ax_gap.axvspan(*theory, color="C2", alpha=0.12, label="predicted range")
        ax_gap.legend(fontsize="small")
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
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
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
        ax.legend(fontsize="x-small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_tc_check(rows: Sequence[Mapping[str, float]]) -> plt.Figure:
    """Prop. 1 / Prop. 4: min_q E_x KL(p(z|x) ‖ Π q_i) against I(x; z) + TC(z), one point per draw."""
    use_style()
    fig, ax = plt.subplots(figsize=(4.4, 4))
    lhs = np.array([r["min_kl"] for r in rows])
    rhs = np.array([r["i_plus_tc"] for r in rows])
    lim = (0, 1.05 * max(lhs.max(), rhs.max()))
    ax.plot(lim, lim, color="0.6", lw=1, label="y = x")
    ax.scatter(rhs, lhs, s=30, zorder=2, label="random p(x) p(z|x)")
    ax.set(xlim=lim, ylim=lim, xlabel="I(x; z) + TC(z) [nats]", ylabel="min_q E_x KL(p(z|x) ‖ Π q_i) [nats]",
           title="Prop. 4: factorised prior ⇒ I + TC")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_dropout_bound(scales: Sequence[float], curves: Mapping[str, Sequence[float]], *,
                       title: str = "Rescaling the input X → aX") -> plt.Figure:
    """Mutual information (nats) against the input scale a; ``curves`` maps a label to one value per scale."""
    use_style()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    styles = ["-", "--", "-", "--"]
    for k, (label, values) in enumerate(curves.items()):
        ax.plot(scales, values, styles[k % 4], lw=2, label=label, color=f"C{k // 2}")
    ax.set(xscale="log", xlabel="scale a of the input (X → aX)", ylabel="mutual information [nats]",
           title=title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_dropout_density(y: np.ndarray, density: np.ndarray, values: Sequence[float], probs: Sequence[float], *,
                         p: float, sigma: float, bound: float, mi: float) -> plt.Figure:
    """One slider frame: the density of Y = X·ε, ε ~ N(1, σ(p)²), with the bound (eq. 5) and I(X;Y)."""
    use_style()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(y, density, lw=2, label="p(y)")
    ax.vlines(values, 0, np.asarray(probs) * density.max(), color="C3", lw=3, label="atoms of X (height ∝ p)")
    ax.set(xlabel="y", ylabel="density", ylim=(0, 1.1 * density.max()),
           title=f"p = {p:.2f}, σ = {sigma:.2f}: I(X;Y) = {mi:.3f} ≤ bound {bound:.3f} nats")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


# --- §8 Fig. 3a, §6 Fig. 1, §7 Table I: chapters 11–13 ----------------------------------------

METHOD_LABELS = {"none": "no dropout", "binary": "binary dropout", "lognormal": "log-normal (fixed α)",
                 "information": "Information Dropout"}
#: (colour, marker) per method: distinct in colour and in shape.
METHOD_STYLES = {"none": ("0.45", "s"), "binary": ("#de8f05", "v"), "lognormal": ("#029e73", "^"),
                 "information": ("#0173b2", "o")}


def result_provenance(result: Mapping) -> str:
    """The provenance line of an experiment result: profile, epochs, train and test size."""
    data = result["data"]
    text = provenance(result["profile"], epochs=result["config"].get("epochs"),
                      n_train=data.get("n_train"), dataset=data.get("dataset"))
    return text + (f" · {data['n_test']:,} test" if "n_test" in data else "")


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

    Lines are the mean over seeds; the band spans the lowest to the highest seed.
    """
    if not result.get("rows"):
        raise ValueError("the result has no rows to plot")
    use_style()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6.4, 4.2))
    table = width_table(result).reset_index()
    palette = sns.color_palette(PALETTE)
    for i, (method, part) in enumerate(table.groupby("dropout", sort=False)):
        colour, marker = METHOD_STYLES.get(method, (palette[i % len(palette)], "o"))
        ax.plot(part["width"], part["mean"], marker=marker, color=colour, label=METHOD_LABELS.get(method, method))
        ax.fill_between(part["width"], part["min"], part["max"], color=colour, alpha=0.2, lw=0)
    ax.set(xscale="log", yscale="log", xlabel="hidden units per layer (3 layers)",
           ylabel="test error (%)", title=f"MNIST error vs width ({int(table['count'].max())} seeds, band = range)")
    widths = sorted(table["width"].unique())
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.legend(fontsize="small")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return add_provenance(fig, result_provenance(result))


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
    fig, axes = plt.subplots(1, len(rows), figsize=(5.2 * len(rows), 3.8), squeeze=False)
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
        ax.legend(fontsize="x-small")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return add_provenance(fig, result_provenance(result))


def _image_row(axes: Sequence[plt.Axes], images: np.ndarray, label: str) -> None:
    for ax, image in zip(axes, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    axes[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize="small")


def plot_vae_images(result: Mapping, n: int = 8) -> plt.Figure:
    """Test images, their reconstructions p(x|z), z ~ q(z|x), and samples x ~ p(x|z), z ~ p(z), per latent."""
    rows = [r for r in result["rows"] if r["beta"] == 1.0] or result["rows"]
    originals = decode_array(result["originals"])[:n]
    n = len(originals)
    use_style()
    fig, axes = plt.subplots(1 + 2 * len(rows), n, figsize=(0.8 * n + 1.6, 0.85 * (1 + 2 * len(rows)) + 0.4),
                             squeeze=False)
    _image_row(axes[0], originals, "test image")
    for i, row in enumerate(rows):
        _image_row(axes[1 + 2 * i], decode_array(row["reconstructions"])[:n], f"{row['latent']}\nreconstruction")
        _image_row(axes[2 + 2 * i], decode_array(row["samples"])[:n], f"{row['latent']}\nsample")
    fig.subplots_adjust(left=0.2, bottom=0.08, wspace=0.05, hspace=0.1)
    return add_provenance(fig, result_provenance(result))


def plot_vae_elbo(result: Mapping) -> plt.Figure:
    """Test negative ELBO (nats per image) per epoch, one line per latent and β (Table I's metric)."""
    use_style()
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for row in result["rows"]:
        nelbo = row["history"]["test_nelbo"]
        label = f"{row['latent']} (β = {row['beta']:g}): ELBO {row['test_elbo']:.1f}"
        ax.plot(range(1, len(nelbo) + 1), nelbo, marker="." if len(nelbo) < 40 else None, label=label)
    ax.set(xlabel="epoch", ylabel="test −ELBO (nats / image)", title="VAE on binarised MNIST")
    ax.legend(fontsize="small")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return add_provenance(fig, result_provenance(result))


def plot_vae_beta_frame(result: Mapping, beta: float, n: int = 8) -> plt.Figure:
    """One frame of the β slider: reconstructions and samples at ``beta``, and the
    reconstruction/KL split of the test loss for every β (this one highlighted)."""
    rows = sorted(result["rows"], key=lambda r: r["beta"])
    current = [r for r in rows if r["beta"] == beta]
    if not current:
        raise ValueError(f"no run with beta={beta!r}; betas: {[r['beta'] for r in rows]}")
    use_style()
    fig = plt.figure(figsize=(9.0, 3.4))
    grid = fig.add_gridspec(3, n + 4, wspace=0.05)
    originals = decode_array(result["originals"])[:n]
    for r, (images, label) in enumerate(((originals, "test image"),
                                         (decode_array(current[0]["reconstructions"])[:n], "reconstruction"),
                                         (decode_array(current[0]["samples"])[:n], "sample"))):
        _image_row([fig.add_subplot(grid[r, c]) for c in range(len(images))], images, label)
    ax = fig.add_subplot(grid[:, n + 1:])
    labels = [f"{r['beta']:g}" for r in rows]
    recon = [-r["test_reconstruction"] for r in rows]
    kl = [r["test_kl"] for r in rows]
    colours = ["C0" if r["beta"] == beta else "0.75" for r in rows]
    ax.bar(labels, recon, color=colours, label="−E log p(x|z)")
    ax.bar(labels, kl, bottom=recon, color=colours, alpha=0.45, hatch="//", label="KL(q ‖ p)")
    ax.set(xlabel="β", ylabel="nats / test image", title=f"β = {beta:g}: KL {current[0]['test_kl']:.1f}, "
           f"rec. {-current[0]['test_reconstruction']:.1f}")
    ax.legend(fontsize="x-small", loc="upper left")
    fig.subplots_adjust(left=0.12, right=0.99, bottom=0.18, top=0.9)
    return add_provenance(fig, result_provenance(result))


def vae_beta_frames(result: Mapping) -> dict[float, plt.Figure]:
    """``{β: frame}`` for :func:`ibcore.widgets.beta_slider` (one :func:`plot_vae_beta_frame` per β)."""
    return {float(r["beta"]): plot_vae_beta_frame(result, r["beta"]) for r in result["rows"]}


# --- Cluttered MNIST: KL maps (Fig. 2) and localisation scores -----------------------------------

def plot_kl_maps(result: dict, beta: float, layers: int = 3) -> plt.Figure:
    """Fig. 2 for one β: each example test image and the KL maps of the first ``layers`` dropout layers.

    Brighter = more information let through (nats, per location, summed over
    channels); the digit's box is drawn in red on the input.
    """
    use_style()
    row = next((r for r in result["rows"] if r["beta"] == beta), None)
    if row is None:
        raise ValueError(f"no run with beta={beta}; betas: {[r['beta'] for r in result['rows']]}")
    images = decode_array(result["examples"]["images"])
    maps = [decode_array(m) for m in row["maps"][:layers]]
    fig, axes = plt.subplots(len(images), 1 + len(maps), figsize=(1.7 * (1 + len(maps)), 1.7 * len(images)),
                             squeeze=False)
    for i, (image, box) in enumerate(zip(images, result["examples"]["boxes"])):
        axes[i, 0].imshow(image, cmap="gray", vmin=0, vmax=1)
        x0, y0, x1, y1 = box
        axes[i, 0].add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, color="red", lw=1))
        for j, layer_map in enumerate(maps, start=1):
            axes[i, j].imshow(layer_map[i], cmap="magma")
    for j, size in enumerate(row["map_sizes"][:layers], start=1):
        axes[0, j].set_title(f"layer {j}: KL, {size}×{size}", fontsize="small")
    axes[0, 0].set_title("input (digit box)", fontsize="small")
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
        ax.grid(False)
    fig.suptitle(f"β = {beta:g} · test error {100 * row['test_error']:.1f} %", fontsize="medium")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return add_provenance(fig, result_provenance(result))


def plot_localisation(result: dict) -> plt.Figure:
    """Localisation of the digit by each layer's KL map vs β, with the chance levels dashed."""
    use_style()
    betas = [r["beta"] for r in result["rows"]]
    n_layers = len(result["rows"][0]["localisation"])
    fig, (ax_hit, ax_mass) = plt.subplots(1, 2, figsize=(9, 3.8))
    for layer in range(n_layers):
        size = result["rows"][0]["map_sizes"][layer]
        scores = [r["localisation"][layer] for r in result["rows"]]
        line, = ax_hit.plot(betas, [100 * s["argmax_in_box"] for s in scores], "o-", label=f"layer {layer + 1} ({size}²)")
        ax_hit.plot(betas, [100 * s["argmax_chance"] for s in scores], ":", color=line.get_color(), lw=1)
        ax_mass.plot(betas, [s["mass_ratio"] for s in scores], "o-", color=line.get_color())
    ax_mass.axhline(1.0, ls=":", color="0.3", lw=1, label="chance")
    ax_hit.set(xlabel="β", ylabel="images (%)", title="(a) KL argmax inside the digit box\n(dotted: chance)")
    ax_mass.set(xlabel="β", ylabel="KL share in box ÷ area share", title="(b) KL mass concentration\n(1 = chance)")
    ax_hit.legend(fontsize="x-small")
    ax_mass.legend(fontsize="x-small")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return add_provenance(fig, result_provenance(result))


def plot_cluttered_samples(x, labels, boxes) -> plt.Figure:
    """Cluttered MNIST inputs with each digit's box in red and its label as title."""
    use_style()
    fig, axes = plt.subplots(1, len(x), figsize=(1.8 * len(x), 2.1), squeeze=False)
    for ax, image, label, (x0, y0, x1, y1) in zip(axes[0], x[:, 0], labels.tolist(), boxes.tolist()):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, color="red", lw=1))
        ax.set_title(f"label {label}", fontsize="small")
        ax.set_xticks([]), ax.set_yticks([])
        ax.grid(False)
    fig.tight_layout()
    return fig
