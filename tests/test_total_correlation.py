"""The Gaussian TC estimator of Fig. 5 on data whose answer is known (issue 27, item 2).

The plug-in estimate ½(Σ log Σ̂_jj − log|Σ̂|) is biased upwards by gaussian_tc_bias(N, D); the
debiased estimate subtracts it. Each test knows the true TC: 0 for independent dimensions, the
closed form ½(Σ log Σ_jj − log|Σ|) for a known covariance.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from ibcore import metrics


def test_3072_independent_dimensions_from_10000_samples():
    """Fig. 5's size: the plug-in reads ≈ 265 nats where the TC is 0; the debiased estimate reads 0
    within 5 sd of the estimator (the sd on independent dimensions is exact, 0.17 nats)."""
    n, d = 10_000, 3072
    samples = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
    tc = metrics.gaussian_total_correlation_of_samples(samples)
    assert metrics.gaussian_tc_bias(n, d) == pytest.approx(264.63, abs=0.01)
    assert tc.sd_independent == pytest.approx(0.173, abs=0.001)
    assert tc.total == pytest.approx(265, abs=1)
    assert abs(tc.total_debiased) < 5 * tc.sd_independent
    assert tc["total"] == tc.total and tc.bias == metrics.gaussian_tc_bias(n, d)


def _equicorrelated(d: int, rho: float, scales: np.ndarray) -> tuple[np.ndarray, float]:
    """Σ = diag(s) R diag(s), R = (1 − ρ) I + ρ 11ᵀ, and its TC −½ log|R| in closed form:
    |R| = (1 − ρ)^(d−1) (1 + (d − 1) ρ)."""
    corr = (1 - rho) * np.eye(d) + rho
    tc = -0.5 * ((d - 1) * math.log(1 - rho) + math.log(1 + (d - 1) * rho))
    return corr * scales[:, None] * scales[None, :], tc


def test_a_known_covariance_debiased_is_unbiased_and_plugin_is_biased_upward():
    """Equicorrelated ρ = 0.3, 40 dimensions of unequal variances, 200 samples, 50 repeats: the mean
    debiased estimate is within 4 standard errors of the closed form; the plug-in is above it."""
    n, d, rho, repeats = 200, 40, 0.3, 50
    rng = np.random.default_rng(1)
    cov, known = _equicorrelated(d, rho, np.exp(rng.normal(size=d)))
    chol = np.linalg.cholesky(cov)
    assert metrics.gaussian_total_correlation(cov) == pytest.approx(known, rel=1e-12)
    results = [metrics.gaussian_total_correlation_of_samples(rng.standard_normal((n, d)) @ chol.T)
               for _ in range(repeats)]
    debiased = np.array([r.total_debiased for r in results])
    plugin = np.array([r.total for r in results])
    se = debiased.std(ddof=1) / math.sqrt(repeats)
    assert abs(debiased.mean() - known) < 4 * se
    bias = metrics.gaussian_tc_bias(n, d)
    assert plugin.mean() - known > bias - 4 * se > 0  # biased upward, by about the bias


def _plugin_tcs(samples: np.ndarray) -> np.ndarray:
    """The plug-in TC of each sample of a stack [R, n, d] at once (the estimator, batched)."""
    centred = samples - samples.mean(axis=1, keepdims=True)
    scatter = centred.transpose(0, 2, 1) @ centred
    return 0.5 * (np.log(np.diagonal(scatter, axis1=1, axis2=2)).sum(1) - np.linalg.slogdet(scatter)[1])


@pytest.mark.parametrize("n, d", [(8, 3), (30, 10), (60, 50)])
def test_bias_and_sd_formulas_against_monte_carlo(n: int, d: int):
    """The closed-form mean and sd of the plug-in on independent dimensions against 4,000 draws."""
    samples = np.random.default_rng(n * 1000 + d).standard_normal((4000, n, d))
    draws = _plugin_tcs(samples)
    for k in range(3):  # the batched estimator is the estimator
        assert draws[k] == pytest.approx(metrics.gaussian_total_correlation_of_samples(samples[k]).total, rel=1e-9)
    bias, sd = metrics.gaussian_tc_bias(n, d), metrics.gaussian_tc_sd(n, d)
    assert draws.mean() == pytest.approx(bias, abs=4 * sd / math.sqrt(len(draws)))
    assert draws.std(ddof=1) == pytest.approx(sd, rel=0.06)


def test_bias_is_invariant_to_the_covariance_normalisation_and_checks_sizes():
    """The plug-in TC is unchanged when Σ̂ is scaled (ddof 0 vs 1), so the bias needs N and D only."""
    x = np.random.default_rng(2).standard_normal((12, 4))
    ddof0 = np.cov(x, rowvar=False, ddof=0)
    assert metrics.gaussian_total_correlation(ddof0) == pytest.approx(
        metrics.gaussian_total_correlation_of_samples(x).total, rel=1e-12)
    assert metrics.gaussian_tc_bias(2, 1) == 0.0  # one dimension: no correlation to find
    for n, d in [(4, 4), (3, 5), (5, 0)]:
        with pytest.raises(ValueError, match="more samples than dimensions"):
            metrics.gaussian_tc_bias(n, d)
