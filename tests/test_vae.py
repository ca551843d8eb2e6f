"""The VAE of §7 (Table I): ELBO vs brute-force integration, shapes, the reconstruction objective."""
import copy
import math

import numpy as np
import pytest
import torch

from ibcore import experiments
from ibcore.models import VAE
from ibcore.train import RECONSTRUCTION_KEYS, fit, latent_noise, negative_elbo, reconstruction_terms


def _normal_logpdf(s, loc, scale):
    return -0.5 * ((s - loc) / scale) ** 2 - torch.log(scale) - 0.5 * math.log(2 * math.pi)


def _grid(half_width, n, centre):
    """A 2-D grid of points around ``centre`` [2] and the area of one cell."""
    axis = torch.linspace(-half_width, half_width, n, dtype=torch.float64)
    s = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2) + centre
    return s, float((axis[1] - axis[0]) ** 2)


def brute_force_elbo(model: VAE, x: torch.Tensor) -> dict[str, float]:
    """E_q log p(x|z), KL(q ‖ p), ELBO and log p(x) of one example by quadrature over a 2-D grid.

    The grid is over z (Gaussian latent) or s = log z (Information latent, z = exp(s)),
    where q(·|x) and the prior are both normal densities.
    """
    with torch.no_grad():
        loc, scale = (t[0].double() for t in model.posterior(x[None]))
        if model.latent_kind == "gaussian":
            prior_loc, prior_scale = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
        else:
            prior_loc = model.latent.prior_mu.double()
            prior_scale = model.latent.prior_log_sigma.exp().double()
        s, cell = _grid(9.0 * float(torch.maximum(scale, prior_scale).max()), 601, (loc + prior_loc) / 2)
        z = s if model.latent_kind == "gaussian" else torch.exp(s)
        logits = copy.deepcopy(model).double().decode(z)
        log_lik = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x.double().expand_as(logits), reduction="none").sum(1)
        log_q = _normal_logpdf(s, loc, scale).sum(1)
        log_prior = _normal_logpdf(s, prior_loc, prior_scale).sum(1)
        q = log_q.exp() * cell
        expected = float((q * log_lik).sum())
        kl = float((q * (log_q - log_prior)).sum())
        log_px = float(torch.logsumexp(log_lik + log_prior + math.log(cell), 0))
    return dict(mass=float(q.sum()), expected=expected, kl=kl, elbo=expected - kl, log_px=log_px)


