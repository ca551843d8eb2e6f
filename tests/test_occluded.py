"""Occluded CIFAR (§8, Fig. 4): the generator's contract, the noisy error, the nuisance head and the
experiment end to end on tiny data."""
from __future__ import annotations

import math

import pytest
import torch

from ibcore import experiments, metrics, plots
from ibcore.data import occluded_cifar, occluded_cifar_splits
from ibcore.data.occluded import MAX_SIDE, MIN_SIDE
from ibcore.models import MLP, NuisanceHead


def _inputs(n: int = 40, n_digits: int = 12):
    g = torch.Generator().manual_seed(0)
    images = torch.rand(n, 3, 32, 32, generator=g)
    digits = torch.zeros(n_digits, 1, 28, 28)
    for k in range(n_digits):  # a bar at a digit-dependent column, full intensity
        digits[k, 0, 4:24, 2 + 2 * k: 6 + 2 * k] = 1.0
    return images, torch.randint(0, 10, (n,), generator=g), digits, torch.arange(n_digits) % 10


def test_occlusion_is_deterministic_for_a_seed():
    first = occluded_cifar(*_inputs(), seed=3)
    again = occluded_cifar(*_inputs(), seed=3)
    other = occluded_cifar(*_inputs(), seed=4)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0])


def test_the_cifar_label_is_kept_and_the_digit_label_matches_the_digit():
    images, labels, digits, digit_labels = _inputs()
    x, y, digit_y, boxes = occluded_cifar(images, labels, digits, digit_labels, seed=0)
    assert torch.equal(y, labels) and x.shape == images.shape and x.dtype == torch.float32
    assert 0 <= float(x.min()) and float(x.max()) <= 1
    assert set(digit_y.tolist()) <= set(digit_labels.tolist()) and len(set(digit_y.tolist())) > 1


def test_every_changed_pixel_lies_in_the_box_and_the_box_is_tight():
    images, labels, digits, digit_labels = _inputs()
    x, _, _, boxes = occluded_cifar(images, labels, digits, digit_labels, seed=1)
    changed = (x - images).abs().amax(1) > 1e-6  # [N, H, W]
    for k, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        assert 0 <= x0 < x1 <= 32 and 0 <= y0 < y1 <= 32
        assert x1 - x0 <= MAX_SIDE and y1 - y0 <= MAX_SIDE
        inside = torch.zeros(32, 32, dtype=torch.bool)
        inside[y0:y1, x0:x1] = True
        assert not (changed[k] & ~inside).any(), f"image {k}: a changed pixel outside its box"
        assert changed[k, y0, x0:x1].any() and changed[k, y1 - 1, x0:x1].any()  # tight rows
        assert changed[k, y0:y1, x0].any() and changed[k, y0:y1, x1 - 1].any()  # tight columns


def test_the_digit_square_covers_a_quarter_to_a_half_of_the_image():
    images, labels, _, digit_labels = _inputs(200)
    full = torch.ones(12, 1, 28, 28)  # a digit that fills its square shows the square itself
    _, _, _, boxes = occluded_cifar(images, labels, full, digit_labels, seed=2)
    areas = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).float() / 32**2
    assert areas.min() >= (MIN_SIDE / 32) ** 2 - 1e-6 and areas.max() <= (MAX_SIDE / 32) ** 2 + 1e-6
    assert areas.min() < 0.3 and areas.max() > 0.45  # both ends of the range are drawn


def test_bad_inputs_are_refused():
    images, labels, digits, digit_labels = _inputs()
    with pytest.raises(ValueError, match="RGB images"):
        occluded_cifar(images[:, :1], labels, digits, digit_labels)
    with pytest.raises(ValueError, match="one label per digit"):
        occluded_cifar(images, labels, digits, digit_labels[:3])
    with pytest.raises(ValueError, match="min_side"):
        occluded_cifar(images, labels, digits, digit_labels, min_side=20, max_side=40)


def test_train_images_are_occluded_by_train_digits_and_test_by_test_digits(fake_cifar_mnist_root):
    """The fake MNIST labels its train digits 0-4 and its test digits 5-9."""
    train, test = occluded_cifar_splits(100, 50, root=fake_cifar_mnist_root, download=False)
    assert set(train[2].tolist()) <= {0, 1, 2, 3, 4} and set(test[2].tolist()) <= {5, 6, 7, 8, 9}
    assert len(train[0]) == 100 and len(test[0]) == 50


def test_noisy_error_rate_matches_the_noise_off_error_when_the_noise_vanishes():
    from ibcore.train import error_rate, fit

    g = torch.Generator().manual_seed(0)
    x = torch.randn(600, 4, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    errors = {}
    for max_alpha in (1e-5, 2.0):
        torch.manual_seed(0)
        model = MLP([32], "information", in_features=4, max_alpha=max_alpha)
        fit(model, (x[:400], y[:400]), (x[400:], y[400:]), beta=0.0, epochs=4, lr=0.1, batch_size=50,
            progress=False)
        noisy = [metrics.noisy_error_rate(model, x[400:], y[400:], x[:400], seed=s) for s in (0, 0, 1)]
        assert noisy[0] == noisy[1]  # one seed, one answer
        errors[max_alpha] = (error_rate(model, x[400:], y[400:]), noisy[0], noisy[2])
    clean, noisy, other_seed = errors[1e-5]
    assert clean < 0.1 and abs(noisy - clean) <= 0.01 and abs(other_seed - clean) <= 0.01
    clean, noisy, other_seed = errors[2.0]
    assert noisy != other_seed  # α up to 2: the noise decides some answers
    with pytest.raises(ValueError, match="as many labels"):
        metrics.noisy_error_rate(model, x, y[:3], x)


def test_nuisance_head_reads_a_representation():
    head = NuisanceHead(8)
    assert head(torch.randn(2, 8, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError):
        head(torch.randn(2, 8))


def test_occluded_experiment_runs_end_to_end_on_tiny_data(fake_cifar_mnist_root, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(fake_cifar_mnist_root))
    result = experiments.run("occluded-cifar", "quick", progress=False, epochs=1, n_train=200, n_test=100,
                             batch_size=50, recalibration_size=100, head_epochs=1)
    rows = {row["beta"]: row for row in result["rows"]}
    assert set(rows) == {0.0, 3.0}
    for row in rows.values():
        assert all(0 <= row[k] <= 1 for k in ("test_error", "clean_train_error", "noisy_test_error", "nuisance_error"))
        assert row["map_sizes"] == [16, 8] and len(row["digit_localisation"]) == 2
        assert all(math.isfinite(s["mass_ratio"]) for s in row["digit_localisation"])
    assert set(result["examples"]) == {"images", "labels", "digits", "boxes"}
    assert list(experiments.summary_table(result).index) == [0.0, 3.0]  # what the CLI prints
    table = experiments.occlusion_table(result)
    assert list(table.columns[:5]) == ["seeds", "main error D (%)", "main error D (%) sd", "main error N (%)",
                                       "nuisance error (%)"]
    assert table["seeds"].tolist() == [1, 1] and table["main error D (%) sd"].isna().all()  # one seed: no sd
    assert table["main clean train error (%)"].notna().all()
    figure = plots.plot_occlusion(result)
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert len(labels) == 5 and "main task, clean training error (D)" in labels  # D, N, nuisance, clean, chance
    older = dict(result, rows=[{k: v for k, v in r.items() if k != "clean_train_error"} for r in result["rows"]])
    assert "main task, clean training error (D)" not in plots.plot_occlusion(older).axes[0].get_legend_handles_labels()[1]
    plots.plot_kl_maps(result, 3.0)  # RGB examples and their digit boxes
