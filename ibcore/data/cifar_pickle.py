"""CIFAR-10 from the official python batches, read with a restricted unpickler."""
from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ibcore.data.root import CorruptDataError, data_root, ensure_files

FOLDER = "cifar-10-batches-py"
#: The ten classes, in label order (``batches.meta``'s ``label_names``).
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{k}" for k in range(1, 6))
TEST_BATCHES = ("test_batch",)

#: The only globals a CIFAR batch may name: what numpy needs to rebuild an array.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # how protocol 2 spells Python 3 bytes
}


class RefusedPickleError(CorruptDataError, pickle.UnpicklingError):
    """A batch file names a global other than those numpy needs: refused, never executed."""


class _RefusedGlobal(pickle.UnpicklingError):
    pass


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickler that builds numpy arrays, lists, dicts, bytes, str and ints, and nothing else."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise _RefusedGlobal(
            f"refused to load global {module}.{name}: CIFAR batches may only contain numpy arrays, "
            "lists, bytes and ints")


def read_cifar_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch file → ``(uint8 [n, 3, 32, 32], int64 [n])``, sizes checked.

    A file that is not a CIFAR-10 batch (truncated, garbage, a pickle of
    anything else) raises :class:`~ibcore.data.root.CorruptDataError` (a
    ``ValueError``) naming the file and saying to delete it and download it
    again; one naming a forbidden global raises :class:`RefusedPickleError`,
    which is both that and a :class:`pickle.UnpicklingError`.
    """
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        batch = _ArraysOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except _RefusedGlobal as err:
        raise RefusedPickleError(path, str(err)) from None
    except Exception as err:  # truncated or garbage bytes fail in many ways: EOFError, UnpicklingError, …
        raise CorruptDataError(path, f"not a readable pickle ({type(err).__name__}: {err})") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise CorruptDataError(path, "not a CIFAR-10 batch (expected a dict with b'data' and b'labels')")
    try:
        data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"], dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as err:
        raise CorruptDataError(path, f"not a CIFAR-10 batch ({type(err).__name__}: {err})") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise CorruptDataError(path, f"expected uint8 data of shape [n, 3072], got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise CorruptDataError(path, f"{data.shape[0]} images but labels of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CorruptDataError(path, "labels must be in 0-9")
    return data.reshape(-1, 3, 32, 32), labels


def _download(root: Path) -> None:
    from torchvision.datasets import CIFAR10  # lazy: only to download

    CIFAR10(str(root), train=True, download=True)


def cifar10(root: str | os.PathLike | None = None, train: bool = True, *,
            download: bool = True) -> tuple[Tensor, Tensor]:
    """CIFAR-10 as ``(images float32 [N, 3, 32, 32] in [0, 1], labels int64 [N])``.

    Reads ``cifar-10-batches-py/data_batch_1..5`` (train) or ``test_batch``.
    Missing files are downloaded with torchvision when possible, otherwise a
    :class:`~ibcore.data.DataNotFoundError` names the folder and files.
    """
    base = data_root(root)
    folder = base / FOLDER
    names = TRAIN_BATCHES if train else TEST_BATCHES
    ensure_files(folder, names, (lambda: _download(base)) if download else None, "CIFAR-10")
    parts = [read_cifar_batch(folder / n) for n in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return torch.from_numpy(images).float().div_(255.0), torch.from_numpy(labels)
