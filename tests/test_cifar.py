"""CIFAR-10 (§8): the original preprocessing (per-image standardisation, ZCA), All-CNN-32's input
dropout, the information per layer (Fig. 6), the Gaussian TC (Fig. 5) and the experiments."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from ibcore import experiments, metrics
from ibcore.data import ZCAWhitening, cifar10_whitened, fitted_zca, standardise_images
from ibcore.data.root import CorruptDataError
from ibcore.layers import InformationDropout
from ibcore.models import MLP, AllCNN32


def _correlated(n: int, d: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mixing = torch.randn(d, d, generator=g, dtype=torch.float64)
    return (torch.randn(n, d, generator=g, dtype=torch.float64) @ mixing + 3.0).float()


def _cov(x: torch.Tensor) -> torch.Tensor:
    return torch.cov(x.reshape(len(x), -1).double().T)


# --- preprocessing ------------------------------------------------------------------------

def test_zca_whitens_the_training_covariance_to_the_identity():
    x = _correlated(4000, 12)
    assert _cov(x).diag().max() > 5  # far from white before
    zca = ZCAWhitening.fit(x)
    white = zca(x)
    assert torch.allclose(_cov(white), torch.eye(12, dtype=torch.float64), atol=1e-3)
    assert torch.allclose(zca.matrix, zca.matrix.T)  # ZCA: the symmetric whitening matrix
    assert white.mean(0).abs().max() < 1e-4


def test_standardised_images_leave_one_direction_of_zero_variance_after_zca():
    """Per-image standardisation puts every image on the plane Σ pixels = 0, so the whitened
    covariance is the identity on that plane and zero along the all-ones direction."""
    x = _correlated(4000, 12).reshape(4000, 3, 2, 2)
    s = standardise_images(x)
    flat = s.reshape(4000, -1).double()
    assert flat.mean(1).abs().max() < 1e-6 and torch.allclose(flat.std(1), torch.ones(4000, dtype=torch.float64))
    white = ZCAWhitening.fit(s)(s)
    ones = torch.full((12, 12), 1 / 12, dtype=torch.float64)
    assert torch.allclose(_cov(white), torch.eye(12, dtype=torch.float64) - ones, atol=1e-3)


def test_standardise_leaves_a_constant_image_centred_not_divided_by_zero():
    x = torch.stack([torch.full((3, 2, 2), 0.5), torch.arange(12.0).reshape(3, 2, 2)])
    s = standardise_images(x)
    assert torch.equal(s[0], torch.zeros(3, 2, 2)) and torch.isfinite(s).all()


def test_zca_applies_the_training_mean_and_matrix_to_new_images():
    train, new = _correlated(3000, 6), _correlated(10, 6, seed=1)
    zca = ZCAWhitening.fit(train)
    expected = (new.double() - train.double().mean(0)) @ zca.matrix
    assert torch.allclose(zca(new).double(), expected, atol=1e-4)
    with pytest.raises(ValueError, match="fitted on 6 values"):
        zca(torch.zeros(2, 7))


def test_the_fitted_transform_is_cached_by_content(tmp_path, monkeypatch):
    images = _correlated(500, 8).reshape(500, 2, 2, 2)
    first = fitted_zca(images, tmp_path)
    [path] = tmp_path.glob("zca-*.pt")
    monkeypatch.setattr(ZCAWhitening, "fit", classmethod(lambda cls, x: pytest.fail("refitted")))
    again = fitted_zca(images, tmp_path)
    assert torch.equal(first.matrix, again.matrix)
    monkeypatch.undo()
    other = fitted_zca(images + 1e-3 * torch.randn_like(images), tmp_path)  # other images, other file
    assert len(list(tmp_path.glob("zca-*.pt"))) == 2 and not torch.equal(other.matrix, first.matrix)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CorruptDataError, match=path.name):
        fitted_zca(images, tmp_path)


def test_cifar10_whitened_fits_on_all_training_images_and_caches(fake_cifar_mnist_root):
    (x, y), (xt, yt) = cifar10_whitened(fake_cifar_mnist_root, n_train=50, n_test=20, download=False)
    with open(fake_cifar_mnist_root / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        assert y.tolist() == pickle.load(f)[b"labels"][:50]
    assert x.shape == (50, 3, 32, 32) and xt.shape == (20, 3, 32, 32) and x.dtype == torch.float32
    assert len(list((fake_cifar_mnist_root / "cifar-10-zca").glob("zca-*.pt"))) == 1
    (x_all, _), _ = cifar10_whitened(fake_cifar_mnist_root, download=False)
    assert torch.allclose(x_all[:50], x, atol=1e-5)  # the same transform, whatever the cut
    assert torch.isfinite(xt).all() and xt.abs().max() < 20


def _perturbed_zca(monkeypatch, relative: float) -> None:
    """Every fitted or loaded ZCA matrix scaled by (1 + relative): what another CPU's BLAS and LAPACK
    rounding does to it (issue 25: three x86 machines, three hashes of the whitened tensors)."""
    from ibcore.data import whitening
    from ibcore.experiments import cifar, occluded

    original = whitening.fitted_zca
    monkeypatch.setattr(whitening, "fitted_zca", lambda *a, **k: (lambda z: ZCAWhitening(
        z.mean, z.matrix * (1 + relative)))(original(*a, **k)))
    cifar._whitened.cache_clear()
    occluded._splits.cache_clear()


@pytest.mark.parametrize("name", ["cifar-beta", "occluded-cifar"])
def test_the_data_identity_names_the_source_not_the_whitened_rounding(name, fake_cifar_mnist_root, monkeypatch):
    """The identity of a CIFAR split is the same when the ZCA matrix is off by 1e-6 relative (the
    whitened tensors then differ), and changes with the sizes and the preprocessing's source pixels."""
    from ibcore.data import array_digest
    from ibcore.experiments import cifar

    monkeypatch.setenv("IBCORE_DATA", str(fake_cifar_mnist_root))
    experiment = experiments.get(name)
    config = experiment.config("quick", {"n_train": 40, "n_test": 20})
    before, whitened_before = experiment.data(config), array_digest(*cifar.cifar_split(config)[0])
    _perturbed_zca(monkeypatch, 1e-6)
    assert array_digest(*cifar.cifar_split(config)[0]) != whitened_before  # the perturbation is real
    assert experiment.data(config) == before
    assert before["n_train"] == 40 and before["n_test"] == 20 and "ZCA" in before["preprocessing"]
    assert experiment.data({**config, "n_test": 10})["sha256"] != before["sha256"]
    cifar._whitened.cache_clear()