def tiny_vae(latent: str, seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    model = VAE(latent, in_features=5, hidden=6, latent_dim=2)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(2.0)  # sharper decoder, wider posteriors: the expectation over q matters
        if latent == "information":
            model.latent.prior_mu.copy_(torch.tensor([0.3, -0.4]))
            model.latent.prior_log_sigma.copy_(torch.tensor([-0.2, 0.1]))
            model.latent.g.bias.fill_(3.0)  # α near its cap 0.7: a wide posterior in log z
    return model.eval()


@pytest.mark.parametrize("latent", ["gaussian", "information"])
def test_elbo_matches_brute_force_integration(latent):
    model = tiny_vae(latent)
    x = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
    exact = brute_force_elbo(model, x)
    assert exact["mass"] == pytest.approx(1.0, abs=1e-6)  # the grid covers q
    # the closed-form KL the layer reports (kl.gaussian / Prop. 3 eq. 5) equals the integral
    with torch.no_grad():
        model(x[None], noisy=False)
    assert float(model.latent.kl[0]) == pytest.approx(exact["kl"], abs=2e-4)
    # the Monte Carlo ELBO that fit() reports: one z ~ q(z|x) per copy of x
    torch.manual_seed(1)
    batch = x.expand(200_000, -1)
    nelbo, nll, kl = negative_elbo(model, batch, batch, batch_size=50_000)
    with torch.no_grad(), latent_noise(model):
        spread = float(reconstruction_terms(model, batch[:20_000], batch[:20_000])[0].std())
    tolerance = 5 * spread / math.sqrt(len(batch)) + 1e-3
    assert -nll == pytest.approx(exact["expected"], abs=tolerance)
    assert -nelbo == pytest.approx(exact["elbo"], abs=tolerance + 2e-4)
    # a lower bound: log p(x) - ELBO = KL(q(z|x) ‖ p(z|x)) > 0
    assert -nelbo < exact["log_px"] - 0.01
    # the noise must be on: samples differ, and (Gaussian, a sharper decoder) the expectation
    # is not the likelihood at the posterior's centre
    assert spread > 1e-3
    if latent == "gaussian":
        with torch.no_grad():
            logits = model(x[None], noisy=False)
        at_centre = -float(torch.nn.functional.binary_cross_entropy_with_logits(logits[0], x, reduction="sum"))
        assert abs(at_centre - exact["expected"]) > 5 * tolerance


def test_shapes_and_sampling():
    model = VAE("information")
    x = (torch.rand(4, 1, 28, 28) > 0.5).float()
    logits = model(x)
    assert logits.shape == (4, 784) and model.latent.kl.shape == (4,)
    loc, scale = model.posterior(x)
    assert loc.shape == scale.shape == (4, 256) and bool((scale > 0).all())
    samples = model.sample(3, torch.Generator().manual_seed(0))
    assert samples.shape == (3, 784) and 0 <= float(samples.min()) and float(samples.max()) <= 1
    assert sum(p.numel() for p in VAE("gaussian", k=2).encoder.parameters()) == 784 * 1024 + 1024
    assert VAE("gaussian", k=2).latent_dim == 512


@pytest.mark.parametrize("kwargs, message", [
    (dict(latent="bernoulli"), "unknown latent"),
    (dict(k=0), "k must be a positive integer"),
    (dict(k=1.5), "k must be a positive integer"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VAE(**kwargs)


def test_bad_input_shape():
    with pytest.raises(ValueError, match="VAE expects"):
        VAE()(torch.zeros(2, 100))


def toy_binary(n=400, d=16, seed=0):
    """Two fixed binary prototypes with 5 % of the pixels flipped: a learnable reconstruction task."""
    prototypes = (torch.rand(2, d, generator=torch.Generator().manual_seed(123)) > 0.5).float()
    g = torch.Generator().manual_seed(seed)
    x = prototypes[torch.randint(2, (n,), generator=g)]
    flips = (torch.rand(n, d, generator=g) < 0.05).float()
    return (x + flips) % 2


RECON = dict(objective="reconstruction", epochs=6, lr=0.01, optimizer="adam", batch_size=50,
             seed=0, progress=False)


@pytest.mark.parametrize("latent", ["gaussian", "information"])
def test_fit_reconstruction_objective(latent):
    x, x_test = toy_binary(), toy_binary(200, seed=1)
    torch.manual_seed(0)
    model = VAE(latent, in_features=16, hidden=32, latent_dim=4)
    history = fit(model, (x, x), (x_test, x_test), beta=1.0, **RECON)
    assert tuple(history) == RECONSTRUCTION_KEYS and all(len(v) == 6 for v in history.values())
    assert history["test_nelbo"][-1] < history["test_nelbo"][0] - 1.0
    for nelbo, ce, lz in zip(history["test_nelbo"], history["test_ce"], history["test_lz"]):
        assert nelbo == pytest.approx(ce + lz) and lz > 0
    # a valid bound on 16 binary pixels: -ELBO >= the best possible NLL, 0 < -ELBO < 16 log 2 + KL
    assert 0 < history["test_ce"][-1] < 16 * math.log(2)


def test_beta_weighs_the_per_example_kl():
    """KL is per example (eq. 7), not divided by N_train: a large β must shrink it a lot."""
    x, x_test = toy_binary(), toy_binary(200, seed=1)
    kls = {}
    for beta in (0.0, 20.0):
        torch.manual_seed(0)
        model = VAE("gaussian", in_features=16, hidden=32, latent_dim=4)
        kls[beta] = fit(model, (x, x), (x_test, x_test), beta=beta, **RECON)["test_lz"][-1]
    assert kls[20.0] < 0.2 * kls[0.0]


def test_unknown_objective_and_optimizer():
    x = toy_binary(20)
    for kwargs, message in ((dict(objective="ranking"), "unknown objective"),
                            (dict(optimizer="lbfgs"), "unknown optimizer")):
        with pytest.raises(ValueError, match=message):
            fit(VAE(in_features=16, hidden=4, latent_dim=2), (x, x), (x, x), beta=1.0, epochs=1,
                lr=0.01, progress=False, **kwargs)


def test_vae_experiment_runs_on_tiny_data(fake_mnist_root, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    result = experiments.run("vae-beta", "quick", progress=False, betas=[0.5, 2.0], n_images=3,
                             n_train=100, n_test=50)
    assert result["data"]["n_train"] == 100 and "threshold" in result["data"]["binarization"]
    assert [r["beta"] for r in result["rows"]] == [0.5, 2.0]
    row = result["rows"][0]
    assert row["test_elbo"] == pytest.approx(row["test_reconstruction"] - row["test_kl"])
    assert row["latent_units"] == 256 and 0 <= row["active_units"] <= 256
    assert 0.001 < row["alpha_mean"] <= 0.701 and 0 <= row["alpha_near_cap"] <= 1
    from ibcore.cache import decode_array
    assert decode_array(row["samples"]).shape == (3, 28, 28)
    assert set(decode_array(result["originals"]).ravel().tolist()) <= {0.0, 1.0}  # binarised
