"""The identity of the data a result was computed on: sizes and a hash of the arrays used.

It goes into every cache key (``ibcore.cache``): ``n_train = 0`` means "all", which is 22,699
images on the offline MNIST mirror and 60,000 in the official set, so the config alone does
not say which data a result saw.
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


def identity(dataset: str, train: tuple[Tensor, ...], test: tuple[Tensor, ...], **extra: Any) -> dict:
    """``{"dataset", "n_train", "n_test", "sha256", **extra}`` of a train/test split."""
    return dict(dataset=dataset, n_train=len(train[0]), n_test=len(test[0]),
                sha256=array_digest(*train, *test), **extra)
