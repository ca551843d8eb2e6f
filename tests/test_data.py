"""Readers of the standard formats: exact round trips, size checks, safe unpickling, clear errors."""
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from conftest import write_idx
from ibcore.data import DataNotFoundError, cifar10, data_root, mnist, read_cifar_batch, read_idx
import ibcore.data.mnist_idx as mnist_mod


def test_idx_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a-ubyte", array)
    assert np.array_equal(read_idx(tmp_path / "a-ubyte"), array)


def test_idx_size_mismatch_is_refused(tmp_path):
    path = tmp_path / "t-ubyte"
    write_idx(path, np.zeros((3, 2, 2), np.uint8))
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"header says shape \(3, 2, 2\)"):
        read_idx(path)


def test_mnist_reads_back_exactly_with_sizes_from_the_files(fake_mnist_root):
    x, y = mnist(fake_mnist_root, train=True, download=False)
    raw = fake_mnist_root / "MNIST" / "raw"
    assert x.shape == (600, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64
    assert torch.equal((x * 255).round().to(torch.uint8).squeeze(1),
                       torch.from_numpy(read_idx(raw / "train-images-idx3-ubyte").copy()))
    assert torch.equal(y, torch.from_numpy(read_idx(raw / "train-labels-idx1-ubyte").astype(np.int64)))
    assert mnist(fake_mnist_root, train=False, download=False)[0].shape[0] == 200


def test_mnist_label_count_must_match(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28)))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(4))
    with pytest.raises(ValueError, match="5 images but labels of shape"):
        mnist(tmp_path, train=False, download=False)


def test_missing_mnist_names_folder_and_files(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        mnist(tmp_path / "nowhere", download=False)
    message = str(err.value)
    assert str(tmp_path / "nowhere" / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "IBCORE_DATA" in message


def test_failed_download_still_gives_the_documented_error(tmp_path, monkeypatch):
    def no_torchvision(root):
        raise ImportError("No module named 'torchvision'")

    monkeypatch.setattr(mnist_mod, "_download", no_torchvision)
    with pytest.raises(DataNotFoundError, match="torchvision is not importable"):
        mnist(tmp_path)


def test_data_root_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("IBCORE_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert data_root("/x") == data_root("/x")
    monkeypatch.delenv("IBCORE_DATA")
    assert data_root().parts[-3:] == (".cache", "ibcore", "data")


def _write_batch(path, data, labels, protocol):
    with open(path, "wb") as f:
        pickle.dump({b"batch_label": b"x", b"labels": [int(v) for v in labels], b"data": data, b"filenames": []},
                    f, protocol=protocol)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_batches_round_trip(tmp_path, protocol):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    arrays = {}
    for name, n in [(f"data_batch_{k}", 3) for k in range(1, 6)] + [("test_batch", 2)]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n)
        _write_batch(folder / name, data, labels, protocol)
        arrays[name] = (data, labels)
    x, y = cifar10(tmp_path, train=True, download=False)
    assert x.shape == (15, 3, 32, 32) and y.shape == (15,)
    expected = np.concatenate([arrays[f"data_batch_{k}"][0] for k in range(1, 6)]).reshape(-1, 3, 32, 32)
    assert torch.equal((x * 255).round().to(torch.uint8), torch.from_numpy(expected))
    assert y.tolist() == [int(v) for k in range(1, 6) for v in arrays[f"data_batch_{k}"][1]]
    x_test, _ = cifar10(tmp_path, train=False, download=False)
    assert x_test.shape == (2, 3, 32, 32)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("payload", [_Evil(), {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0],
                                               b"extra": OrderedDict()}])
def test_pickles_building_other_objects_are_refused(tmp_path, payload):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refused to load global"):
        read_cifar_batch(path)


def test_cifar_wrong_sizes_are_refused(tmp_path):
    path = tmp_path / "b"
    _write_batch(path, np.zeros((2, 100), np.uint8), [0, 1], 2)
    with pytest.raises(ValueError, match=r"shape \[n, 3072\]"):
        read_cifar_batch(path)


def test_missing_cifar_names_folder_and_files(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"cifar-10-batches-py.*data_batch_1.*download=False"):
        cifar10(tmp_path, download=False)


def test_offline_mirror_sizes(real_data_root):
    x, y = mnist(real_data_root, train=True, download=False)
    assert len(x) == len(y) == 22_699  # the mirror's prefix of the official 60,000
    assert len(mnist(real_data_root, train=False, download=False)[0]) == 10_000
