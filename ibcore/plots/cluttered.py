"""Cluttered MNIST figures (§8, Fig. 2; chapter 14): inputs, KL maps per β, localisation scores.

Geometry as in :mod:`ibcore.metrics.maps`: pixel ``p`` spans ``[p, p + 1)``; a map cell
is drawn centred on its receptive-field centre ``0.5 + i · jump``, so the digit box
(``(x0, y0, x1, y1)``, end-exclusive pixels) can be drawn on every map where the
localisation score sees it.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ibcore.cache import decode_array
from ibcore.plots.style import (DROPOUT_STYLES, FIGURE_WIDTH, SMALLEST, add_provenance, figsize, provenance_lines,
                                result_provenance, set_alt, use_style)

_BOX_COLOUR = "cyan"
#: The ink baseline's colour: brown, which no kind of dropout uses (the KL map is Information Dropout's blue).
_INK_COLOUR = "#a0522d"
#: Font size of the KL-map frames: 12 pt, 13 px at display size, so that it stays ≥ 11 px where a
#: narrower window scales the frame down.
_FRAME_FONT = "medium"


def _box(ax: plt.Axes, box: Sequence[float], colour: str = _BOX_COLOUR) -> None:
    x0, y0, x1, y1 = box
    ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color=colour, lw=1.2))


def _layer_vmax(result: Mapping, layer: int, quantile: float) -> float:
    """One colour-scale top per layer, shared by every β: a high quantile of the stored maps of all rows."""
    values = np.concatenate([np.ravel(decode_array(row["maps"][layer])) for row in result["rows"]])
    top = float(np.quantile(values, quantile)) if values.size else 0.0
    return top if top > 0 else (float(values.max(initial=0.0)) or 1.0)


def _ticks(vmax: float, scale: str) -> list[float]:
    """At most four colour-bar ticks that do not collide at 10 pt on a 1.5-inch bar: 0 and decades (log)."""
    if scale == "linear":
        return list(matplotlib.ticker.MaxNLocator(3).tick_values(0, vmax))
    top = int(np.floor(np.log10(vmax)))
    return [0.0] + [10.0 ** k for k in range(top - 2, top + 1) if 10.0 ** k >= vmax / 300]


def _layer_indices(layers: int | Sequence[int] | None, n_layers: int) -> list[int]:
    if layers is None:
        return list(range(n_layers))
    if isinstance(layers, int):
        return list(range(min(layers, n_layers)))
    indices = [k - 1 for k in layers]
    if any(not 0 <= k < n_layers for k in indices):
        raise ValueError(f"layers are numbered 1 to {n_layers}, got {list(layers)!r}")
    return indices


#: At most this many panels side by side in a KL-map frame: images in pairs when a network has few layers.
_MAX_COLUMNS = 6


def _examples_per_row(n_examples: int, n_columns: int) -> int:
    """How many (image + maps) groups share a row: the most that divide the examples and fit."""
    return max([k for k in range(1, n_examples + 1) if n_examples % k == 0 and k * n_columns <= _MAX_COLUMNS]
               or [1])


def plot_kl_maps(result: Mapping, beta: float, layers: int | Sequence[int] | None = None, *,
                 scale: str = "log", quantile: float = 0.995) -> plt.Figure:
    """Fig. 2 for one β: each example test image and the KL maps of its dropout layers.

    ``layers``: None for all (layers 1–4 of All-CNN-96), an int for the first
    ``layers``, or a list of layer numbers (1-based). Each map shows the KL per
    location (nats, summed over channels; brighter = more information let through),
    each cell centred on its receptive field's centre, with the digit's box in cyan.
    Every layer has ONE colour scale shared by all β of the result (vmin 0, vmax the
    ``quantile`` of that layer's stored maps over all rows; brighter values saturate),
    so frames of a β slider compare. ``scale="log"`` (default) is linear below
    vmax/1000 and logarithmic above: the maps of β = 0 are ~100× those of β ≥ 0.25,
    and on a linear shared scale the structure of the latter would be black;
    ``scale="linear"`` gives the plain linear scale. The figure is as wide as the text column;
    with few layers (Occluded CIFAR's two) two images share a row. Its alt text
    (:func:`~ibcore.plots.style.alt_text`) says what it shows and, where the result measured it,
    how much of each layer's KL falls on the digit.
    """
    if scale not in ("log", "linear"):
        raise ValueError(f"scale must be 'log' or 'linear', got {scale!r}")
    row = next((r for r in result["rows"] if r["beta"] == beta), None)
    if row is None:
        raise ValueError(f"no run with beta={beta}; betas: {[r['beta'] for r in result['rows']]}")
    use_style()
    chosen = _layer_indices(layers, len(row["maps"]))
    images = decode_array(result["examples"]["images"])
    boxes = result["examples"]["boxes"]
    size = images.shape[1]
    n, group = len(images), 1 + len(chosen)
    per_row = _examples_per_row(n, group)
    n_rows = n // per_row
    panel = FIGURE_WIDTH / (per_row * group)
    fig = plt.figure(figsize=(FIGURE_WIDTH, panel * n_rows + 2.0))
    grid = fig.add_gridspec(n_rows + 1, per_row * group, height_ratios=[1] * n_rows + [0.07],
                            hspace=0.12, wspace=0.08)
    cmap = matplotlib.colormaps["magma"]
    panels, titled = [], set()

    def axes_of(i: int, column: int) -> plt.Axes:
        ax = fig.add_subplot(grid[i // per_row, (i % per_row) * group + column])
        panels.append(ax)
        return ax

    for i, (image, box) in enumerate(zip(images, boxes)):
        ax = axes_of(i, 0)
        ax.imshow(image, cmap="gray", vmin=0, vmax=1, extent=(0, size, size, 0))
        _box(ax, box)
        if i < per_row:
            ax.set_title("input (digit box)", fontsize=_FRAME_FONT)
    for j, layer in enumerate(chosen, start=1):
        maps = decode_array(row["maps"][layer])
        h = maps.shape[-1]
        vmax = _layer_vmax(result, layer, quantile)
        norm = (matplotlib.colors.SymLogNorm(linthresh=vmax / 1000, vmin=0, vmax=vmax) if scale == "log"
                else matplotlib.colors.Normalize(vmin=0, vmax=vmax))
        left = 0.5 - size / h / 2  # cell i spans its receptive-field centre 0.5 + i·jump ± jump/2
        extent = (left, left + size, left + size, left)
        for i in range(n):
            ax = axes_of(i, j)
            shown = ax.imshow(maps[i], cmap=cmap, norm=norm, extent=extent, interpolation="nearest")
            _box(ax, boxes[i])
            ax.set(xlim=extent[:2], ylim=extent[2:])
            if i < per_row:
                ax.set_title(f"layer {layer + 1}: {h}×{h}", fontsize=_FRAME_FONT)
        for k in range(per_row):  # a colour bar under each map column
            cax = fig.add_subplot(grid[n_rows, k * group + j].subgridspec(1, 3, width_ratios=[0.1, 0.8, 0.1])[0, 1])
            bar = fig.colorbar(shown, cax=cax, orientation="horizontal",
                               extend="max" if maps.max() > vmax else "neither", ticks=_ticks(vmax, scale))
            bar.ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{float(f'{v:.2g}'):g}"))
            bar.ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            bar.set_label("KL per location\n(nats)", fontsize=_FRAME_FONT)
            bar.ax.tick_params(labelsize=SMALLEST)  # "10" and "100" stay apart on a 1.5-inch bar
    for ax in panels:
        ax.set_xticks([]), ax.set_yticks([])
        ax.grid(False)
    height = fig.get_figheight()
    fig.suptitle(f"β = {beta:g} · test error {100 * row['test_error']:.1f} % · one colour scale per layer "
                 f"for all β ({scale})", fontsize=_FRAME_FONT, y=1 - 0.12 / height, va="top")
    add_provenance(fig, result_provenance(result), fontsize=_FRAME_FONT, wrap=True)
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.75 / height,
                        bottom=(0.8 + 0.22 * provenance_lines(fig)) / height)
    return set_alt(fig, _kl_maps_alt(row, beta, chosen, n))


def _kl_maps_alt(row: Mapping, beta: float, chosen: Sequence[int], n: int) -> str:
    """What a KL-map frame shows, in words, with the KL mass on the digit per layer where measured."""
    layers = ", ".join(str(k + 1) for k in chosen)
    text = (f"β = {beta:g}, test error {100 * row['test_error']:.1f} %: {n} test images, each beside the KL "
            f"map of dropout layer{'s' if len(chosen) > 1 else ''} {layers} (brighter cells let more "
            "information through; the digit's box in cyan).")
    scores = row.get("localisation")
    if scores and all(k < len(scores) and scores[k].get("mass_ratio") is not None for k in chosen):
        ratios = ", ".join(f"{scores[k]['mass_ratio']:.1f}" for k in chosen)
        text += f" Share of the KL in the digit's box over the box's share of the map, per layer: {ratios} (1 = chance)."
    return text


def _scores(rows: Sequence[Mapping], key: str, layer: int) -> list[dict] | None:
    """Per-row score dicts of ``layer`` under ``key`` ("localisation", "ink_localisation"), or None."""
    found = [row.get(key) for row in rows]
    if any(f is None or len(f) <= layer for f in found):
        return None
    return [f[layer] for f in found]


def _series(scores: Sequence[Mapping] | None, name: str, factor: float = 1.0) -> list[float] | None:
    if scores is None or any(name not in s for s in scores):
        return None
    return [factor * s[name] if s[name] is not None else float("nan") for s in scores]


def plot_localisation(result: Mapping) -> plt.Figure:
    """How well each layer's KL map localises the digit, vs β (the claim of Fig. 2, measured).

    Top row: images whose KL-map argmax lies inside the digit box (%, ties counted
    fractionally); bottom row: share of the map's mass in the box ÷ share of the cells
    in the box (1 = chance). Beside the KL map (blue): the ink baseline (brown, the
    input's own brightness pooled to the same grid; ``ink_localisation`` of the rows or
    of the result) and chance (grey). Dashed: the same with the cells within the
    border margin left out. Older results without ink or margin scores plot what they have. A β with
    several seeds is drawn at their mean.
    """
    from ibcore.experiments.cluttered import by_beta

    rows = sorted(by_beta(result) if result.get("rows") else [], key=lambda r: r["beta"])  # means over seeds
    if not rows:
        raise ValueError("the result has no rows to plot")
    if "ink_localisation" in result and not any("ink_localisation" in r for r in rows):
        rows = [{**r, "ink_localisation": result["ink_localisation"]} for r in rows]
    use_style()
    betas = [r["beta"] for r in rows]
    n_layers = len(rows[0]["localisation"])
    fig, axes = plt.subplots(2, n_layers, figsize=figsize(6.6), sharex=True, sharey="row", squeeze=False)
    margin = rows[0]["localisation"][0].get("margin")
    border = f"border excluded ({margin:g} px)" if margin is not None else "border excluded"
    kl, ink = DROPOUT_STYLES["information"].colour, _INK_COLOUR
    styles = {  # label: (source key, colour, line style, marker)
        "KL map": ("localisation", kl, "-", "o"), f"KL map, {border}": ("localisation", kl, "--", "s"),
        "ink baseline": ("ink_localisation", ink, "-", "^"), f"ink, {border}": ("ink_localisation", ink, "--", "v"),
        "chance": ("localisation", "0.4", ":", None), f"chance, {border}": ("localisation", "0.4", "-.", None),
    }
    drawn: dict[str, Line2D] = {}
    for layer in range(n_layers):
        ax_hit, ax_mass = axes[0, layer], axes[1, layer]
        for label, (key, colour, ls, marker) in styles.items():
            suffix = "_margin" if border in label else ""
            scores = _scores(rows, key, layer)
            kw = dict(color=colour, ls=ls, marker=marker, markersize=5, lw=1.8 if key == "localisation" else 1.4,
                      markerfacecolor="white" if suffix else colour)
            name = "argmax_chance" if label.startswith("chance") else "argmax_in_box"
            hit = _series(scores, name + suffix, 100)
            if hit is not None:
                drawn[label], = ax_hit.plot(betas, hit, **kw)
            if label.startswith("chance"):
                if not suffix:
                    ax_mass.axhline(1.0, **{k: v for k, v in kw.items() if k in ("color", "ls", "lw")})
                continue
            mass = _series(scores, "mass_ratio" + suffix)
            if mass is not None:
                ax_mass.plot(betas, mass, **kw)
        size = rows[0]["map_sizes"][layer]
        ax_hit.set_title(f"layer {layer + 1} ({size}×{size})")
        ax_mass.set_xlabel("β")
        ax_mass.set_xticks(betas, [f"{b:g}" for b in betas])
    axes[0, 0].set_ylabel("argmax inside the box\n(% of test images)")
    axes[1, 0].set_ylabel("mass share in box ÷\narea share (1 = chance)")
    axes[0, 0].set_ylim(bottom=0)
    axes[1, 0].set_ylim(bottom=0)
    height = fig.get_figheight()
    add_provenance(fig, result_provenance(result), wrap=True)
    under_legend = 0.25 + 0.2 * (provenance_lines(fig) - 1)
    legend_rows = -(-len(drawn) // 3)
    fig.legend(list(drawn.values()), list(drawn), loc="lower center", ncol=3, fontsize=SMALLEST,
               bbox_to_anchor=(0.5, under_legend / height), frameon=False)
    fig.tight_layout(rect=(0, (under_legend + 0.15 + 0.25 * legend_rows) / height, 1, 1))
    return fig


def plot_cluttered_samples(x, labels, boxes, titles: Sequence[str] | None = None) -> plt.Figure:
    """Input images [N, C, H, W] (grey or RGB, in [0, 1]) with each digit's box in red, titled by
    ``titles`` or "label <label>" (Cluttered MNIST; Occluded CIFAR with the digit as the box), in one row
    as wide as the text column."""
    use_style()
    titles = [f"label {label}" for label in labels.tolist()] if titles is None else list(titles)
    fig, axes = plt.subplots(1, len(x), figsize=figsize(FIGURE_WIDTH / len(x) + 0.45), squeeze=False)
    for ax, image, title, (x0, y0, x1, y1) in zip(axes[0], x, titles, boxes.tolist()):
        if image.shape[0] == 3:
            ax.imshow(image.permute(1, 2, 0).clamp(0, 1))
        else:
            ax.imshow(image[0], cmap="gray", vmin=0, vmax=1)
        ax.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, color="red", lw=1))
        ax.set_title(title, fontsize=SMALLEST)
        ax.set_xticks([]), ax.set_yticks([])
        ax.grid(False)
    fig.tight_layout()
    return fig
