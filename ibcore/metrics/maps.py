"""Where the information flows (Fig. 2, §8 "Cluttered MNIST"): per-location KL maps, how well
they localise the digit, and a baseline that knows only where the ink is.

Geometry. Coordinates are continuous input coordinates in which pixel ``p`` spans
``[p, p + 1)``; a digit box ``(x0, y0, x1, y1)`` (end-exclusive pixels) covers
``[x0, x1) × [y0, y1)``. A map of height ``H`` on an input of side ``S`` has the
stride ``jump = S / H``. In All-CNN every stride-2 conv is same-padded with an odd
kernel (3×3, padding 1), so its output cell ``i`` is centred on input cell ``2i``
of that conv; composing the strides, cell ``i`` of a map with stride ``jump`` is
centred on input pixel ``i · jump``, i.e. at the coordinate ``0.5 + i · jump``
(:func:`rf_centres`). That is ``jump / 2 − 0.5`` pixels up-left of the naive centre
``(i + ½) · jump``: 0.5, 1.5, 3.5 and 7.5 px for the 48², 24², 12² and 6² maps of
layers 1–4 of All-CNN-96 on 96×96 input. A cell is "in the box" when its
receptive-field centre is.
"""
from __future__ import annotations

from typing import Sequence

import torch

#: Default border margin (input pixels) of the ``*_margin`` scores of :func:`localisation`.
MARGIN = 8.0
#: Relative tolerance under which a cell counts as tied with the map's maximum.
TIE_RTOL = 1e-6


@torch.no_grad()
def kl_maps(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 200) -> list[torch.Tensor]:
    """Per-location KL of each Information Dropout layer, summed over channels (Fig. 2, §8).

    Returns one CPU tensor ``[N, H, W]`` (nats per location) per layer, in forward
    order (48², 24², 12², 6² for All-CNN-96 on 96×96 input). Inputs are moved to the
    model's device batch by batch. The model runs in eval mode (restored afterwards):
    the KL depends on α(x) (and, with the log-normal prior, on the noiseless
    activations), not on a noise sample.
    """
    from ibcore.layers import InformationDropout

    layers = [m for m in model.modules() if isinstance(m, InformationDropout)]
    if not layers:
        raise ValueError("the model has no InformationDropout layer, so it has no KL maps")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    maps: list[list[torch.Tensor]] = [[] for _ in layers]
    try:
        for start in range(0, len(x), batch_size):
            model(x[start:start + batch_size].to(device))
            for per_layer, layer in zip(maps, layers):
                per_layer.append(layer.kl_map.detach().cpu())
    finally:
        model.train(was_training)
    return [torch.cat(parts) for parts in maps]


def _jump(size: int, input_size: int) -> int:
    if size < 1 or input_size < 1 or input_size % size:
        raise ValueError(f"a map of side {size} must tile an input of side {input_size} "
                         f"(input_size a positive multiple of the map size)")
    return input_size // size


def rf_centres(size: int, input_size: int) -> torch.Tensor:
    """Receptive-field centres ``0.5 + i · jump``, ``jump = input_size / size``, of a map's ``size`` cells.

    Float64 ``[size]``, in continuous input coordinates (pixel ``p`` spans ``[p, p + 1)``);
    exact for the same-padded odd-kernel stride-2 convs of All-CNN (see the module doc).
    """
    return 0.5 + torch.arange(size, dtype=torch.float64) * _jump(size, input_size)


def _away_from_border(size: int, input_size: int, margin: float) -> torch.Tensor:
    """[size] bool: cells whose receptive-field centre is at least ``margin`` px from both borders."""
    centres = rf_centres(size, input_size)
    return torch.minimum(centres, input_size - centres) >= margin


def cells_in_box(shape: tuple[int, int], boxes: torch.Tensor, input_size: int) -> torch.Tensor:
    """``[N, H, W]`` bool: whether each cell's receptive-field centre lies inside the image's box."""
    h, w = shape
    cy, cx = rf_centres(h, input_size), rf_centres(w, input_size)
    x0, y0, x1, y1 = (boxes[:, i, None, None].double() for i in range(4))
    return (cx[None, None, :] >= x0) & (cx[None, None, :] < x1) & (cy[None, :, None] >= y0) & (cy[None, :, None] < y1)


def _scores(values: torch.Tensor, inside: torch.Tensor, kept: torch.Tensor, rtol: float) -> dict[str, float]:
    """Argmax, chance and mass-ratio scores over the ``kept`` cells; ``values``/``inside`` are [N, K]."""
    values, inside = values[:, kept], inside[:, kept]
    top = values.max(1, keepdim=True).values
    tied = values >= top - rtol * top  # every cell when the map is all zero
    argmax = (tied & inside).sum(1) / tied.sum(1)
    area = inside.double().mean(1)
    total = values.sum(1)
    defined = (total > 0) & (area > 0)
    ratio = ((values * inside).sum(1)[defined] / total[defined]) / area[defined]
    return {"argmax_in_box": float(argmax.mean()), "argmax_chance": float(area.mean()),
            "mass_ratio": float(ratio.mean()) if len(ratio) else float("nan"), "mass_images": int(defined.sum())}


