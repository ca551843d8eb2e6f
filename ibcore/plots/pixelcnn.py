"""The hybrid VAE-PixelCNN of Rey & Mnih (§3-4; chapter 21): the model's diagram, the trade-off
of test −ELBO against VAE KL (Fig. 2), samples per bottleneck strength (Fig. 3) and its table."""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from ibcore.cache import decode_array
from ibcore.plots.style import (SMALLEST, add_provenance, dropout_style, figsize, layout_with_provenance,
                                provenance_margin, result_provenance, use_style)

BOTTLENECK_LABELS = {"none": "no bottleneck", "gaussian": "Gaussian dropout (GD)",
                     "variational": "variational bottleneck (VB)"}
#: The parameter that sets each bottleneck's strength, and its symbol.
STRENGTH = {"gaussian": ("p", "p"), "variational": ("beta", "β")}


def _rows(result: Mapping, kind: str) -> list[dict]:
    """The rows of one bottleneck kind, weakest first (a model's seeds in the order trained)."""
    rows = [r for r in result["rows"] if r["bottleneck"] == kind]
    return sorted(rows, key=lambda r: r[STRENGTH[kind][0]]) if kind in STRENGTH else rows


def _models(result: Mapping, kind: str) -> list[dict]:
    """The models of one bottleneck kind, weakest first, each averaged over its seeds
    (:func:`ibcore.experiments.pixelcnn.by_model`)."""
    from ibcore.experiments.pixelcnn import by_model

    models = [m for m in by_model(result) if m["bottleneck"] == kind]
    return sorted(models, key=lambda m: m[STRENGTH[kind][0]]) if kind in STRENGTH else models


def _strength(row: Mapping) -> str:
    if row["bottleneck"] not in STRENGTH:
        return "none"
    key, symbol = STRENGTH[row["bottleneck"]]
    return f"{symbol} = {row[key]:g}"


def pixelcnn_table(result: Mapping):
    """A pandas DataFrame of a pixelcnn-bottleneck result, a row per model: the test −ELBO, its
    reconstruction part and the VAE KL in bits/dim, the VAE KL in nats per image and Σ_j KL_j of
    the variational bottleneck (last training epoch, nats per image); where a model has several
    seeds, their number and the means, with the −ELBO's sd over seeds beside it."""
    import pandas as pd

    from ibcore.experiments.pixelcnn import by_model

    models = by_model(result)
    seeded = any(m["seeds"] > 1 for m in models)
    records = [{"bottleneck": BOTTLENECK_LABELS[m["bottleneck"]], "strength": _strength(m),
                **({"seeds": m["seeds"]} if seeded else {}),
                "test −ELBO (bits/dim)": m["test_nelbo_bpd"],
                **({"−ELBO sd (bits/dim)": m["test_nelbo_bpd_sd"]} if seeded else {}),
                "−log p(x|z) (bits/dim)": m["test_nll_bpd"],
                "VAE KL (bits/dim)": m["test_kl_bpd"], "VAE KL (nats)": m["test_kl"],
                "Σ_j KL_j (nats, train)": m["train_bottleneck_kl"]} for m in models]
    return pd.DataFrame(records).round(4)


#: The ``gid`` of the p and β labels beside the trade-off's points (:func:`separate_point_labels` moves them).
POINT_LABEL = "point label"
#: Where a label may sit around its point, nearest first: (dx, dy) in points and its alignment. Beyond
#: the first ring a thin leader line joins the label to its point.
_PLACES = [((dx * r, dy * r), ha, va) for r in (3, 8, 14, 21, 30)
           for dx, dy, ha, va in [(1, 1, "left", "bottom"), (-1, 1, "right", "bottom"), (1, -1, "left", "top"),
                                  (-1, -1, "right", "top"), (0, 1.3, "center", "bottom"),
                                  (0, -1.3, "center", "top"), (1.3, 0, "left", "center"),
                                  (-1.3, 0, "right", "center"), (0.5, 1.2, "left", "bottom"),
                                  (1.2, 0.5, "left", "bottom"), (1.2, -0.5, "left", "top"),
                                  (0.5, -1.2, "left", "top")]]


def _distance(box, point) -> float:
    """Display distance from ``point`` to the nearest point of ``box`` (0 inside)."""
    return float(np.hypot(max(box.x0 - point[0], 0, point[0] - box.x1), max(box.y0 - point[1], 0, point[1] - box.y1)))


