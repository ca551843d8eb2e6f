"""A conditional gated PixelCNN (van den Oord et al. 2016, "Conditional image generation with
PixelCNN decoders", §2.1–2.3): the autoregressive path of Rey & Mnih's hybrid decoder (§3).

Causality comes from shifts and one-sided padding instead of masked kernels, which gives the
same receptive field without the blind spot of a masked 3×3 stack:

* the **vertical stack** at row i sees rows ≤ i of its input; it reaches the horizontal stack
  only shifted down by one row, so what it passes on at row i comes from rows < i;
* the **horizontal stack** at (i, j) sees columns ≤ j of row i of its own features; in the first
  layer its input (the image) is shifted right by one column, so it sees columns < j.

The output at pixel j therefore depends on the pixels before j in raster order, all of their
channels, and on none of pixel j's own channels: the colour channels of a pixel are ordered by
the likelihood instead (:class:`ibcore.likelihoods.DiscretizedLogisticMixture`, as PixelCNN++).
``tests/test_pixelcnn.py`` checks this by gradients.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def shift_down(x: Tensor) -> Tensor:
    """Move every row one down (row 0 becomes zeros): row i then holds row i − 1."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


def shift_right(x: Tensor) -> Tensor:
    """Move every column one right (column 0 becomes zeros): column j then holds column j − 1."""
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


def gate(x: Tensor) -> Tensor:
    """The gated activation tanh(a) ⊙ σ(b) of the two halves of the channels (eq. 2)."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated layer: a vertical (k//2 + 1) × k and a horizontal 1 × (k//2 + 1) convolution,
    the vertical stack fed into the horizontal one through a 1×1 convolution, both gated and
    conditioned on ``cond`` through 1×1 convolutions, a residual connection on the horizontal
    stack (not in the first layer, whose input is the image itself)."""

    def __init__(self, in_channels: int, channels: int, kernel: int, cond_channels: int, *,
                 first: bool, dropout: float = 0.0) -> None:
        super().__init__()
        self.reach, self.first = kernel // 2, first
        self.vertical = nn.Conv2d(in_channels, 2 * channels, (self.reach + 1, kernel))
        self.horizontal = nn.Conv2d(in_channels, 2 * channels, (1, self.reach + 1))
        self.vertical_to_horizontal = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        self.cond = nn.Conv2d(cond_channels, 4 * channels, 1) if cond_channels else None
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, v: Tensor, h: Tensor, cond: Tensor | None) -> tuple[Tensor, Tensor]:
        r = self.reach
        v_pre = self.vertical(F.pad(v, (r, r, r, 0)))               # rows i − r … i, columns j − r … j + r
        h_in = shift_right(h) if self.first else h
        h_pre = self.horizontal(F.pad(h_in, (r, 0, 0, 0))) + self.vertical_to_horizontal(shift_down(v_pre))
        if self.cond is not None:
            cond_v, cond_h = self.cond(cond).chunk(2, dim=1)
            v_pre, h_pre = v_pre + cond_v, h_pre + cond_h
        h_out = self.out(self.dropout(gate(h_pre)))
        return gate(v_pre), h_out if self.first else h + h_out


class GatedPixelCNN(nn.Module):
    """``layers`` gated layers of ``channels`` features, then ELU and a 1×1 convolution to
    ``out_channels`` per pixel: the vector v_j of Rey & Mnih §3 (10-dimensional in App. B).

    ``model(x, cond)``: x [B, in_channels, H, W], cond [B, cond_channels, H, W] (the VAE's
    decoded latents u; omit with ``cond_channels=0``) → [B, out_channels, H, W], whose pixel j
    depends on x only through the pixels before j in raster order. ``dropout``: binary dropout
    on each gated output (App. B uses 0.5 in its PixelCNN++).
    """

    def __init__(self, in_channels: int, out_channels: int, *, channels: int = 64, layers: int = 8,
                 kernel: int = 5, cond_channels: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        if min(in_channels, out_channels, channels, layers) < 1 or cond_channels < 0:
            raise ValueError(f"channel counts and layers must be positive, got in={in_channels}, "
                             f"out={out_channels}, channels={channels}, layers={layers}, cond={cond_channels}")
        if kernel < 3 or kernel % 2 == 0:
            raise ValueError(f"kernel must be odd and >= 3, got {kernel}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.in_channels, self.cond_channels = in_channels, cond_channels
        #: How far the output at a pixel can see: rows above, and columns to each side.
        self.reach = layers * (kernel // 2) + 1
        self.layers = nn.ModuleList(
            GatedLayer(in_channels if k == 0 else channels, channels, kernel, cond_channels, first=k == 0,
                       dropout=dropout) for k in range(layers))
        self.head = nn.Sequential(nn.ELU(), nn.Conv2d(channels, out_channels, 1))

    def context(self, i: int, j: int, width: int) -> tuple[slice, slice]:
        """The rows and columns of the input that the output at (i, j) can depend on.

        Each layer reaches ``kernel // 2`` rows up and columns to either side, and the first
        layer's shifts one more, so the output at (i, j) computed on ``x[..., rows, cols]`` (at
        (i − rows.start, j − cols.start)) equals the output computed on the whole image: autoregressive
        sampling need not recompute the rest.
        """
        return (slice(max(0, i - self.reach), i + 1),
                slice(max(0, j - self.reach), min(width, j + self.reach + 1)))

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"GatedPixelCNN expects x [batch, {self.in_channels}, H, W], got {tuple(x.shape)}")
        if (cond is None) != (self.cond_channels == 0) or (
                cond is not None and (cond.shape[1] != self.cond_channels or cond.shape[2:] != x.shape[2:]
                                      or cond.shape[0] != x.shape[0])):
            raise ValueError(f"cond must be [batch, {self.cond_channels}, H, W] like x "
                             f"(None when cond_channels=0), got {None if cond is None else tuple(cond.shape)}")
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h, cond)
        return self.head(h)