def localisation(kl_map: torch.Tensor, boxes: torch.Tensor, input_size: int, *, margin: float = MARGIN,
                 rtol: float = TIE_RTOL) -> dict[str, float]:
    """How well one layer's KL map alone localises the digit (the claim of Fig. 2, §8, measured).

    ``kl_map``: ``[N, H, W]``, non-negative and finite (clamp float noise such as
    −1e-7 before calling); ``boxes``: ``[N, 4]`` digit boxes ``(x0, y0, x1, y1)`` in
    input pixels, end-exclusive; ``input_size``: the input's side (96). A cell is
    placed at its receptive-field centre (:func:`rf_centres`). Returns

    - ``argmax_in_box``: mean over images of the share of the map's maximal cells
      (those ≥ max − ``rtol``·max; all cells of an all-zero map) whose centre is
      inside the box. Ties count fractionally, so a flat map scores exactly chance
      wherever the box is;
    - ``argmax_chance``: the same for an argmax drawn uniformly over the cells:
      the mean share of cells inside the box;
    - ``mass_ratio``: mean over images of (share of the KL mass in cells inside the
      box) / (share of cells inside the box), on the cell grid; 1 is chance, larger
      is better localised. Images with no mass, or whose box holds no cell centre
      (small boxes on the 6×6 map), are left out; ``mass_images`` counts the rest;
    - the same four with the suffix ``_margin``: computed only over the cells whose
      receptive-field centre is at least ``margin`` input pixels from every border,
      so that the padding's border effects cannot decide the score;
    - ``margin``: the margin used (input pixels).
    """
    if kl_map.dim() != 3 or boxes.dim() != 2 or boxes.shape != (kl_map.shape[0], 4):
        raise ValueError(f"need kl_map [N, H, W] and boxes [N, 4], got {tuple(kl_map.shape)} and {tuple(boxes.shape)}")
    if kl_map.shape[0] == 0:
        raise ValueError("need at least one image")
    if not torch.isfinite(kl_map).all():
        raise ValueError("a KL map must be finite")
    if (kl_map < 0).any():
        raise ValueError("a KL map must be non-negative (clamp float noise before calling)")
    b = boxes.double()
    if not ((0 <= b[:, 0]) & (b[:, 0] < b[:, 2]) & (b[:, 2] <= input_size)
            & (0 <= b[:, 1]) & (b[:, 1] < b[:, 3]) & (b[:, 3] <= input_size)).all():
        raise ValueError(f"boxes must be (x0, y0, x1, y1) with 0 <= x0 < x1 <= {input_size} and the same for y")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    n, h, w = kl_map.shape
    inside = cells_in_box((h, w), boxes, input_size).flatten(1)
    values = kl_map.double().flatten(1)
    every = torch.ones(h * w, dtype=torch.bool)
    away = (_away_from_border(h, input_size, margin)[:, None]
            & _away_from_border(w, input_size, margin)[None]).flatten()
    if not away.any():
        raise ValueError(f"a margin of {margin} px leaves no cell of the {h}×{w} map")
    scores = _scores(values, inside, every, rtol)
    scores.update({f"{k}_margin": v for k, v in _scores(values, inside, away, rtol).items()})
    scores["margin"] = float(margin)
    return scores


def ink_maps(x: torch.Tensor, sizes: Sequence[int]) -> list[torch.Tensor]:
    """The baseline beside chance: the input's own ink density pooled to each map's grid.

    ``x``: ``[N, 1, S, S]`` (or ``[N, S, S]``) images in [0, 1]; ``sizes``: the map
    sides (48, 24, 12, 6). Cell ``i`` of a map with stride ``jump`` gets the mean
    pixel value of the odd window of ``2·⌊jump/2⌋ + 1`` pixels per side centred on
    its receptive-field centre, input pixel ``i · jump`` (windows are cut at the
    border, not zero-padded). Returns CPU float tensors ``[N, size, size]``, to be
    scored with :func:`localisation` like a KL map: does the KL map localise the
    digit better than where the pixels are bright?
    """
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"need square images [N, 1, S, S] or [N, S, S], got {tuple(x.shape)}")
    if not torch.isfinite(x).all() or (x < 0).any():
        raise ValueError("ink density needs finite, non-negative images")
    images = x.detach().cpu().float()[:, None]
    maps = []
    for size in sizes:
        jump = _jump(int(size), x.shape[-1])
        half = jump // 2
        maps.append(torch.nn.functional.avg_pool2d(images, kernel_size=2 * half + 1, stride=jump, padding=half,
                                                   count_include_pad=False)[:, 0])
    return maps


def ink_localisation(x: torch.Tensor, boxes: torch.Tensor, sizes: Sequence[int], *,
                     margin: float = MARGIN) -> list[dict[str, float]]:
    """:func:`localisation` of :func:`ink_maps`, one dict per size: the "bright pixels" baseline."""
    return [localisation(m, boxes, x.shape[-1], margin=margin) for m in ink_maps(x, sizes)]