def test_pixel_levels_recover_the_bytes_as_read(fake_cifar_mnist_root):
    from ibcore.data import cifar10, pixel_levels

    x, _ = cifar10(fake_cifar_mnist_root, train=False, download=False)
    with open(fake_cifar_mnist_root / "cifar-10-batches-py" / "test_batch", "rb") as f:
        raw = np.asarray(pickle.load(f, encoding="bytes")[b"data"], dtype=np.uint8)
    assert np.array_equal(pixel_levels(x).reshape(len(x), -1).numpy(), raw)
    with pytest.raises(ValueError, match="as read"):
        pixel_levels(standardise_images(x))


# --- the model ----------------------------------------------------------------------------------

def test_all_cnn_32_drops_input_pixels_in_training_only():
    model = AllCNN32(filter_fraction=0.1, dropout="information", activation="softplus", input_dropout=0.2)
    assert isinstance(model.features[0], torch.nn.Dropout) and model.features[0].p == 0.2
    assert sum(isinstance(m, InformationDropout) for m in model.modules()) == 2
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(model(x), model(x))
    with pytest.raises(ValueError, match="input_dropout"):
        AllCNN32(input_dropout=1.0)


# --- Fig. 6: information per layer ----------------------------------------------------------

def _hand_kl(layer: InformationDropout, h: torch.Tensor) -> torch.Tensor:
    """Prop. 3, eq. 5 written out: (α² + (log f − μ)²) / 2σ² − log(α/σ) − ½ per unit."""
    f = torch.nn.functional.softplus(layer.norm(layer.f(h)))
    alpha = 0.001 + layer.max_alpha * torch.sigmoid(layer.g(h))
    mu, sigma = layer.prior_mu, layer.prior_log_sigma.exp()
    return (alpha**2 + (torch.log(f.clamp_min(1e-4)) - mu) ** 2) / (2 * sigma**2) - torch.log(alpha / sigma) - 0.5