def _text_box(label, renderer):
    """The display box of an annotation's text, without its leader line, one pixel wider each side."""
    label.update_positions(renderer)
    return Text.get_window_extent(label, renderer).padded(1)


def _obstacles(ax: plt.Axes) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """What a label must not cover, in display coordinates: the legend's box (fixed where "best" put it),
    the markers (centres and radii) and points along every drawn line."""
    renderer = ax.figure.canvas.get_renderer()
    ax.figure.draw_without_rendering()
    blocked, centres, radii, path = [], [np.empty((0, 2))], [np.empty(0)], [np.empty((0, 2))]
    legend = ax.get_legend()
    if legend is not None:
        box = legend.get_window_extent(renderer)
        legend.set_loc(tuple(ax.transAxes.inverted().transform((box.x0, box.y0))))
        blocked.append(box.padded(2))
    for line in ax.get_lines():
        xy = ax.transData.transform(line.get_xydata())
        if line.get_marker() not in (None, "", "None", "none"):
            centres.append(xy)
            radii.append(np.full(len(xy), line.get_markersize() * ax.figure.dpi / 144 + 1))
        if line.get_linestyle() not in ("None", "none", "") and len(xy) > 1:
            steps = np.linspace(0, 1, 25)[:, None, None]
            path.append((xy[:-1] + (xy[1:] - xy[:-1]) * steps).reshape(-1, 2))
    return blocked, np.concatenate(centres), np.concatenate(radii), np.concatenate(path)


