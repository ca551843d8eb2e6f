"""Bottleneck layers: noise statistics, gradients, KL, eval determinism, bad input."""
import math

import pytest
import torch
from torch import nn

from ibcore.layers import (GaussianDropout, InformationDropout, LogNormalDropout, VariationalBottleneck,
                           bottlenecks, dropout_sigma, kl_loss)


def noise_of(layer, x):
    """ε = z / f(x) on the units where f(x) > 0, with the α used for each."""
    layer.train()
    clean = layer(x, noisy=False)  # same batch → same BatchNorm statistics
    noisy = layer(x)
    mask = clean > 1e-3
    return (noisy[mask] / clean[mask]), layer.alpha(x)[mask]


@pytest.mark.parametrize("activation", ["relu", "softplus"])
def test_log_noise_has_mean_zero_and_std_alpha(activation):
    layer = InformationDropout.linear(32, 64, activation=activation)
    eps, alpha = noise_of(layer, torch.randn(4096, 32))
    n = torch.log(eps) / alpha  # should be N(0, 1) exactly
    se = 1 / math.sqrt(n.numel())
    assert abs(n.mean().item()) < 5 * se
    assert n.std().item() == pytest.approx(1.0, abs=10 * se)
    assert alpha.min() > 0.001 and alpha.max() < 0.701


def test_conv_layer_noise_statistics_and_shape():
    layer = InformationDropout.conv(3, 8, kernel_size=3, stride=2)
    x = torch.randn(64, 3, 16, 16)
    eps, alpha = noise_of(layer, x)
    n = torch.log(eps) / alpha
    assert abs(n.mean().item()) < 5 / math.sqrt(n.numel())
    assert n.std().item() == pytest.approx(1.0, abs=0.01)
    assert layer(x).shape == (64, 8, 8, 8)
    assert layer.kl.shape == (64,)


def test_gradients_reach_the_alpha_branch_through_the_noise():
    layer = InformationDropout.linear(16, 16, activation="softplus").train()
    layer(torch.randn(128, 16)).square().sum().backward()  # no KL in this loss: only the sample
    assert layer.g.weight.grad is not None and layer.g.weight.grad.abs().sum() > 0


def test_log_uniform_kl_is_nonnegative_per_example():
    layer = InformationDropout.linear(20, 30).train()
    layer(torch.randn(50, 20))
    assert layer.kl.shape == (50,)
    assert (layer.kl >= 0).all()


def test_log_uniform_kl_equals_sum_of_prop2_terms():
    layer = InformationDropout.linear(5, 7, max_alpha=0.5).train()
    x = torch.randn(4, 5)
    layer(x)
    alpha = layer.alpha(x)
    assert torch.allclose(layer.kl, -torch.log(alpha / 0.501).sum(1))


def test_log_normal_prior_kl_uses_log_activation_and_learned_prior():
    layer = InformationDropout.linear(5, 7, activation="softplus").train()
    with torch.no_grad():
        layer.prior_mu.fill_(-0.5)
        layer.prior_log_sigma.fill_(math.log(2.0))
    x = torch.randn(9, 5)
    clean = layer(x, noisy=False)
    alpha = layer.alpha(x)
    mu = torch.log(clean.clamp_min(1e-4))
    expected = ((alpha**2 + (mu + 0.5) ** 2) / 8 - torch.log(alpha / 2) - 0.5).sum(1)
    assert torch.allclose(layer.kl, expected, atol=1e-5)
    assert layer.prior == "log-normal"


def test_eval_mode_is_deterministic_and_equals_the_noiseless_path():
    layer = InformationDropout.conv(2, 4)
    layer.train()
    layer(torch.randn(32, 2, 8, 8))  # give BatchNorm some running statistics
    layer.eval()
    x = torch.randn(6, 2, 8, 8)
    out1, out2 = layer(x), layer(x)
    assert torch.equal(out1, out2)
    assert torch.equal(out1, layer.act(layer.norm(layer.f(x))))
    assert not torch.allclose(layer(x, noisy=True), out1)


def test_lognormal_dropout_fixed_alpha():
    layer = LogNormalDropout(0.7).train()
    x = torch.ones(1, 200_000)
    log_eps = torch.log(layer(x)).flatten()
    assert log_eps.std().item() == pytest.approx(0.7, rel=0.01)
    assert layer(x).mean().item() == pytest.approx(math.exp(0.7**2 / 2), rel=0.02)
    assert torch.equal(layer.eval()(x), x)
    assert torch.equal(layer.kl, torch.zeros(1))


def test_gaussian_dropout_matches_seed_001():
    assert dropout_sigma(0.5) == pytest.approx(1.0)
    assert dropout_sigma(0.2) == pytest.approx(0.5)
    layer = GaussianDropout(0.2).train()
    eps = layer(torch.ones(1, 400_000))
    assert eps.mean().item() == pytest.approx(1.0, abs=0.005)
    assert eps.std().item() == pytest.approx(0.5, rel=0.01)
    assert torch.equal(layer.eval()(torch.ones(3, 2)), torch.ones(3, 2))
    assert torch.equal(layer.kl, torch.zeros(3))


def test_variational_bottleneck():
    layer = VariationalBottleneck(6, 4).train()
    x = torch.randn(10, 6)
    z = layer(x)
    mu = layer.mu(x)
    sigma = nn.functional.softplus(layer.sigma_pre(x)) + 1e-6
    assert z.shape == (10, 4) and not torch.allclose(z, mu)
    assert torch.allclose(layer.kl, (0.5 * (sigma**2 + mu**2 - 1) - torch.log(sigma)).sum(1))
    layer.eval()
    assert torch.equal(layer(x), mu)


def test_kl_loss_sums_layers_and_divides_by_n_train():
    model = nn.Sequential(InformationDropout.linear(4, 5), InformationDropout.linear(5, 3), LogNormalDropout())
    model.train()
    model(torch.randn(8, 4))
    layers = bottlenecks(model)
    assert len(layers) == 3
    expected = (layers[0].kl.mean() + layers[1].kl.mean()) / 1000
    assert kl_loss(model, 1000).item() == pytest.approx(expected.item())


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_alpha=0.0), "max_alpha must be > 0"),
    (dict(max_alpha=-1.0), "max_alpha must be > 0"),
    (dict(prior="gamma"), "unknown prior 'gamma'; allowed: log-uniform, log-normal"),
    (dict(activation="tanh"), "unknown activation 'tanh'; allowed: relu, softplus"),
])
def test_bad_layer_options_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InformationDropout.linear(3, 3, **kwargs)


def test_wrong_input_rank_raises_value_error():
    with pytest.raises(ValueError, match=r"expects a 2-D input \[batch, features\]"):
        InformationDropout.linear(3, 3)(torch.randn(2, 3, 1))
    with pytest.raises(ValueError, match="expects a 4-D input"):
        InformationDropout.conv(3, 3)(torch.randn(2, 3, 8))
    with pytest.raises(ValueError, match="expects a 2-D input"):
        VariationalBottleneck(3, 2)(torch.randn(3))


@pytest.mark.parametrize("bad", [1.0, -0.1])
def test_bad_dropout_rate(bad):
    with pytest.raises(ValueError, match=r"dropout rate p must be in \[0, 1\)"):
        GaussianDropout(bad)