@torch.no_grad()
def test_information_per_layer_matches_a_hand_computation():
    model = MLP([6, 4], "information", activation="softplus", in_features=5)
    first, second = [m for m in model.modules() if isinstance(m, InformationDropout)]
    for layer in (first, second):
        layer.prior_mu.uniform_(-1, 1)
        layer.prior_log_sigma.uniform_(-0.5, 0.5)
        layer.norm.running_mean.uniform_(-0.5, 0.5)
    x = torch.randn(50, 5)
    info = metrics.information_per_layer(model, x, batch_size=16)
    model.eval()
    h1 = first(x, noisy=False)
    expected = [_hand_kl(first, x).sum(1).mean(), _hand_kl(second, h1).sum(1).mean()]
    assert [layer["units"] for layer in info] == [6, 4]
    for measured, total, units in zip(info, expected, (6, 4)):
        assert measured["total"] == pytest.approx(float(total), rel=1e-5)
        assert measured["per_unit"] == pytest.approx(float(total) / units, rel=1e-5)


def test_information_per_layer_counts_channels_times_positions():
    model = AllCNN32(filter_fraction=0.1, dropout="information", activation="softplus")
    info = metrics.information_per_layer(model, torch.randn(3, 3, 32, 32))
    assert [layer["units"] for layer in info] == [10 * 16 * 16, 19 * 8 * 8]
    assert all(layer["total"] > 0 for layer in info)
    with pytest.raises(ValueError, match="no Information Dropout"):
        metrics.information_per_layer(MLP([4], "binary"), torch.randn(2, 784))


# --- Fig. 5: total correlation -----------------------------------------------------------------

def test_gaussian_tc_of_samples_recovers_a_known_tc():
    """Three independent pairs with correlations ρ: TC = −½ Σ log(1 − ρ²)."""
    rhos = [0.9, 0.5, 0.0]
    cov = np.zeros((6, 6))
    for k, rho in enumerate(rhos):
        cov[2 * k:2 * k + 2, 2 * k:2 * k + 2] = [[1, rho], [rho, 1]]
    scale = np.sqrt(np.repeat([4.0, 0.25, 1.0], 2))  # the variances do not change the TC
    cov = cov * scale[:, None] * scale[None, :]
    samples = np.random.default_rng(0).multivariate_normal(np.ones(6), cov, size=200_000)
    known = -0.5 * sum(math.log(1 - r * r) for r in rhos)
    tc = metrics.gaussian_total_correlation_of_samples(samples)
    assert tc["total"] == pytest.approx(known, abs=0.01)
    assert tc["per_dimension"] == pytest.approx(tc["total"] / 6)
    with pytest.raises(ValueError, match="more samples than dimensions"):
        metrics.gaussian_total_correlation_of_samples(samples[:6])


def test_representation_tc_is_the_tc_of_the_noisy_log_activations():
    torch.manual_seed(0)
    model = MLP([8, 5], "information", activation="softplus", in_features=4)
    x, calibration = torch.randn(400, 4), torch.randn(300, 4)
    tc = metrics.representation_total_correlation(model, x, calibration, seed=3)
    z = metrics.layer_outputs(model, x, -1, noisy=True, calibration=calibration, seed=3)
    expected = metrics.gaussian_total_correlation_of_samples(torch.log(z.double()).numpy())
    assert tc == pytest.approx(expected)
    assert tc["total"] >= 0


