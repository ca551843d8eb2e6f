"""The Cluttered MNIST generator: determinism, digit boxes, splits kept apart."""
import numpy as np
import pytest
import torch

from conftest import write_idx
from ibcore.data import cluttered_mnist, cluttered_mnist_splits


def digits(n=20, value=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, 1, 28, 28, generator=g) > 0.7).float() * value
    x[:, :, :4] = 0  # margins, so tight boxes differ from the 28×28 placement
    x[:, :, :, -5:] = 0
    return x, torch.arange(n) % 10


def test_deterministic_for_a_seed_and_different_across_seeds():
    images, labels = digits()
    a = cluttered_mnist(images, labels, 8, seed=3)
    b = cluttered_mnist(images, labels, 8, seed=3)
    c = cluttered_mnist(images, labels, 8, seed=4)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_shapes_range_and_labels():
    images, labels = digits()
    x, y, boxes = cluttered_mnist(images, labels, 5, size=60, distractors=4, patch=6)
    assert x.shape == (5, 1, 60, 60) and x.dtype == torch.float32
    assert y.shape == (5,) and boxes.shape == (5, 4)
    assert 0 <= x.min() and x.max() <= 1


def test_box_is_the_tight_box_of_the_digit():
    images, labels = digits()
    x, y, boxes = cluttered_mnist(images, labels, 30, distractors=0)  # only the digit on the canvas
    for canvas, (x0, y0, x1, y1) in zip(x[:, 0], boxes.tolist()):
        rows, cols = torch.nonzero(canvas, as_tuple=True)
        assert (x0, y0, x1, y1) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)


def test_box_contains_every_nonzero_pixel_of_the_digit_amid_clutter():
    images, labels = digits(value=0.5)
    images[0] = 0
    images[0, 0, 10:14, 6:9] = 1.0  # a digit brighter than any other
    labels = torch.tensor([0] + [1] * 19)  # only digit 0 has label 0
    found = 0
    for seed in range(40):
        x, y, boxes = cluttered_mnist(images, labels, 3, seed=seed)
        for canvas, (x0, y0, x1, y1), label in zip(x[:, 0], boxes.tolist(), y):
            bright = torch.nonzero(canvas == 1.0)
            if label == 0 and len(bright):
                found += 1
                assert (bright[:, 1] >= x0).all() and (bright[:, 1] < x1).all()
                assert (bright[:, 0] >= y0).all() and (bright[:, 0] < y1).all()
                assert (x1 - x0, y1 - y0) == (3, 4)
    assert found > 0


def test_distractors_come_from_other_digits_of_the_given_images():
    images = torch.zeros(2, 1, 28, 28)
    images[0] = 0.25  # the main digit (a full square), and a second "digit" of value 0.75
    images[1] = 0.75
    labels = torch.tensor([0, 1])
    x, y, boxes = cluttered_mnist(images, labels, 20, distractors=5)
    for canvas, label, (x0, y0, x1, y1) in zip(x[:, 0], y, boxes.tolist()):
        other = 0.75 if label == 0 else 0.25
        outside = canvas.clone()
        outside[y0:y1, x0:x1] = 0
        assert set(outside.unique().tolist()) <= {0.0, other}  # clutter only from the other digit


def test_splits_never_mix(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    for prefix, value in (("train", 100), ("t10k", 200)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", np.full((30, 28, 28), value))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(30) % 10)
    (x_train, _, _), (x_test, _, _) = cluttered_mnist_splits(10, 10, size=40, distractors=6, root=tmp_path)
    assert torch.allclose(x_train.unique(), torch.tensor([0.0, 100 / 255]))
    assert torch.allclose(x_test.unique(), torch.tensor([0.0, 200 / 255]))
    assert (x_train > 0).any() and (x_test > 0).any()


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=0), "need n >= 1"), (dict(patch=29), "patch <= 28"), (dict(size=20), "size >= 28")])
def test_bad_arguments(kwargs, message):
    images, labels = digits()
    with pytest.raises(ValueError, match=message):
        cluttered_mnist(images, labels, **{"n": 2, **kwargs})


def test_cluttered_experiment_rows_record_the_clean_training_error(fake_mnist_root, monkeypatch):
    from ibcore import experiments

    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    result = experiments.run("cluttered-mnist", "quick", progress=False, n_train=32, n_test=8, epochs=1,
                             betas=[0.5], filter_fraction=0.05, recalibration_size=32, distractors=4, examples=2)
    [row] = result["rows"]
    assert 0 <= row["clean_train_error"] <= 1 and 0 <= row["test_error"] <= 1
    assert experiments.summary_table(result)["clean_train_error_pct"].tolist() == [
        pytest.approx(100 * row["clean_train_error"], abs=1e-3)]
