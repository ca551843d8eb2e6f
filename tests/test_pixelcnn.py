"""Rey & Mnih's hybrid VAE-PixelCNN (§3-4): causal PixelCNN, pixel likelihoods, bits/dim, the
two bottlenecks on v_j, the objective, sampling and the pixelcnn-bottleneck experiment."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from ibcore import cache, claims, experiments, kl, plots
from ibcore.likelihoods import (HALF_RANGE, Bernoulli, DiscretizedLogisticMixture, bits_per_dim,
                                to_symmetric)
from ibcore.models import ElboTerms, GatedPixelCNN, VAEPixelCNN
from ibcore.train import ELBO_KEYS, fit

LEVELS = torch.arange(256, dtype=torch.float64) / HALF_RANGE - 1   # the 256 levels of [−1, 1]


@pytest.fixture(autouse=True)
def _one_thread():
    """These tensors are tiny: one thread avoids the cost of synchronising two on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def raster_gradient(model, x, cond, i, j):
    """|∂ output(i, j) / ∂ x| summed over channels, per input pixel in raster order [H·W]."""
    x = x.clone().requires_grad_(True)
    out = model(x, cond) if cond is not None else model(x)
    (grad,) = torch.autograd.grad(out[0, :, i, j].sum(), x)
    return grad[0].abs().sum(0).flatten()


@pytest.mark.parametrize("channels", [1, 3])
def test_pixelcnn_is_causal_in_raster_order(channels):
    torch.manual_seed(0)
    model = GatedPixelCNN(channels, 4, channels=8, layers=3, kernel=3, cond_channels=2)
    x, cond = torch.randn(1, channels, 6, 5), torch.randn(1, 2, 6, 5)
    for i in range(6):
        for j in range(5):
            grad = raster_gradient(model, x, cond, i, j)
            here = i * 5 + j
            assert grad[here:].max() == 0, f"output ({i}, {j}) sees pixel j or a later one"
            if j > 0:
                assert grad[here - 1] > 0, "the left neighbour must be seen"
            if i > 0:
                assert grad[here - 5] > 0, "the pixel above must be seen"


def tiny_hybrid(likelihood=None, bottleneck="none", p=0.0, size=8, **kwargs):
    torch.manual_seed(0)
    settings = dict(vae_width=8, latent_channels=2, downsamplings=2, u_channels=4, pixelcnn_channels=8,
                    pixelcnn_layers=2, kernel=3, v_dim=3, mixer_hidden=8)
    return VAEPixelCNN(likelihood or Bernoulli(), image_size=size, bottleneck=bottleneck, p=p, **{**settings, **kwargs})


@pytest.mark.parametrize("channels", [1, 3])
def test_hybrid_decoder_is_causal_given_the_latents(channels):
    likelihood = Bernoulli(1) if channels == 1 else DiscretizedLogisticMixture(3, 2)
    model = tiny_hybrid(likelihood, "variational").eval()
    u = model.decoder(torch.randn(1, *model.latent_shape)).detach()
    x = torch.rand(1, channels, 8, 8)
    for i, j in [(0, 0), (3, 4), (7, 7)]:
        grad = raster_gradient(lambda x_: model.pixel_params(x_, u)[0], x, None, i, j)
        here = i * 8 + j
        assert grad[here:].max() == 0, f"the parameters of pixel ({i}, {j}) see pixel j or a later one"
        assert here == 0 or grad[:here].max() > 0


def test_the_context_window_gives_the_whole_image_output():
    torch.manual_seed(0)
    model = GatedPixelCNN(3, 4, channels=8, layers=3, kernel=3, cond_channels=2)
    x, cond = torch.randn(2, 3, 12, 11), torch.randn(2, 2, 12, 11)
    full = model(x, cond)
    for i, j in [(0, 0), (5, 0), (11, 10), (9, 4), (4, 10)]:
        rows, cols = model.context(i, j, 11)
        window = model(x[:, :, rows, cols], cond[:, :, rows, cols])[:, :, i - rows.start, j - cols.start]
        assert torch.allclose(window, full[:, :, i, j], atol=1e-6)
        assert rows.stop - rows.start <= model.reach + 1


def random_mixture_params(likelihood, n=1, scale=3.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, likelihood.n_params, 1, 1, generator=generator, dtype=torch.float64) * scale


