"""Shared fixtures: deterministic torch, tiny synthetic data, the offline data root."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _seed_and_isolated_cache(tmp_path_factory, monkeypatch):
    torch.manual_seed(0)
    monkeypatch.setenv("IBCORE_CACHE", str(tmp_path_factory.mktemp("cache")))


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in LeCun's IDX format (the official MNIST layout)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_mnist_root(tmp_path) -> Path:
    """A data root holding a tiny MNIST-format data set (600 train, 200 test images)."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    for prefix, n in (("train", 600), ("t10k", 200)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 40, (n, 28, 28))
        for k, label in enumerate(labels):  # a class-dependent bright stripe makes the task learnable
            images[k, 2 + 2 * label: 4 + 2 * label, 4:24] = 255
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return tmp_path


def write_cifar_batch(path: Path, data: np.ndarray, labels: np.ndarray) -> None:
    """Write a CIFAR-10 python batch (the official layout): a pickled dict of uint8 data and labels."""
    import pickle

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({b"labels": [int(v) for v in labels], b"data": data.reshape(len(data), -1)}, f, protocol=2)


@pytest.fixture(scope="session")
def fake_cifar_mnist_root(tmp_path_factory) -> Path:
    """A data root with a tiny CIFAR-10 and MNIST. CIFAR: 5 × 650 train images (more than the
    3,072 values per image, so that the training covariance has full rank, as with the real
    50,000) and 100 test images, noise plus a class pattern. MNIST: 300 train digits labelled
    0-4 and 100 test digits labelled 5-9 (so a test can tell which split a digit came from),
    each a bright bar. Session-wide: the ZCA fitted on it is cached in it once."""
    rng = np.random.default_rng(0)
    classes = rng.uniform(0, 255, (10, 3072))

    def images(n):
        labels = rng.integers(0, 10, n)
        return (0.5 * classes[labels] + rng.uniform(0, 127, (n, 3072))).astype(np.uint8), labels

    root = tmp_path_factory.mktemp("cifar-mnist")
    for k in range(1, 6):
        write_cifar_batch(root / "cifar-10-batches-py" / f"data_batch_{k}", *images(650))
    write_cifar_batch(root / "cifar-10-batches-py" / "test_batch", *images(100))
    for prefix, n, first in (("train", 300, 0), ("t10k", 100, 5)):
        labels = rng.integers(first, first + 5, n)
        digits = np.zeros((n, 28, 28))
        for k, label in enumerate(labels):
            digits[k, 4:24, 4 + 2 * label: 8 + 2 * label] = 255
        write_idx(root / "MNIST" / "raw" / f"{prefix}-images-idx3-ubyte", digits)
        write_idx(root / "MNIST" / "raw" / f"{prefix}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture
def real_data_root() -> Path:
    """The offline mirror prepared by .ci/run (IBCORE_DATA); CI fails rather than skips without it."""
    root = os.environ.get("IBCORE_DATA")
    if root and (Path(root) / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
        return Path(root)
    if os.environ.get("CI"):
        pytest.fail("IBCORE_DATA must point at the prepared offline data in CI")
    pytest.skip("set IBCORE_DATA to the folder prepared by ../shared/data/prepare_offline.py")


def interrupt_at(model, training_batch: int) -> None:
    """Make ``model`` raise KeyboardInterrupt at its ``training_batch``-th forward pass in training
    mode (1-based): a run killed mid-epoch, for the resume tests."""
    calls = {"n": 0}
    original = model.forward

    def interrupted(x):
        calls["n"] += model.training
        if calls["n"] == training_batch:
            raise KeyboardInterrupt
        return original(x)

    model.forward = interrupted

