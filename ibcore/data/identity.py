"""The identity of the data a result was computed on: sizes, a hash of the source arrays and the
preprocessing settings.

It goes into every cache key (``ibcore.cache``): ``n_train = 0`` means "all", which is 22,699
images on the offline MNIST mirror and 60,000 in the official set, so the config alone does
not say which data a result saw.

An identity names the *data*: the arrays as read (integer pixel levels, labels) and the settings
that turn them into what a model sees. It never hashes a floating-point output of a reduction,
a matrix product or an eigendecomposition (standardisation, ZCA whitening): those round
differently on other CPUs and BLAS kernels, and a result would be tied to one machine's
rounding (issue 25: the ZCA-whitened CIFAR tensors hashed differently on three x86 machines).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ibcore.files import digest


def array_digest(*tensors: Tensor) -> str:
    """16 hex digits of SHA-256 over the dtypes, shapes and bytes of ``tensors``."""
    parts: list[bytes | str] = []
    for tensor in tensors:
        t = tensor.detach().cpu().contiguous()
        parts += [f"{t.dtype}{tuple(t.shape)}", t.view(torch.uint8).numpy().tobytes() if t.numel() else b""]
    return digest(*parts)


def pixel_levels(images: Tensor, levels: int = 255) -> Tensor:
    """Images in [0, 1], read as ``level / levels`` from integer files, back as the uint8 levels they
    were read as (exact: round(x · levels) recovers the level for any x = level / levels in float32)."""
    if images.numel() and not (images.min() >= 0 and images.max() <= 1):
        raise ValueError("pixel_levels reads images in [0, 1] as read from their files, not preprocessed ones")
    return (images * levels).round_().to(torch.uint8)


def identity(dataset: str, train: tuple[Tensor, ...], test: tuple[Tensor, ...], **extra: Any) -> dict:
    """``{"dataset", "n_train", "n_test", "sha256", **extra}`` of a train/test split."""
    return dict(dataset=dataset, n_train=len(train[0]), n_test=len(test[0]),
                sha256=array_digest(*train, *test), **extra)
