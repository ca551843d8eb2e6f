"""VAE figures (§7, Table I; chapter 13): images, the ELBO per epoch, and the β slider's frames."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ibcore.cache import decode_array
from ibcore.plots.style import SMALLEST, add_provenance, result_provenance, use_style


def _image_row(axes: Sequence[plt.Axes], images: np.ndarray, label: str) -> None:
    for ax, image in zip(axes, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    axes[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=SMALLEST)


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
    ax.legend(fontsize=SMALLEST)
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
    ax.set(xlabel="β", ylabel="nats / test image")
    ax.set_title(f"β = {beta:g}: KL {current[0]['test_kl']:.1f}, rec. {-current[0]['test_reconstruction']:.1f}",
                 fontsize=SMALLEST)
    ax.set_ylim(0, 1.6 * max(r + k for r, k in zip(recon, kl)))  # headroom: the legend sits above the bars
    ax.legend(fontsize=SMALLEST, loc="upper left", handlelength=1.2)
    fig.subplots_adjust(left=0.12, right=0.99, bottom=0.18, top=0.9)
    return add_provenance(fig, result_provenance(result))


def vae_beta_frames(result: Mapping) -> dict[float, plt.Figure]:
    """``{β: frame}`` for :func:`ibcore.widgets.beta_slider` (one :func:`plot_vae_beta_frame` per β)."""
    return {float(r["beta"]): plot_vae_beta_frame(result, r["beta"]) for r in result["rows"]}
