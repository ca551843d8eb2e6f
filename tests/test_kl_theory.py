"""Chapter 02's Monte Carlo checks of Prop. 2 and Prop. 3 (App. A), with tighter tolerances.

The chapter asserts errors below 1e-2 nats (or 1 %); here the same functions, sample sizes
(10⁶) and seeds must agree within 4 standard errors, and wrong formulas must be rejected.
"""
import math

import pytest
import torch

from ibcore import kl, metrics as m

N = 1_000_000
ALPHAS = [0.05, 0.1, 0.3, 0.7, 1.0]
Z = 4.0  # standard errors


def test_prop2_alpha_dependence_is_minus_log_alpha():
    est = [m.mc_log_noise_entropy(a, n_samples=N, seed=k) for k, a in enumerate(ALPHAS)]
    offsets = [-h + math.log(a) for (h, _), a in zip(est, ALPHAS)]
    se = est[0][1]
    for off in offsets:                       # −H + log α = −½ log(2πe) for every α
        assert abs(off + m.HALF_LOG_2PI_E) < Z * se
    assert max(offsets) - min(offsets) < Z * math.sqrt(2) * se
    via_layer = [-h - kl.log_uniform(torch.tensor(a), 1.0).item() for (h, _), a in zip(est, ALPHAS)]
    assert max(via_layer) - min(via_layer) < Z * math.sqrt(2) * se
    wrong = [-h + 2 * math.log(a) for (h, _), a in zip(est, ALPHAS)]   # "KL = −2 log α + const"
    assert max(wrong) - min(wrong) > 1.0


@pytest.mark.parametrize("k, f, alpha", [(0, 0.01, 0.1), (1, 1.0, 0.1), (2, 100.0, 0.1),
                                         (3, 0.01, 0.7), (4, 1.0, 0.7), (5, 100.0, 0.7)])
def test_prop2_with_a_proper_log_uniform_prior(k, f, alpha):
    low, high = 1e-6, 1e6
    est, se = m.mc_kl_truncated_log_uniform(f, alpha, low=low, high=high, n_samples=N, seed=10 + k)
    log_c = -math.log(math.log(high / low))
    exact = -(math.log(alpha) + m.HALF_LOG_2PI_E) - log_c       # −H(log ε) − log c (App. A proof)
    assert abs(est - exact) < Z * se
    assert abs(est - (exact + 2 * log_c)) > 100 * se             # "+ log c" (statement's sign) rejected


@pytest.mark.parametrize("k, f, alpha, mu, sigma", [(0, 0.5, 0.3, 0.0, 1.0), (1, 2.0, 0.7, -0.5, 0.8),
                                                    (2, 0.05, 0.1, 0.2, 1.5), (3, 1.0, 1.0, 0.0, 0.5)])
def test_prop3_log_normal_matches_monte_carlo(k, f, alpha, mu, sigma):
    est, se = m.mc_kl_log_normal(math.log(f), alpha, mu, sigma, n_samples=N, seed=20 + k)
    closed = kl.log_normal(torch.tensor(math.log(f)), torch.tensor(alpha), mu, sigma).item()
    assert abs(est - closed) < Z * se
    if abs(math.log(f)) > 0.1:   # eq. 5 read literally (μ² with the prior mean only) is rejected
        literal = (alpha**2 + mu**2) / (2 * sigma**2) - math.log(alpha / sigma) - 0.5
        assert abs(est - literal) > 100 * se


def test_noise_has_median_one_and_mean_exp_half_alpha_squared():
    mom = m.noise_moments(0.7, n_samples=N, seed=30)
    se_mean = math.sqrt(mom["var"] / N)
    assert mom["mean"] == pytest.approx(1.2776, abs=1e-4)
    assert abs(mom["mean_mc"] - mom["mean"]) < Z * se_mean
    assert abs(mom["mean_mc"] - 1.0) > 100 * se_mean              # "unit mean" is rejected
    assert abs(mom["median_mc"] - 1.0) < 3e-3
    assert mom["var_mc"] == pytest.approx(mom["var"], rel=2e-2)


def test_activation_samples():
    z = m.noisy_activations("relu", 0.5, n_samples=100_000, seed=0)
    assert 0.48 < (z == 0).mean() < 0.52 and (z >= 0).all()
    f = m.noisy_activations("softplus", 0.0, n_samples=100_000, seed=0)
    z = m.noisy_activations("softplus", 0.7, n_samples=100_000, seed=0)
    assert (f > 0).all() and z.mean() / f.mean() == pytest.approx(math.exp(0.49 / 2), rel=1e-2)


def test_monte_carlo_input_checks():
    with pytest.raises(ValueError, match="alpha"):
        m.mc_log_noise_entropy(0.0)
    with pytest.raises(ValueError, match="outside"):
        m.mc_kl_truncated_log_uniform(1.0, 3.0, low=0.1, high=10.0, n_samples=10_000)
    with pytest.raises(ValueError, match="low < f < high"):
        m.mc_kl_truncated_log_uniform(100.0, 0.1, low=0.1, high=10.0)
    with pytest.raises(ValueError, match="prior_sigma"):
        m.mc_kl_log_normal(0.0, 0.5, 0.0, -1.0)
    with pytest.raises(ValueError, match="activation"):
        m.noisy_activations("tanh", 0.5)