@pytest.mark.parametrize("mean", [None, -1.0, 1.0, 5.0])
def test_logistic_mixture_of_one_channel_sums_to_one_over_256_levels(mean):
    mixture = DiscretizedLogisticMixture(1, 4)
    params = random_mixture_params(mixture)
    if mean is not None:  # every component's mean on an edge level, or beyond it
        params[:, 4:8] = mean
    probs = mixture.log_prob(params.expand(256, -1, -1, -1), LEVELS.view(256, 1, 1, 1)).exp()
    assert float(probs.sum()) == pytest.approx(1.0, abs=1e-9)
    assert float(probs.min()) >= 0


@pytest.mark.parametrize("earlier", [0, 255, 77])
def test_each_colour_channel_sums_to_one_given_the_earlier_channels(earlier):
    """Per component, p_k(x_c | x_<c) sums to 1 over channel c's 256 levels, with the earlier
    channels at level ``earlier`` (edges 0 and 255 included) and for random parameters."""
    mixture = DiscretizedLogisticMixture(3, 3)
    params = random_mixture_params(mixture, seed=earlier).expand(256, -1, -1, -1)
    for c in range(3):
        x = torch.full((256, 3, 1, 1), float(LEVELS[earlier]), dtype=torch.float64)
        x[:, c, 0, 0] = LEVELS
        probs = mixture.component_log_probs(params, x)[:, :, c, 0, 0].exp()    # [256 levels, K]
        assert torch.allclose(probs.sum(0), torch.ones(3, dtype=torch.float64), atol=1e-9)


def test_a_two_channel_mixture_sums_to_one_over_all_256_squared_values():
    """The joint, mixture and conditioning included: Σ over (x_1, x_2) of p(x_1, x_2) = 1."""
    mixture = DiscretizedLogisticMixture(2, 3)
    params = random_mixture_params(mixture, scale=1.0)
    first, second = (t.flatten() for t in torch.meshgrid(LEVELS, LEVELS, indexing="ij"))
    x = torch.stack([first, second], 1).view(-1, 2, 1, 1)
    total = float(mixture.log_prob(params.expand(len(x), -1, -1, -1), x).exp().sum())
    assert total == pytest.approx(1.0, abs=1e-9)


def test_colour_channels_are_conditioned_in_order():
    """log p(x_G | x_R) depends on x_R (the coefficients) and never on x_B."""
    mixture = DiscretizedLogisticMixture(3, 2)
    params = random_mixture_params(mixture).float()
    x = torch.tensor([[[[0.2]], [[-0.1]], [[0.5]]]], requires_grad=True)
    (grad,) = torch.autograd.grad(mixture.component_log_probs(params, x)[0, :, 1].sum(), x)
    assert grad[0, 2].abs().max() == 0 and grad[0, 0].abs().max() > 0


def test_a_logistic_centred_on_a_level_by_hand():
    """Mean on level 100, scale s = e^-7 (the smallest): the level's bin [x ± 1/255] holds
    σ(a) − σ(−a) = tanh(a/2), a = 1/(255 s); the edge level 0 holds σ(−199 a), log ≈ −199 a."""
    mixture = DiscretizedLogisticMixture(1, 1)
    params = torch.tensor([0.0, float(LEVELS[100]), -7.0], dtype=torch.float64).view(1, 3, 1, 1)
    log_probs = mixture.log_prob(params.expand(256, -1, -1, -1), LEVELS.view(256, 1, 1, 1)).flatten()
    probs, a = log_probs.exp(), math.exp(7) / 255
    assert float(probs[100]) == pytest.approx(math.tanh(a / 2), rel=1e-9)                     # 0.97324
    assert float(probs[101]) == pytest.approx(1 / (1 + math.exp(-3 * a)) - 1 / (1 + math.exp(-a)), rel=1e-9)
    assert float(log_probs[0]) == pytest.approx(-199 * a, rel=1e-9)                           # −5,463 nats


def test_bernoulli_log_prob_by_hand():
    logits = torch.tensor([0.0, 2.0, -1.0]).view(1, 1, 1, 3)
    x = torch.tensor([1.0, 0.0, 0.0]).view(1, 1, 1, 3)
    expected = [math.log(0.5), math.log(1 - 1 / (1 + math.exp(-2))), math.log(1 - 1 / (1 + math.exp(1)))]
    assert Bernoulli().log_prob(logits, x).flatten().tolist() == pytest.approx(expected, abs=1e-6)


