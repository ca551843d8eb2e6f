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


def _fused_and_unfused(build, x_shape, channels_last=False):
    """Two copies of one layer (same weights): f and g by one stacked conv/matmul, and by two."""
    torch.manual_seed(0)
    fused = build().train()
    unfused = build().train()
    unfused.load_state_dict(fused.state_dict())
    unfused.fused = False
    x = torch.randn(*x_shape)
    if channels_last:
        fused, unfused = (m.to(memory_format=torch.channels_last) for m in (fused, unfused))
        x = x.contiguous(memory_format=torch.channels_last)
    return fused, unfused, x


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("build, x_shape", [
    (lambda: InformationDropout.conv(5, 8, activation="softplus"), (16, 5, 9, 9)),
    (lambda: InformationDropout.conv(4, 6, kernel_size=1, stride=1, activation="relu"), (8, 4, 5, 5)),
    (lambda: InformationDropout.linear(7, 9, activation="softplus"), (32, 7)),
    (lambda: InformationDropout.linear(7, 9, activation="relu"), (32, 7)),
])
def test_fused_branches_equal_the_two_separate_layers(build, x_shape, channels_last):
    """One conv (matmul) of stacked f and g weights computes what f and g computed apart (issue 26
    item 4): outputs, α, KL, KL map and every gradient, to float tolerance, at the same noise."""
    if channels_last and len(x_shape) == 2:
        pytest.skip("channels_last is a layout of images")
    fused, unfused, x = _fused_and_unfused(build, x_shape, channels_last)
    assert fused.fused and not unfused.fused
    f1, g1 = fused.branches(x)
    assert torch.allclose(f1, unfused.f(x), atol=1e-5) and torch.allclose(g1, unfused.g(x), atol=1e-5)
    assert torch.allclose(fused.alpha(x), unfused.alpha(x), atol=1e-6)
    outs = []
    for layer in (fused, unfused):
        torch.manual_seed(1)
        z = layer(x)
        (z.square().sum() + layer.kl.sum()).backward()
        outs.append((z, layer.kl, layer.kl_map))
    for a, b in zip(*outs):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    grads = [dict((n, p.grad) for n, p in layer.named_parameters()) for layer in (fused, unfused)]
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], rtol=1e-3, atol=1e-4), name
    if channels_last:
        assert outs[0][0].is_contiguous(memory_format=torch.channels_last)


def test_fusing_keeps_parameters_state_dict_and_initialisation():
    """The fused layer keeps f's and g's parameters (so old checkpoints load as they are) and draws
    them in the same order from the same seed; it falls back to two calls where f and g differ."""
    torch.manual_seed(3)
    layer = InformationDropout.conv(3, 4)
    torch.manual_seed(3)
    f = nn.Conv2d(3, 4, 3, 2, 1, bias=False)
    g = nn.Conv2d(3, 4, 3, 2, 1)
    assert torch.equal(layer.f.weight, f.weight) and torch.equal(layer.g.weight, g.weight)
    assert torch.equal(layer.g.bias, g.bias)
    assert {"f.weight", "g.weight", "g.bias"} <= set(layer.state_dict())
    assert sum(p.numel() for p in layer.parameters()) == 2 * 4 * 3 * 9 + 4 + 2 * 4  # f, g, g's bias, BN
    assert layer.fused and InformationDropout.linear(3, 4).fused
    odd = InformationDropout(nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(3, 4, 3, 1, 1), nn.BatchNorm2d(4),
                             out_channels=4, input_rank=4)
    assert not odd.fused  # different strides: f and g are computed apart
