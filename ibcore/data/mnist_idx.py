"""MNIST from IDX files (LeCun's format, as torchvision's downloader leaves them)."""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ibcore.data.root import CorruptDataError, data_root, ensure_files

#: IDX type code 0x08 (unsigned byte), as used by MNIST.
_UBYTE = 0x08


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped) of unsigned bytes; shape from its header.

    Header: two zero bytes, a type code (0x08 = ubyte), the number of
    dimensions, then one big-endian uint32 per dimension. The payload size is
    checked against the header, so a truncated or padded file is refused.
    A file that cannot be read so (garbage, truncated, a broken gzip stream)
    raises :class:`~ibcore.data.root.CorruptDataError` (a ``ValueError``)
    naming the file and saying to delete it and download it again.
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError; truncation an EOFError
            raise CorruptDataError(path, f"not a readable gzip file ({type(err).__name__}: {err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise CorruptDataError(path, "not an IDX file (bad magic number)")
    if raw[2] != _UBYTE:
        raise CorruptDataError(path, f"IDX type code {raw[2]:#04x} not supported (only 0x08, unsigned byte)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDataError(path, f"IDX header of {ndim} dimensions needs {header} bytes, the file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape)
    if len(raw) != expected:
        raise CorruptDataError(path, f"header says shape {shape} ({expected} bytes) but the file has {len(raw)} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _files(train: bool) -> tuple[str, str]:
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _download(root: Path) -> None:
    from torchvision.datasets import MNIST  # lazy: only to download

    MNIST(str(root), train=True, download=True)
    MNIST(str(root), train=False, download=True)


def mnist(root: str | os.PathLike | None = None, train: bool = True, *,
          download: bool = True) -> tuple[Tensor, Tensor]:
    """MNIST as ``(images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N])``.

    N is read from the files (the offline mirror's train split has 22,699
    images, the official one 60,000). Missing files are downloaded with
    torchvision when it imports and the network answers; otherwise a
    :class:`~ibcore.data.DataNotFoundError` names the folder and files.
    """
    base = data_root(root)
    folder = base / "MNIST" / "raw"
    images_name, labels_name = _files(train)
    ensure_files(folder, (images_name, labels_name), (lambda: _download(base)) if download else None, "MNIST")
    images = read_idx(folder / images_name)
    labels = read_idx(folder / labels_name)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise CorruptDataError(folder / images_name, f"expected images of shape [N, 28, 28], got {images.shape}")
    if labels.shape != (images.shape[0],):
        raise CorruptDataError(folder / labels_name,
                               f"{images.shape[0]} images but labels of shape {labels.shape} (images: {images_name})")
    if labels.max(initial=0) > 9:
        raise CorruptDataError(folder / labels_name, f"labels must be digits 0-9, found {labels.max()}")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y