# --- the experiments ----------------------------------------------------------------------------

def test_cifar_profiles_follow_the_original_recipe():
    full = experiments.get("cifar-filters").config("full")
    assert (full["epochs"], full["lr"], full["lr_drops"], full["batch_size"]) == (200, 0.05, [80, 120, 160], 100)
    assert (full["momentum"], full["nesterov"], full["weight_decay"], full["beta"]) == (0.9, True, 0.001, 3.0)
    assert full["input_dropout"] == 0.2 and full["max_alpha"] == 0.7 and full["n_train"] == 0
    for name in ("cifar-filters", "cifar-beta", "cifar-activation-priors"):
        for profile in ("quick", "cpu", "full"):
            assert experiments.get(name).config(profile)["input_dropout"] == 0.2


@pytest.mark.parametrize("profile", ["quick", "cpu", "full"])
def test_cifar_beta_estimates_tc_from_more_images_than_units(profile):
    config = experiments.get("cifar-beta").config(profile)
    units = round(192 * config["filter_fraction"]) * 8 * 8
    assert (config["n_test"] or 10_000) > units


def test_cifar_experiments_run_end_to_end_on_tiny_data(fake_cifar_mnist_root, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(fake_cifar_mnist_root))
    tiny = dict(epochs=1, n_train=200, n_test=100, batch_size=50, recalibration_size=100)
    filters = experiments.run("cifar-filters", "quick", progress=False, **tiny)
    kinds = {row["dropout"]: row for row in filters["rows"]}
    assert set(kinds) == {"none", "binary", "information"}
    assert len(kinds["information"]["information"]) == 2 and "information" not in kinds["none"]
    assert kinds["information"]["beta_used"] == pytest.approx(3.0 * 200 / 50_000)
    table = experiments.filters_table(filters)
    assert "layer 2: per unit (nats)" in table
    beta = experiments.run("cifar-beta", "quick", progress=False, betas=[1.0],
                           **{**tiny, "n_test": 100, "filter_fraction": 0.005})
    [row] = beta["rows"]
    assert math.isfinite(row["total_correlation"]) and row["total_correlation"] >= 0
    assert experiments.beta_table(beta).shape[0] == 1
    assert list(experiments.summary_table(beta).index) == [1.0]  # what the CLI prints: rows without "dropout"
    priors = experiments.run("cifar-activation-priors", "quick", progress=False, **tiny)
    assert [r["prior"] for r in priors["rows"]] == ["log-uniform", "log-normal"]
    for row in filters["rows"] + beta["rows"] + priors["rows"]:  # noise off, on the 200 training images
        assert 0 <= row["clean_train_error"] <= 1
    assert table["clean train error (%)"].notna().all()
    assert "clean_train_error_pct" in experiments.summary_table(priors)


def _seeded_results() -> tuple[dict, dict]:
    """cifar-filters and cifar-beta results as the cpu profiles write them: several seeds per setting."""
    meta = dict(profile="cpu", config={"epochs": 12}, provenance=dict(device="cpu"),
                data={"dataset": "CIFAR-10 (standardised, ZCA)", "n_train": 50_000, "n_test": 10_000})
    info = [dict(total=100.0, units=100, per_unit=1.0), dict(total=50.0, units=50, per_unit=1.0)]
    filters = dict(meta, rows=[dict(dropout=d, filter_fraction=0.1, seed=s, test_error=0.30 + 0.01 * s,
                                    train_error=0.2, beta=0.0, **({"information": info} if d == "information" else {}))
                               for d in ("none", "binary", "information") for s in (0, 1, 2)])
    beta = dict(meta, rows=[dict(beta=b, beta_used=b, seed=s, test_error=0.3 + 0.02 * s, total_correlation=10 / b + s,
                                 total_correlation_noise_off=20 / b, information=info)
                            for b in (0.3, 3.0) for s in (0, 1)])
    return filters, beta


