"""Cluttered MNIST (Mnih et al. 2014), the data set of §8 and Fig. 2.

Each image is a ``size``×``size`` canvas holding one 28×28 MNIST digit placed
uniformly at random, plus ``distractors`` random ``patch``×``patch`` crops of
*other* digits of the same split, each placed uniformly at random. Pixels are
combined with a maximum, so the canvas stays in [0, 1]. The paper's set is
50,000 train / 10,000 test images at 96×96 with 21 distractors.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

DIGIT = 28


def _check(images: Tensor, labels: Tensor, n: int, size: int, distractors: int, patch: int) -> None:
    if images.dim() != 4 or images.shape[1:] != (1, DIGIT, DIGIT):
        raise ValueError(f"images must be MNIST digits [N, 1, 28, 28], got {tuple(images.shape)}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"need one label per image, got {tuple(labels.shape)} for {images.shape[0]} images")
    if images.shape[0] < 2:
        raise ValueError("need at least two digits: distractors are cut from other digits")
    if n < 1 or distractors < 0:
        raise ValueError(f"need n >= 1 and distractors >= 0, got n={n}, distractors={distractors}")
    if not 1 <= patch <= DIGIT or size < DIGIT:
        raise ValueError(f"need 1 <= patch <= 28 and size >= 28, got patch={patch}, size={size}")


def _tight_box(digit: np.ndarray, top: int, left: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), end-exclusive, of the digit's nonzero pixels on the canvas."""
    rows, cols = np.nonzero(digit)
    if rows.size == 0:  # an empty image: the box is the whole placement
        return left, top, left + DIGIT, top + DIGIT
    return left + cols.min(), top + rows.min(), left + cols.max() + 1, top + rows.max() + 1


def cluttered_mnist(images: Tensor, labels: Tensor, n: int, size: int = 96, distractors: int = 21,
                    patch: int = 8, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """Generate ``n`` Cluttered-MNIST images from one split's digits, deterministically for ``seed``.

    Returns ``(x float32 [n, 1, size, size] in [0, 1], y int64 [n], boxes int64 [n, 4])``
    where a box is ``(x0, y0, x1, y1)`` (end-exclusive pixel coordinates) of the
    main digit's nonzero pixels. Pass MNIST train digits for a training set and
    test digits for a test set: every pixel comes from the ``images`` given.
    """
    _check(images, labels, n, size, distractors, patch)
    rng = np.random.default_rng(seed)
    digits = images[:, 0].numpy()
    count = len(digits)
    canvas = np.zeros((n, size, size), dtype=np.float32)
    boxes = np.zeros((n, 4), dtype=np.int64)
    chosen = rng.integers(0, count, n)
    for k in range(n):
        for _ in range(distractors):
            other = rng.integers(0, count - 1)
            other += other >= chosen[k]  # any digit but the main one
            cy, cx = rng.integers(0, DIGIT - patch + 1, 2)
            ty, tx = rng.integers(0, size - patch + 1, 2)
            crop = digits[other, cy:cy + patch, cx:cx + patch]
            np.maximum(canvas[k, ty:ty + patch, tx:tx + patch], crop, out=canvas[k, ty:ty + patch, tx:tx + patch])
        top, left = rng.integers(0, size - DIGIT + 1, 2)
        digit = digits[chosen[k]]
        region = canvas[k, top:top + DIGIT, left:left + DIGIT]
        np.maximum(region, digit, out=region)
        boxes[k] = _tight_box(digit, top, left)
    x = torch.from_numpy(canvas).unsqueeze(1)
    return x, labels[torch.from_numpy(chosen)].clone(), torch.from_numpy(boxes)


def cluttered_mnist_splits(n_train: int, n_test: int, *, size: int = 96, distractors: int = 21,
                           patch: int = 8, seed: int = 0, root=None) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    """Train and test Cluttered MNIST: train images only from MNIST train, test only from MNIST test."""
    from ibcore.data.mnist_idx import mnist

    options = dict(size=size, distractors=distractors, patch=patch)
    train = cluttered_mnist(*mnist(root, train=True), n_train, seed=seed, **options)
    test = cluttered_mnist(*mnist(root, train=False), n_test, seed=seed + 1, **options)
    return train, test