def separate_point_labels(ax: plt.Axes) -> plt.Figure:
    """Move the point labels of ``ax`` (its annotations with ``gid`` :data:`POINT_LABEL`) so that none
    overlaps another or the legend and each stays inside the axes, preferring places that cover no
    marker or line and sit nearer their own point than any other: each takes the first such place of
    :data:`_PLACES` (nearest first), else its cheapest. Call it after the figure's layout (the layout
    moves the points); the legend stays where it was."""
    renderer = ax.figure.canvas.get_renderer()
    blocked, centres, radii, path = _obstacles(ax)
    frame = ax.get_window_extent(renderer)
    for label in [t for t in ax.texts if t.get_gid() == POINT_LABEL]:
        own = ax.transData.transform(label.xy)
        costs = []
        for rank, (offset, ha, va) in enumerate(_PLACES):
            label.set(ha=ha, va=va)
            label.xyann = offset
            box = _text_box(label, renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            near = [_distance(box, c) for c in centres]
            cost = (100 * (sum(box.overlaps(b) for b in blocked) + (not inside))
                    + 10 * sum(d < r for d, r in zip(near, radii))
                    + (5 if rank < 12 else 2) * sum(d < _distance(box, own) - 0.5 for d in near)  # nearer another
                    + sum(box.contains(x, y) for x, y in path))
            costs.append((cost, rank))
            if cost == 0:
                break
        offset, ha, va = _PLACES[min(costs)[1]]
        label.set(ha=ha, va=va)
        label.xyann = offset
        label.arrow_patch.set_visible(min(costs)[1] >= 12)  # a leader line beyond the first ring
        blocked.append(_text_box(label, renderer))
    return ax.figure


def _draw_tradeoff(ax: plt.Axes, result: Mapping, highlight: Mapping | None) -> None:
    styles = {kind: dict(color=dropout_style(kind).colour, marker=dropout_style(kind).marker,
                         ls=dropout_style(kind).linestyle) for kind in ("gaussian", "variational")}
    for kind, style in styles.items():
        rows = _models(result, kind)
        kl, nelbo = [r["test_kl_bpd"] for r in rows], [r["test_nelbo_bpd"] for r in rows]
        ax.plot(kl, nelbo, label=BOTTLENECK_LABELS[kind] + (" (mean over seeds)" * _repeated(result)), **style)
        if _repeated(result):  # each seed of a repeated model, small, around its mean
            from ibcore.experiments.pixelcnn import model_key

            repeated = {model_key(m) for m in rows if m["seeds"] > 1}
            seeds = [r for r in _rows(result, kind) if model_key(r) in repeated]
            ax.plot([r["test_kl_bpd"] for r in seeds], [r["test_nelbo_bpd"] for r in seeds], linestyle="none",
                    marker=style["marker"], markersize=3, color=style["color"], alpha=0.5)
        for row, x, y in zip(rows, kl, nelbo):
            ax.annotate(_strength(row).split(" = ")[1], (x, y), textcoords="offset points", xytext=(4, 4),
                        fontsize=SMALLEST, color=style["color"], gid=POINT_LABEL,
                        arrowprops=dict(arrowstyle="-", color=style["color"], lw=0.6, shrinkA=1, shrinkB=4))
    for row in _rows(result, "none"):
        ax.plot(row["test_kl_bpd"], row["test_nelbo_bpd"], marker="*", markersize=14, color="0.2",
                linestyle="none", label=BOTTLENECK_LABELS["none"])
    if highlight is not None:
        ax.plot(highlight["test_kl_bpd"], highlight["test_nelbo_bpd"], marker="o", markersize=16,
                markerfacecolor="none", markeredgecolor="C3", markeredgewidth=2, linestyle="none")
    ax.set(xlabel="VAE KL (bits/dim)", ylabel="test −ELBO (bits/dim)")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.legend(fontsize=SMALLEST)


def _repeated(result: Mapping) -> bool:
    """Whether some model of the result was trained at more than one seed."""
    return len({int(r.get("seed", 0)) for r in result["rows"]}) > 1


def plot_tradeoff(result: Mapping) -> plt.Figure:
    """Fig. 2: test −ELBO against the VAE's KL, both in bits/dim, a curve per bottleneck over its
    strength (p or β, written at each point) and the no-bottleneck model as a star. Lower is
    a better fit; further right, more information in the latents. A model with several seeds is
    drawn at its mean, its seeds as small points around it."""
    use_style()
    fig, ax = plt.subplots(figsize=figsize(4.4))
    _draw_tradeoff(ax, result, None)
    ax.set_title("Fit vs use of the latents")
    layout_with_provenance(fig, result_provenance(result))
    return separate_point_labels(ax)


def _as_images(samples: np.ndarray) -> np.ndarray:
    """[draws, per_z, C, H, W] samples in [0, 1] (as the result stores them) → images for imshow:
    one channel as it is, colour as HWC."""
    if samples.shape[2] == 1:
        return samples[:, :, 0]
    return np.clip(samples.transpose(0, 1, 3, 4, 2), 0, 1)


def _find(result: Mapping, kind: str, value: float) -> dict:
    if kind == "none" or (kind in STRENGTH and value == 0):
        rows = _rows(result, "none")
    elif kind in STRENGTH:
        rows = [r for r in _rows(result, kind) if r[STRENGTH[kind][0]] == value]
    else:
        raise ValueError(f"unknown bottleneck {kind!r}; allowed: none, {', '.join(STRENGTH)}")
    if not rows:
        values = [r[STRENGTH[kind][0]] for r in _rows(result, kind)] if kind in STRENGTH else []
        raise ValueError(f"no {kind} run with strength {value!r}; strengths: {values}")
    return rows[0]  # a repeated model's first seed, the one the whole sweep was trained at


def plot_pixelcnn_frame(result: Mapping, kind: str, value: float) -> plt.Figure:
    """One frame of the sample slider (Fig. 3): the samples of the model with bottleneck ``kind``
    at strength ``value`` (p or β; 0 is the no-bottleneck model), each row drawn from one z, beside
    the trade-off plot with that model circled."""
    row = _find(result, kind, value)
    images = _as_images(decode_array(row["samples"]))
    draws, per_z = images.shape[:2]
    use_style()
    fig = plt.figure(figsize=figsize(4.0))
    left, right = fig.add_gridspec(1, 2, width_ratios=(1.0, 1.25), wspace=0.25)
    cells = left.subgridspec(draws, per_z, wspace=0.05, hspace=0.05)
    for d in range(draws):
        for s in range(per_z):
            ax = fig.add_subplot(cells[d, s])
            ax.imshow(images[d, s], cmap="gray_r" if images.ndim == 4 else None, vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
            if s == 0:
                ax.set_ylabel(f"z{d + 1}", rotation=0, ha="right", va="center", fontsize=SMALLEST)
    seed = f", seed {row.get('seed', 0)}" * _repeated(result)
    fig.suptitle(f"{BOTTLENECK_LABELS[row['bottleneck']]}, {_strength(row)}{seed}: samples, each row from one z "
                 f"(left); test −ELBO vs VAE KL (right)", fontsize="medium")
    from ibcore.experiments.pixelcnn import model_key

    model = next(m for m in _models(result, row["bottleneck"]) if model_key(m) == model_key(row))  # at its mean
    _draw_tradeoff(fig.add_subplot(right), result, model)
    add_provenance(fig, result_provenance(result), wrap=True)
    fig.subplots_adjust(left=0.04, right=0.98, bottom=provenance_margin(fig, 0.5), top=0.9)
    return separate_point_labels(fig.axes[-1])


def pixelcnn_frames(result: Mapping, kind: str) -> dict[float, plt.Figure]:
    """``{strength: frame}`` for :func:`ibcore.widgets.beta_slider`: one frame per p (``kind="gaussian"``)
    or β (``"variational"``), and the no-bottleneck model at 0 (a rate or weight of 0 is no bottleneck)."""
    if kind not in STRENGTH:
        raise ValueError(f"kind must be one of {', '.join(STRENGTH)}, got {kind!r}")
    key = STRENGTH[kind][0]
    values = [0.0] * bool(_rows(result, "none")) + [float(r[key]) for r in _models(result, kind)]
    return {value: plot_pixelcnn_frame(result, kind, value) for value in values}


def _box(ax: plt.Axes, xy: tuple[float, float], text: str, colour: str, width: float = 1.6) -> None:
    ax.add_patch(FancyBboxPatch((xy[0] - width / 2, xy[1] - 0.35), width, 0.7, boxstyle="round,pad=0.08",
                                facecolor=colour, edgecolor="0.3"))
    ax.text(*xy, text, ha="center", va="center", fontsize=SMALLEST)


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", end, start, arrowprops=dict(arrowstyle="->", color="0.3", lw=1.4))


def plot_hybrid_model() -> plt.Figure:
    """Rey & Mnih's Fig. 1 as a diagram: x → encoder → z → decoder → u; x_<j and u → PixelCNN → v_j
    → bottleneck → ṽ_j; [ṽ_j, u_j] → MLP mixer → p(x_j | x_<j, z)."""
    use_style()
    fig, ax = plt.subplots(figsize=figsize(3.4))
    top, bottom = 2.2, 0.6
    boxes = {"x": ((0.8, top), "image x", "0.92"), "enc": ((2.9, top), "VAE encoder\nq(z | x)", "#cfe3f5"),
             "z": ((5.0, top), "latents z\n4×4×16", "#cfe3f5"), "dec": ((7.1, top), "VAE decoder", "#cfe3f5"),
             "u": ((9.2, top), "u (per pixel)", "#cfe3f5"), "xl": ((0.8, bottom), "pixels x<j", "0.92"),
             "pcnn": ((2.9, bottom), "PixelCNN\n(x<j and u)", "#fbe3c8"),
             "v": ((5.0, bottom), "v_j (low-dim.)", "#fbe3c8"),
             "bn": ((7.1, bottom), "bottleneck:\nGD (p) / VB (β)", "#f6c6c6"),
             "mix": ((9.2, bottom), "MLP mixer\n[ṽ_j, u_j]", "#d9ead3"),
             "out": ((11.3, bottom), "p(x_j | x<j, z)", "0.92")}
    for xy, text, colour in boxes.values():
        _box(ax, xy, text, colour)
    for a, b in [("x", "enc"), ("enc", "z"), ("z", "dec"), ("dec", "u"), ("xl", "pcnn"), ("pcnn", "v"),
                 ("v", "bn"), ("bn", "mix"), ("mix", "out")]:
        (x0, y0), (x1, y1) = boxes[a][0], boxes[b][0]
        _arrow(ax, (x0 + 0.85, y0), (x1 - 0.85, y1))
    _arrow(ax, (9.2, top - 0.4), (9.2, bottom + 0.4))
    _arrow(ax, (8.5, top - 0.4), (3.5, bottom + 0.4))
    ax.text(9.3, 1.4, "u_j", fontsize=SMALLEST)
    ax.text(6.0, 1.5, "u", fontsize=SMALLEST)
    ax.text(4.0, 2.8, "global path: KL(q(z|x) ‖ N(0, I)) in the ELBO", ha="center", fontsize=SMALLEST)
    ax.text(6.0, -0.1, "autoregressive path, squeezed per pixel (VB adds β Σ_j KL_j to the loss)", ha="center",
            fontsize=SMALLEST)
    ax.set(xlim=(-0.1, 12.2), ylim=(-0.35, 3.0))
    ax.axis("off")
    fig.tight_layout()
    return fig