def test_bits_per_dimension_by_hand():
    # One image of 784 pixels at 100 nats: 100 / (784 · ln 2) = 100 / 543.42739 = 0.184017 bits/dim.
    assert bits_per_dim(100.0, 784) == pytest.approx(0.184017, abs=1e-6)
    # 3 bits per dimension of a CIFAR-10 image is 3 · 3,072 · ln 2 = 6,388.04 nats.
    assert bits_per_dim(6388.0449, 3072) == pytest.approx(3.0, abs=1e-6)
    assert torch.allclose(bits_per_dim(torch.tensor([0.0, 784 * math.log(2)]), 784), torch.tensor([0.0, 1.0]))
    for dims in (0, -3, 2.5):
        with pytest.raises(ValueError, match="dims must be a positive integer"):
            bits_per_dim(1.0, dims)


def test_images_map_onto_the_256_levels():
    x = to_symmetric(torch.tensor([0.0, 1 / 255, 128 / 255, 1.0]))
    assert x.tolist() == pytest.approx([-1.0, -1 + 2 / 255, 1 / 255, 1.0], abs=1e-7)
    assert x.max() <= 1
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        to_symmetric(torch.tensor([1.5]))


def test_likelihoods_refuse_mismatched_inputs():
    mixture = DiscretizedLogisticMixture(3, 2)
    with pytest.raises(ValueError, match="expects params"):
        mixture.log_prob(torch.zeros(1, 5, 2, 2), torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match="expects x"):
        mixture.log_prob(torch.zeros(1, mixture.n_params, 2, 2), torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        mixture.log_prob(torch.zeros(1, mixture.n_params, 2, 2), torch.full((1, 3, 2, 2), 2.0))
    with pytest.raises(ValueError, match="positive integers"):
        DiscretizedLogisticMixture(0, 10)


def test_gaussian_dropout_adds_no_loss_term_and_no_noise_at_test_time():
    model = tiny_hybrid(bottleneck="gaussian", p=0.5)
    v = torch.randn(4, 3, 8, 8)
    model.train()
    noisy, penalty = model.squeeze_v(v)
    assert penalty.shape == (4,) and penalty.abs().max() == 0
    assert not torch.equal(noisy, v)                                  # noise in training
    assert float(((noisy / v) - 1).std()) == pytest.approx(1.0, rel=0.1)   # σ(0.5) = 1
    model.eval()
    clean, penalty = model.squeeze_v(v)
    assert torch.equal(clean, v) and penalty.abs().max() == 0       # none at test time
    assert model(torch.zeros(2, 1, 8, 8)).bottleneck_kl.abs().max() == 0


def test_the_variational_bottleneck_term_is_the_sum_of_per_pixel_kl():
    model = tiny_hybrid(bottleneck="variational").eval().requires_grad_(False)
    v = torch.randn(2, 3, 8, 8)
    out, penalty = model.squeeze_v(v)
    rows = v.permute(0, 2, 3, 1).reshape(-1, 3)
    mu = model.bottleneck.mu(rows)
    sigma = nn.functional.softplus(model.bottleneck.sigma_pre(rows)) + 1e-6
    expected = kl.gaussian(mu, sigma).sum(1).reshape(2, 64).sum(1)
    assert torch.allclose(penalty, expected) and float(penalty.min()) > 0
    assert torch.allclose(out, mu.reshape(2, 8, 8, 3).permute(0, 3, 1, 2))   # test time: the mean


class FixedTerms(nn.Module):
    """A model whose ELBO terms are known functions of one weight w: nll = w², kl = 3w, Σ KL_j = 5w."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        ones = torch.ones(len(x))
        return ElboTerms(self.w**2 * ones, 3 * self.w * ones, 5 * self.w * ones)


@pytest.mark.parametrize("beta", [0.0, 2.0])
def test_fit_minimises_the_negative_elbo_plus_beta_times_the_bottleneck_kl(beta):
    model = FixedTerms()
    data = (torch.zeros(4, 1), torch.zeros(4, 1))
    history = fit(model, data, data, beta=beta, epochs=1, lr=0.1, momentum=0.0, batch_size=4,
                  objective="elbo", progress=False, device="cpu")
    # one SGD step on w² + 3w + β·5w from w = 1: w ← 1 − 0.1 · (2 + 3 + 5β)
    w = 1 - 0.1 * (5 + 5 * beta)
    assert model.w.item() == pytest.approx(w)
    assert set(history) == set(ELBO_KEYS)
    assert history["nelbo"] == [pytest.approx(4.0)] and history["bottleneck_kl"] == [pytest.approx(5.0)]
    assert history["test_nelbo"] == [pytest.approx(w**2 + 3 * w)]   # Σ KL_j is not part of the ELBO
    assert history["test_kl"] == [pytest.approx(3 * w)]


def test_the_elbo_terms_add_up():
    model = tiny_hybrid(DiscretizedLogisticMixture(3, 2), "variational").train()
    x = to_symmetric(torch.rand(3, 3, 8, 8))
    torch.manual_seed(1)
    terms = model(x)
    torch.manual_seed(1)
    mu, sigma = model.encoder(x)
    z = mu + sigma * torch.randn_like(mu)
    params, _ = model.pixel_params(x, model.decoder(z))
    assert torch.allclose(terms.nll, -model.likelihood.log_prob(params, x).sum((1, 2)), rtol=1e-4)
    assert torch.allclose(terms.kl, kl.gaussian(mu, sigma).sum((1, 2, 3)))
    assert terms.nll.min().item() > 0 and terms.kl.min().item() > 0


@pytest.mark.parametrize("likelihood", [Bernoulli(1), DiscretizedLogisticMixture(3, 2)], ids=repr)
def test_sampling_shapes_levels_and_seeds(likelihood):
    model = tiny_hybrid(likelihood, "gaussian", p=0.3, size=6).train()
    draw = [model.sample(3, torch.Generator().manual_seed(seed)) for seed in (0, 0, 1)]
    assert not model.training                                          # samples without bottleneck noise
    assert draw[0].shape == (3, likelihood.channels, 6, 6)
    assert torch.equal(draw[0], draw[1]) and not torch.equal(draw[0], draw[2])
    levels = draw[0] if isinstance(likelihood, Bernoulli) else (draw[0] + 1) * HALF_RANGE
    assert torch.allclose(levels, levels.round(), atol=1e-4) and levels.min() >= 0 and levels.max() <= 255
    with pytest.raises(ValueError, match="z must be"):
        model.sample(2, z=torch.zeros(3, *model.latent_shape))


def test_hybrid_refuses_bad_settings():
    with pytest.raises(ValueError, match="unknown bottleneck"):
        tiny_hybrid(bottleneck="binary")
    with pytest.raises(ValueError, match=r"rate p in \(0, 1\)"):
        tiny_hybrid(bottleneck="gaussian", p=0.0)
    with pytest.raises(ValueError, match="expects images"):
        tiny_hybrid()(torch.zeros(2, 1, 7, 7))
    with pytest.raises(ValueError, match="kernel must be odd"):
        GatedPixelCNN(1, 2, kernel=4)


def test_profiles_follow_appendix_b_where_they_say_so():
    cpu, full = (experiments.get("pixelcnn-bottleneck").config(p) for p in ("cpu", "full"))
    assert len(cpu["ps"]) >= 4 and len(cpu["betas"]) >= 4 and cpu["dataset"] == "binarized-mnist"
    assert full["dataset"] == "cifar10" and (full["components"], full["v_dim"], full["mixer_hidden"]) == (10, 10, 266)
    assert (full["epochs"], full["lr"], full["optimizer"], full["pixelcnn_dropout"]) == (350, 1e-4, "adam", 0.5)
    torch.manual_seed(0)
    model = VAEPixelCNN(DiscretizedLogisticMixture(3, 10), image_size=32,
                        **{k: full[k] for k in experiments.pixelcnn.MODEL_KEYS})
    assert model.latent_shape == (16, 4, 4)                              # App. B: 4×4 × 16 latents
    experiment = experiments.get("pixelcnn-bottleneck")
    with pytest.raises(ValueError, match=r"p must be in \(0, 1\)"):
        experiment.trials(experiment.config("quick", {"ps": [1.0]}))
    with pytest.raises(ValueError, match="beta must be >= 0"):
        experiment.trials(experiment.config("quick", {"betas": [-0.1]}))


def test_experiment_end_to_end_on_tiny_mnist(fake_mnist_root, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    tiny = dict(n_train=64, n_test=32, ps=[0.5], betas=[1.0], latent_draws=1, samples_per_z=2, pixelcnn_layers=2)
    result = experiments.run("pixelcnn-bottleneck", "quick", progress=False, threads=1, **tiny)
    rows = result["rows"]
    assert [(r["bottleneck"], r["p"], r["beta"]) for r in rows] == [
        ("none", None, None), ("gaussian", 0.5, None), ("variational", None, 1.0)]
    assert result["data"]["n_train"] == 64 and result["data"]["dataset"] == "binarised MNIST"
    for row in rows:
        assert row["test_nelbo"] == pytest.approx(row["test_nll"] + row["test_kl"])
        assert row["test_nelbo_bpd"] == pytest.approx(row["test_nelbo"] / (784 * math.log(2)))
        assert row["test_kl_bpd"] == pytest.approx(row["test_kl"] / (784 * math.log(2)))
        assert row["test_kl"] > 0 and row["test_nll"] > 0
        samples = cache.decode_array(row["samples"])
        assert samples.shape == (1, 2, 1, 28, 28) and set(np.unique(samples)) <= {0.0, 1.0}
    assert rows[0]["train_bottleneck_kl"] == rows[1]["train_bottleneck_kl"] == 0
    assert rows[2]["train_bottleneck_kl"] > 0
    table = plots.pixelcnn_table(result)
    assert list(table["bottleneck"]) == [plots.BOTTLENECK_LABELS[k] for k in ("none", "gaussian", "variational")]
    assert table["VAE KL (bits/dim)"].tolist() == pytest.approx([round(r["test_kl_bpd"], 4) for r in rows])


def synthetic_result() -> dict:
    rng = np.random.default_rng(0)

    def row(kind, p=None, beta=None, kl_bpd=0.01):
        samples = cache.encode_array((rng.random((2, 2, 1, 28, 28)) > 0.5).astype(np.float32))
        return dict(bottleneck=kind, p=p, beta=beta, test_kl_bpd=kl_bpd, test_nelbo_bpd=0.2 + kl_bpd,
                    test_nll_bpd=0.2, test_kl=kl_bpd * 784 * math.log(2), train_bottleneck_kl=0.0, samples=samples)

    rows = [row("none", kl_bpd=0.0), row("gaussian", p=0.9, kl_bpd=0.05), row("gaussian", p=0.1, kl_bpd=0.01),
            row("variational", beta=0.3, kl_bpd=0.02)]
    return dict(rows=rows, profile="cpu", config={"epochs": 1},
                data={"dataset": "binarised MNIST", "n_train": 22699, "n_test": 5000},
                provenance=dict(device="cpu (1 threads)", commit="abc1234def"))


def test_tradeoff_figure_and_frames():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = synthetic_result()
    fig = plots.plot_tradeoff(result)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("VAE KL (bits/dim)", "test −ELBO (bits/dim)")
    gd = next(line for line in ax.lines if line.get_label() == plots.BOTTLENECK_LABELS["gaussian"])
    assert list(gd.get_xdata()) == [0.01, 0.05]                        # ordered by p
    assert any("cpu profile · 1 epoch · 22,699 binarised MNIST" in t.get_text() for t in fig.texts)
    frames = plots.pixelcnn_frames(result, "gaussian")
    assert sorted(frames) == [0.0, 0.1, 0.9]                            # 0: the no-bottleneck model
    with pytest.raises(ValueError, match="no gaussian run with strength 0.5"):
        plots.plot_pixelcnn_frame(result, "gaussian", 0.5)
    with pytest.raises(ValueError, match="kind must be one of"):
        plots.pixelcnn_frames(result, "none")
    plt.close("all")


def test_a_repeated_model_is_one_row_one_point_and_one_frame_at_its_mean():
    """Issue 26: seeds of the models on each side's best trade-off: the table and the trade-off plot show each
    model once, at its mean over seeds (−ELBO sd beside it), the seeds as small points, a frame per strength."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = synthetic_result()
    for row in result["rows"]:
        row["seed"] = 0
    repeat = dict(result["rows"][2], seed=1, test_nelbo_bpd=0.23, test_kl_bpd=0.03)   # GD p 0.1 again
    result["rows"].append(repeat)
    models = experiments.pixelcnn.by_model(result)
    assert [(m["bottleneck"], m["seeds"]) for m in models] == [("none", 1), ("gaussian", 1), ("gaussian", 2),
                                                              ("variational", 1)]
    assert models[2]["test_nelbo_bpd"] == pytest.approx(0.22) and models[2]["test_kl_bpd"] == pytest.approx(0.02)
    assert models[2]["test_nelbo_bpd_sd"] == pytest.approx(0.01 * math.sqrt(2)) and models[1]["test_nelbo_bpd_sd"] is None
    table = plots.pixelcnn_table(result)
    assert len(table) == 4 and table["seeds"].tolist() == [1, 1, 2, 1]
    assert table["−ELBO sd (bits/dim)"].isna().tolist() == [True, True, False, True]
    assert "seeds" not in plots.pixelcnn_table(synthetic_result())          # one seed: no seed columns
    ax = plots.plot_tradeoff(result).axes[0]
    gd = next(line for line in ax.lines if line.get_label().startswith(plots.BOTTLENECK_LABELS["gaussian"]))
    assert list(gd.get_xdata()) == pytest.approx([0.02, 0.05]) and "mean over seeds" in gd.get_label()
    small = [line for line in ax.lines if line.get_markersize() == 3]
    assert sorted(x for line in small for x in line.get_xdata()) == pytest.approx([0.01, 0.03])
    frames = plots.pixelcnn_frames(result, "gaussian")
    assert sorted(frames) == [0.0, 0.1, 0.9]
    assert "seed 0" in frames[0.1]._suptitle.get_text()
    plt.close("all")


def _tradeoff_result(gd, vb, none_kl=0.5):
    """A pixelcnn-bottleneck result from (VAE KL bits/dim, −ELBO bits/dim) points."""
    rows = [dict(bottleneck="none", test_kl=none_kl, test_kl_bpd=none_kl / 543.4, test_nelbo_bpd=0.2)]
    rows += [dict(bottleneck=kind, test_kl=kl * 543.4, test_kl_bpd=kl, test_nelbo_bpd=nelbo)
             for kind, points in (("gaussian", gd), ("variational", vb)) for kl, nelbo in points]
    return {"rows": rows}


def test_tradeoff_comparison_measures_the_gap_at_equal_vae_kl():
    # GD: −ELBO = 0.20 + 0.1·KL; VB: 0.21 + 0.1·KL; overlap KL ∈ [0.02, 0.08]: VB worse by 0.01 everywhere
    gd = [(0.0, 0.20), (0.04, 0.204), (0.08, 0.208)]
    vb = [(0.02, 0.212), (0.1, 0.22)]
    found = claims.tradeoff_comparison(_tradeoff_result(gd, vb))
    assert found["kl_range_bpd"] == pytest.approx((0.02, 0.08))
    assert found["gap_bpd"] == pytest.approx(0.01) and found["gd_better_share"] == 1.0
    assert found["none_kl_nats"] == 0.5 and found["max_kl_nats"] == pytest.approx(0.1 * 543.4)
    reversed_ = claims.tradeoff_comparison(_tradeoff_result(vb, gd))
    assert reversed_["gap_bpd"] == pytest.approx(-0.01) and reversed_["gd_better_share"] == 0.0


def test_tradeoff_comparison_without_a_common_kl_range_reports_none():
    found = claims.tradeoff_comparison(_tradeoff_result([(0.0, 0.2), (0.01, 0.21)], [(0.05, 0.2), (0.09, 0.21)]))
    assert found["kl_range_bpd"] is None and found["gap_bpd"] is None
    with pytest.raises(ValueError, match="gaussian"):
        claims.tradeoff_comparison(_tradeoff_result([], [(0.05, 0.2)]))


def test_tradeoff_comparison_names_the_models_beaten_on_both_axes():
    # no common KL range; VB at KL 0.05 has a lower −ELBO than GD at 0.01 and 0.02: both GD models are beaten
    result = _tradeoff_result([(0.01, 0.25), (0.02, 0.23)], [(0.05, 0.22), (0.09, 0.26)])
    for row, strength in zip(result["rows"][1:], (0.1, 0.5, 0.03, 0.3)):
        row["p" if row["bottleneck"] == "gaussian" else "beta"] = strength
    found = claims.tradeoff_comparison(result)
    assert found["gap_bpd"] is None and found["gd_dominated"] == [0.1, 0.5] and found["vb_dominated"] == []


def test_colour_samples_are_stored_in_the_unit_interval_and_drawn_as_they_were():
    from ibcore import cache
    from ibcore.experiments.pixelcnn import _unit_interval
    from ibcore.likelihoods import from_symmetric, to_symmetric
    from ibcore.plots.pixelcnn import _as_images

    images = torch.rand(2, 2, 3, 4, 4)
    symmetric = to_symmetric(images)
    assert torch.allclose(from_symmetric(symmetric), images, atol=1 / 255)
    stored = cache.encode_array(_unit_interval(symmetric, {"dataset": "cifar10"}).numpy())  # no negative values
    shown = _as_images(cache.decode_array(stored))
    assert shown.shape == (2, 2, 4, 4, 3) and abs(shown - images.permute(0, 1, 3, 4, 2).numpy()).max() < 2 / 255
    binary = (torch.rand(2, 2, 1, 4, 4) > 0.5).float()
    assert torch.equal(_unit_interval(binary, {"dataset": "binarized-mnist"}), binary)
