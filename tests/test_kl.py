"""The closed-form KL terms against Monte Carlo estimates (≥ 10⁶ samples, within 1 %)."""
import math

import pytest
import torch

from ibcore import kl

N = 2_000_000


def normal_logpdf(s, mu, sigma):
    return -0.5 * ((s - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)


@pytest.mark.parametrize("mu, alpha, prior_mu, prior_sigma", [
    (0.3, 0.5, -0.2, 1.3), (-1.0, 0.05, 0.5, 0.8), (2.0, 0.9, 0.0, 1.0)])
def test_log_normal_matches_monte_carlo(mu, alpha, prior_mu, prior_sigma):
    g = torch.Generator().manual_seed(1)
    # Sample z = f(x)·ε in the activation space and use the log-normal densities (Prop. 3):
    # the Jacobians 1/z cancel in the ratio, which is why the KL equals that of the normals.
    log_z = mu + alpha * torch.randn(N, generator=g, dtype=torch.float64)
    log_ratio = normal_logpdf(log_z, mu, alpha) - normal_logpdf(log_z, prior_mu, prior_sigma)
    closed = kl.log_normal(torch.tensor(mu), torch.tensor(alpha), prior_mu, prior_sigma).item()
    assert log_ratio.mean().item() == pytest.approx(closed, rel=0.01)


@pytest.mark.parametrize("mu, sigma", [(0.5, 0.3), (-2.0, 1.5), (0.0, 0.1)])
def test_gaussian_matches_monte_carlo(mu, sigma):
    g = torch.Generator().manual_seed(2)
    s = mu + sigma * torch.randn(N, generator=g, dtype=torch.float64)
    log_ratio = normal_logpdf(s, mu, sigma) - normal_logpdf(s, 0.0, 1.0)
    closed = kl.gaussian(torch.tensor(mu), torch.tensor(sigma)).item()
    assert log_ratio.mean().item() == pytest.approx(closed, rel=0.01)


def test_log_uniform_is_minus_entropy_of_log_noise_plus_constant():
    """Prop. 2: KL = -H(log ε) + const, with H estimated by Monte Carlo for several α."""
    max_alpha = 0.7
    g = torch.Generator().manual_seed(3)
    n = torch.randn(N, generator=g, dtype=torch.float64)
    offsets = []
    for alpha in (0.01, 0.1, 0.3, 0.7):
        log_eps = alpha * n
        entropy_mc = -normal_logpdf(log_eps, 0.0, alpha).mean().item()
        offsets.append(-entropy_mc - kl.log_uniform(torch.tensor(alpha), max_alpha).item())
    # The constant is the same for every α, and equals -½log(2πe) - log(max_alpha + 0.001).
    expected = -0.5 * math.log(2 * math.pi * math.e) - math.log(max_alpha + kl.ALPHA_FLOOR)
    assert offsets == pytest.approx([expected] * len(offsets), abs=2e-3)


def test_log_uniform_zero_at_the_cap_and_positive_below():
    alpha = torch.tensor([0.701, 0.3, 0.001])
    values = kl.log_uniform(alpha, 0.7)
    assert values[0].item() == pytest.approx(0.0, abs=1e-6)
    assert (values[1:] > 0).all()
    assert values[2].item() == pytest.approx(math.log(701), rel=1e-6)


def test_gaussian_entropy():
    assert kl.gaussian_entropy(2.0).item() == pytest.approx(math.log(2) + 0.5 * math.log(2 * math.pi * math.e))


@pytest.mark.parametrize("bad", [0.0, -0.5])
def test_log_uniform_rejects_nonpositive_max_alpha(bad):
    with pytest.raises(ValueError, match="max_alpha must be > 0"):
        kl.log_uniform(torch.tensor(0.5), bad)
