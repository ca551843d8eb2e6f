"""VAE figures (§7, Table I; chapter 13): images, the ELBO per epoch, and the β slider's frames."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ibcore.cache import decode_array
from ibcore.plots.style import (FIGURE_WIDTH, SMALLEST, add_provenance, dropout_style, figsize,
                                layout_with_provenance, number, provenance_margin, result_provenance,
                                use_style)

#: The style of each VAE latent: the Gaussian latent is a variational (DVIB-like) layer.
_LATENT_STYLE = {"gaussian": "variational", "information": "information"}
#: Line styles of Table I's sizes k = 1, 2, 3 (latent 256·k).
_K_LINESTYLES = {1: ":", 2: "--", 3: "-"}


def _label(row: Mapping, with_k: bool) -> str:
    name = {"gaussian": "Gaussian latent", "information": "Information latent"}.get(row["latent"], row["latent"])
    return f"{name}, k = {row.get('k', 1)}" if with_k else name


def _image_row(axes: Sequence[plt.Axes], images: np.ndarray, label: str) -> None:
    for ax, image in zip(axes, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    axes[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=SMALLEST)


def plot_vae_images(result: Mapping, n: int = 8) -> plt.Figure:
    """Test images, their reconstructions p(x|z), z ~ q(z|x), and samples x ~ p(x|z), z ~ p(z), per
    latent (β = 1; at the largest k when the result has several)."""
    rows = [r for r in result["rows"] if r["beta"] == 1.0] or result["rows"]
    top = max(r.get("k", 1) for r in rows)
    rows = [r for r in rows if r.get("k", 1) == top]
    originals = decode_array(result["originals"])[:n]
    n = len(originals)
    use_style()
    height = FIGURE_WIDTH * 0.82 * (1 + 2 * len(rows)) / (n + 2.2) + 0.45
    fig, axes = plt.subplots(1 + 2 * len(rows), n, figsize=figsize(height), squeeze=False)
    _image_row(axes[0], originals, "test image")
    with_k = "ks" in result["config"]
    for i, row in enumerate(rows):
        label = _label(row, with_k).replace(", ", "\n")
        _image_row(axes[1 + 2 * i], decode_array(row["reconstructions"])[:n], f"{label}\nreconstruction")
        _image_row(axes[2 + 2 * i], decode_array(row["samples"])[:n], f"{label}\nsample")
    add_provenance(fig, result_provenance(result), wrap=True)
    fig.subplots_adjust(left=0.22, right=0.99, bottom=provenance_margin(fig, 0.1), top=0.99, wspace=0.05,
                        hspace=0.1)
    return fig


def plot_vae_elbo(result: Mapping) -> plt.Figure:
    """Test negative ELBO (nats per image) per epoch, one line per latent, k and β (Table I's metric):
    colour and marker by latent, line style by k."""
    use_style()
    fig, ax = plt.subplots(figsize=figsize(4.4))
    with_k = "ks" in result["config"]
    for row in sorted(result["rows"], key=lambda r: (r.get("k", 1), r["latent"], r["beta"])):
        nelbo = row["history"]["test_nelbo"]
        style = dropout_style(_LATENT_STYLE.get(row["latent"], row["latent"]))
        label = (_label(row, with_k) + (f", β = {row['beta']:g}" if len(result["config"]["betas"]) > 1 else "")
                 + (f", seed {row.get('seed', 0)}" if len(result["config"].get("seeds", [0])) > 1 else ""))
        ax.plot(range(1, len(nelbo) + 1), nelbo, color=style.colour, ls=_K_LINESTYLES.get(row.get("k", 1), "-"),
                marker=style.marker, markevery=max(1, len(nelbo) // 8), label=f"{label}: ELBO {number(row['test_elbo'])}")
    ax.set(xlabel="epoch", ylabel="test −ELBO (nats / image)", title="VAE on binarised MNIST")
    ax.set_ylim(top=min(ax.get_ylim()[1], 1.25 * max(r["history"]["test_nelbo"][-1] for r in result["rows"])))
    ax.legend(fontsize=SMALLEST, ncol=2 if len(result["rows"]) > 3 else 1)
    return layout_with_provenance(fig, result_provenance(result))


def plot_vae_beta_frame(result: Mapping, beta: float, n: int = 8) -> plt.Figure:
    """One frame of the β slider: reconstructions and samples at ``beta``, and the
    reconstruction/KL split of the test loss for every β (this one highlighted)."""
    rows = sorted(result["rows"], key=lambda r: (r["beta"], r.get("seed", 0)))
    current = [r for r in rows if r["beta"] == beta]
    if not current:
        raise ValueError(f"no run with beta={beta!r}; betas: {[r['beta'] for r in rows]}")
    betas, recon, kl = _per_beta(rows)
    use_style()
    fig = plt.figure(figsize=figsize(3.6))
    grid = fig.add_gridspec(3, n + 4, wspace=0.05)
    originals = decode_array(result["originals"])[:n]
    for r, (images, label) in enumerate(((originals, "test image"),
                                         (decode_array(current[0]["reconstructions"])[:n], "reconstruction"),
                                         (decode_array(current[0]["samples"])[:n], "sample"))):
        _image_row([fig.add_subplot(grid[r, c]) for c in range(len(images))], images, label)
    ax = fig.add_subplot(grid[:, n + 1:])
    labels = [f"{b:g}" for b in betas]
    colours = ["C0" if b == beta else "0.75" for b in betas]
    seeds = len(current)
    ax.bar(labels, recon, color=colours, label="−E log p(x|z)")
    ax.bar(labels, kl, bottom=recon, color=colours, alpha=0.45, hatch="//", label="KL(q ‖ p)")
    ax.set(xlabel="β", ylabel="nats / test image" + (f", mean of {seeds} seeds" if seeds > 1 else ""))
    here = betas.index(beta)
    ax.set_title(f"β = {beta:g}: KL {kl[here]:.1f}, rec. {recon[here]:.1f}", fontsize=SMALLEST)
    ax.set_ylim(0, 1.6 * max(r + k for r, k in zip(recon, kl)))  # headroom: the legend sits above the bars
    ax.legend(fontsize=SMALLEST, loc="upper left", handlelength=1.2)
    add_provenance(fig, result_provenance(result), wrap=True)
    fig.subplots_adjust(left=0.12, right=0.99, bottom=provenance_margin(fig, 0.5), top=0.9)
    return fig


def _per_beta(rows: Sequence[Mapping]) -> tuple[list[float], list[float], list[float]]:
    """The β values in order and, per β, the mean over seeds of −E log p(x|z) and of the KL (nats)."""
    betas = sorted({float(r["beta"]) for r in rows})
    of = [[r for r in rows if r["beta"] == b] for b in betas]
    return (betas, [float(np.mean([-r["test_reconstruction"] for r in group])) for group in of],
            [float(np.mean([r["test_kl"] for r in group])) for group in of])


def vae_beta_frames(result: Mapping) -> dict[float, plt.Figure]:
    """``{β: frame}`` for :func:`ibcore.widgets.beta_slider` (one :func:`plot_vae_beta_frame` per β; the
    images are the first seed's, the bars the means over seeds)."""
    return {beta: plot_vae_beta_frame(result, beta) for beta in sorted({float(r["beta"]) for r in result["rows"]})}
