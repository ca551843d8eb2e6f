"""Readers of the standard formats: exact round trips, size checks, safe unpickling, clear errors."""
import gzip
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_idx
from ibcore.data import DataNotFoundError, cifar10, data_root, mnist, read_cifar_batch, read_idx
from ibcore.data.root import CorruptDataError
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


# --- corrupt files: a ValueError that names the file and says what to do, never a raw traceback ----------


def assert_names_file_and_fix(err, path):
    message = str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, CorruptDataError)
    assert str(path) in message and "delete it" in message and "downloaded afresh" in message, message


def test_idx_gz_round_trip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a-ubyte", array)
    (tmp_path / "a-ubyte.gz").write_bytes(gzip.compress((tmp_path / "a-ubyte").read_bytes()))
    assert np.array_equal(read_idx(tmp_path / "a-ubyte.gz"), array)


def _gz_variants(good: bytes) -> dict:
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF  # a damaged payload: bad deflate data or a CRC mismatch
    return {"garbage": b"this is not gzip at all", "empty": b"", "truncated": good[: len(good) // 2],
            "no-trailer": good[:-4], "flipped": bytes(flipped)}


@pytest.mark.parametrize("kind", ["garbage", "empty", "truncated", "no-trailer", "flipped"])
def test_corrupt_gzipped_idx_names_the_file(tmp_path, kind):
    write_idx(tmp_path / "a-ubyte", np.arange(200, dtype=np.uint8).reshape(10, 20))
    path = tmp_path / "a-ubyte.gz"
    path.write_bytes(_gz_variants(gzip.compress((tmp_path / "a-ubyte").read_bytes()))[kind])
    with pytest.raises(CorruptDataError) as err:
        read_idx(path)
    assert_names_file_and_fix(err, path)


@pytest.mark.parametrize("content", [b"", b"\x00\x00", b"\x00\x00\x08\x03\x00\x00", b"GIF89a garbage",
                                     b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00\x00\x00\x00"])
def test_garbage_or_truncated_idx_names_the_file(tmp_path, content):
    path = tmp_path / "t-ubyte"
    path.write_bytes(content)
    with pytest.raises(CorruptDataError) as err:
        read_idx(path)
    assert_names_file_and_fix(err, path)


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=64))
def test_idx_reader_never_fails_from_the_depths(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("idx") / "f-ubyte"
    path.write_bytes(content)
    try:
        read_idx(path)
    except CorruptDataError as err:
        assert str(path) in str(err)


def test_corrupt_mnist_file_names_it(fake_mnist_root):
    path = fake_mnist_root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError) as err:
        mnist(fake_mnist_root, train=True, download=False)
    assert_names_file_and_fix(err, path)


def _batch_bytes(protocol, n=2):
    rng = np.random.default_rng(0)
    return pickle.dumps({b"batch_label": b"x", b"labels": [int(v) for v in rng.integers(0, 10, n)],
                         b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": []},
                        protocol=protocol)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_truncated_cifar_batch_names_the_file(tmp_path, protocol):
    good = _batch_bytes(protocol)
    path = tmp_path / "data_batch_1"
    path.write_bytes(good)
    assert read_cifar_batch(path)[0].shape == (2, 3, 32, 32)
    cuts = sorted(set(range(0, 200)) | set(range(0, len(good), 97)) | set(range(len(good) - 50, len(good))))
    for cut in cuts:
        path.write_bytes(good[:cut])
        with pytest.raises(CorruptDataError) as err:
            read_cifar_batch(path)
        assert_names_file_and_fix(err, path)


@pytest.mark.parametrize("content", [b"", b"garbage, not a pickle", b"\x80\x02}q\x00(", b"\x80\x04K\x05.",
                                     pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": 5}),
                                     pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [b"x"]}),
                                     pickle.dumps([1, 2, 3])])
def test_garbage_cifar_batch_names_the_file(tmp_path, content):
    path = tmp_path / "test_batch"
    path.write_bytes(content)
    with pytest.raises(CorruptDataError) as err:
        read_cifar_batch(path)
    assert_names_file_and_fix(err, path)


@settings(max_examples=200, deadline=None)
@given(content=st.one_of(st.binary(max_size=64), st.binary(max_size=64).map(lambda b: b"\x80\x02" + b)))
def test_cifar_reader_never_fails_from_the_depths(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("cifar") / "data_batch_1"
    path.write_bytes(content)
    with pytest.raises(CorruptDataError) as err:
        read_cifar_batch(path)
    assert str(path) in str(err.value)


def test_refused_pickle_names_the_file_and_is_both_error_kinds(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(_Evil(), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refused to load global") as err:
        read_cifar_batch(path)
    assert_names_file_and_fix(err, path)


def test_corrupt_cifar_batch_through_cifar10(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "test_batch").write_bytes(_batch_bytes(4)[:-10])
    with pytest.raises(ValueError) as err:
        cifar10(tmp_path, train=False, download=False)
    assert_names_file_and_fix(err, folder / "test_batch")
