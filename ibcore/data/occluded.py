"""Occluded CIFAR (§8, Fig. 4): CIFAR-10 images occluded by MNIST digits, a nuisance for the task.

The paper does not say how the digit occludes the image; this module's choice, meant to hide
a substantial part of the object:

* each CIFAR image gets one MNIST digit, drawn uniformly from the digits given;
* the digit's 28×28 square is resized (bilinear, antialiased) to a side drawn uniformly in
  ``[min_side, max_side]`` = [16, 23] px, so its square covers 25–52 % of the 32×32 image;
* it is placed uniformly at random, wholly inside the image;
* it is painted in one colour drawn uniformly from the RGB cube, with the digit's intensity
  m ∈ [0, 1] as opacity: x ← (1 − m)·x + m·colour.

The CIFAR label is kept (it is the task); the digit's label and its box are returned too (the
nuisance). Pass MNIST training digits for a training set and test digits for a test set.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

MIN_SIDE, MAX_SIDE = 16, 23


def _check(images: Tensor, labels: Tensor, digits: Tensor, digit_labels: Tensor, min_side: int,
           max_side: int) -> None:
    if images.dim() != 4 or images.shape[1] != 3 or images.shape[0] == 0:
        raise ValueError(f"images must be RGB images [N, 3, H, W], got {tuple(images.shape)}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"need one label per image, got {tuple(labels.shape)} for {images.shape[0]} images")
    if digits.dim() != 4 or digits.shape[1] != 1 or digits.shape[0] == 0:
        raise ValueError(f"digits must be MNIST images [M, 1, 28, 28], got {tuple(digits.shape)}")
    if digit_labels.shape != (digits.shape[0],):
        raise ValueError(f"need one label per digit, got {tuple(digit_labels.shape)} for {digits.shape[0]} digits")
    side = min(images.shape[-2:])
    if not 1 <= min_side <= max_side <= side:
        raise ValueError(f"need 1 <= min_side <= max_side <= {side}, got {min_side}, {max_side}")


def occluded_cifar(images: Tensor, labels: Tensor, digits: Tensor, digit_labels: Tensor, *,
                   min_side: int = MIN_SIDE, max_side: int = MAX_SIDE,
                   seed: int = 0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Occlude each of ``images`` (float [N, 3, H, W] in [0, 1]) by one of ``digits``, deterministically.

    Returns ``(x float32 [N, 3, H, W] in [0, 1], labels [N] (unchanged), digit labels [N],
    boxes int64 [N, 4])``; a box is ``(x0, y0, x1, y1)``, end-exclusive pixels, of the
    occluding digit's nonzero pixels on the image (the whole placed square for an empty digit).
    """
    _check(images, labels, digits, digit_labels, min_side, max_side)
    rng = np.random.default_rng(seed)
    n, (height, width) = len(images), images.shape[-2:]
    chosen = rng.integers(0, len(digits), n)
    sides = rng.integers(min_side, max_side + 1, n)
    tops = rng.integers(0, height - sides + 1)
    lefts = rng.integers(0, width - sides + 1)
    colours = torch.from_numpy(rng.uniform(0, 1, (n, 3, 1, 1))).float()
    opacity = torch.zeros(n, 1, height, width)
    boxes = torch.zeros(n, 4, dtype=torch.int64)
    for side in np.unique(sides):
        which = np.flatnonzero(sides == side)
        resized = F.interpolate(digits[torch.from_numpy(chosen[which])].float(), size=(int(side), int(side)),
                                mode="bilinear", antialias=True, align_corners=False).clamp_(0, 1)
        for k, mask in zip(which, resized):
            top, left = int(tops[k]), int(lefts[k])
            opacity[k, 0, top:top + side, left:left + side] = mask[0]
            rows, cols = torch.nonzero(mask[0] > 0, as_tuple=True)
            boxes[k] = (torch.tensor([left, top, left + side, top + side]) if rows.numel() == 0 else
                        torch.stack([left + cols.min(), top + rows.min(), left + cols.max() + 1, top + rows.max() + 1]))
    x = (1 - opacity) * images.float() + opacity * colours
    return x, labels.clone(), digit_labels[torch.from_numpy(chosen)].clone(), boxes


def occluded_cifar_splits(n_train: int = 0, n_test: int = 0, *, seed: int = 0, root=None,
                          download: bool = True) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    """Train and test Occluded CIFAR from the first ``n_train``/``n_test`` CIFAR-10 images (0: all):
    training images occluded only by MNIST training digits, test images only by test digits."""
    from ibcore.data.cifar_pickle import cifar10
    from ibcore.data.mnist_idx import mnist

    splits = []
    for train, n, split_seed in ((True, n_train, seed), (False, n_test, seed + 1)):
        images, labels = cifar10(root, train=train, download=download)
        if n:
            images, labels = images[:n], labels[:n]
        splits.append(occluded_cifar(images, labels, *mnist(root, train=train, download=download), seed=split_seed))
    return splits[0], splits[1]