def test_cifar_tables_and_figures_give_the_mean_and_spread_over_seeds():
    import matplotlib.pyplot as plt

    from ibcore import plots

    filters, beta = _seeded_results()
    table = experiments.filters_table(filters)
    assert list(table.index.get_level_values("dropout")) == ["none", "binary", "information"]
    assert (table["seeds"] == 3).all()
    assert table["test error (%)"].tolist() == pytest.approx([31.0] * 3)
    assert table["test error (%) sd"].tolist() == pytest.approx([1.0] * 3)
    assert "clean train error (%)" not in table  # rows older than the clean training error: no such column
    assert table["running train error (%)"].tolist() == pytest.approx([20.0] * 3)
    by_beta = experiments.beta_table(beta)
    assert by_beta["TC noise on (nats)"].tolist() == pytest.approx([10 / 0.3 + 0.5, 10 / 3 + 0.5], abs=1e-3)
    assert by_beta["TC noise off (nats)"].tolist() == pytest.approx([20 / 0.3, 20 / 3], abs=1e-3)
    [ax] = plots.plot_error_vs_filters(filters).axes
    means = [line for line in ax.lines if line.get_marker() not in (".", "_")]  # not the seeds, not the caps
    assert [list(line.get_ydata()) for line in means] == [pytest.approx([31.0])] * 3
    assert "3 seeds" in ax.get_title()
    tc = plots.plot_tc_vs_beta(beta).axes[1]
    assert len(tc.get_legend().get_texts()) == 2  # noise on, and the noise-off control
    plt.close("all")


def test_overfitting_by_beta_reads_the_gap_at_the_smallest_beta_and_the_best_beta():
    """Fig. 5's "first improves" needs overfitting to prevent: the summary gives β = 0's gap between the
    test and the clean training error, and the β of the lowest mean test error (means over seeds)."""
    rows = [dict(beta=b, seed=s, test_error=e + 0.01 * s, clean_train_error=c)
            for b, e, c in ((0.0, 0.40, 0.10), (0.3, 0.36, 0.20), (3.0, 0.45, 0.40)) for s in (0, 1)]
    summary = experiments.overfitting_by_beta({"rows": rows})
    assert summary["smallest"] == 0.0 and summary["best"] == 0.3
    assert summary["gap"] == pytest.approx(40.5 - 10.0) and summary["test"][3.0] == pytest.approx(45.5)
    worse = [dict(r, test_error=r["test_error"] + 0.1) if r["beta"] else r for r in rows]
    assert experiments.overfitting_by_beta({"rows": worse})["best"] == 0.0
    run = {"name": "cifar-beta-overfit", "config": {"n_train": 5000, "augment": "none", "epochs": 30}, "rows": rows}
    said = experiments.overfitting_finding(run)
    assert said.startswith("(cifar-beta-overfit: 5,000 images, no flips, 30 epochs, 2 seeds; test errors mean ± sd")
    assert "10.0 % against 40.5 ± 0.7 % test error: a gap of 30.5 points" in said
    assert "The least error is at β = 0.3: 36.5 ± 0.7 %" in said
    assert "at the largest β, 3, the test error is 45.5 ± 0.7 % and the clean training error 40.0 %" in said
    one_seed = experiments.overfitting_finding(dict(run, rows=[r for r in rows if r["seed"] == 0]))
    assert "1 seed)" in one_seed and "±" not in one_seed and "10.0 % against 40.0 % test error" in one_seed
    falling = [dict(r, test_error=0.35) if r["beta"] == 3.0 else r for r in rows]
    assert "gap narrows" not in experiments.overfitting_finding(dict(run, rows=falling))  # the test error falls
    closing = experiments.overfitting_finding(dict(run, rows=worse))
    assert "No β above 0 errs less than β = 0" in closing
    assert "The gap narrows to 15.5 points at β = 3 because the training error rises" in closing
