"""The KL terms of Information Dropout (§6, App. A) checked by Monte Carlo, and the noise's moments."""
from __future__ import annotations

import math

import numpy as np
import torch

def _normal_logpdf(s: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    return -0.5 * ((s - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)


def _standard_normal(n_samples: int, seed: int) -> torch.Tensor:
    if n_samples < 2:
        raise ValueError(f"n_samples must be ≥ 2, got {n_samples}")
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n_samples, generator=g, dtype=torch.float64)


def _check_alpha(alpha: float) -> None:
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")


def mc_log_noise_entropy(alpha: float, *, n_samples: int = 1_000_000, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo estimate of H(p_α(log ε)) for ε = exp(α·n), n ~ N(0, 1) (Prop. 2).

    H = E[−log p_α(log ε)], averaged over ``n_samples`` draws. Returns the
    estimate and its standard error (nats). Exact value: log α + ½ log(2πe).
    """
    _check_alpha(alpha)
    log_eps = alpha * _standard_normal(n_samples, seed)
    vals = -_normal_logpdf(log_eps, 0.0, alpha)
    return vals.mean().item(), (vals.std() / math.sqrt(n_samples)).item()


def mc_kl_truncated_log_uniform(f: float, alpha: float, *, low: float = 1e-6, high: float = 1e6,
                                n_samples: int = 1_000_000, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo KL(p(z|x) ‖ q) for z = ε·f, ε = exp(α·n), q(z) = c/z on [low, high] (Prop. 2).

    The proper (truncated) log-uniform prior has c = 1/log(high/low). The
    estimate averages log p(z|x) − log q(z) over samples of z in the activation
    space (the log-normal density, Jacobian 1/z included). App. A gives
    KL = −H(p_α(log ε)) − log c = −log α − ½ log(2πe) + log log(high/low),
    independent of f (scale invariance). Samples outside [low, high] give KL = ∞;
    raise if any occur. Returns (estimate, standard error).
    """
    _check_alpha(alpha)
    if not 0 < low < f < high:
        raise ValueError(f"need 0 < low < f < high, got low={low}, f={f}, high={high}")
    log_z = math.log(f) + alpha * _standard_normal(n_samples, seed)
    if log_z.min().item() < math.log(low) or log_z.max().item() > math.log(high):
        raise ValueError("samples fall outside [low, high]: widen the prior's support")
    log_p = _normal_logpdf(log_z, math.log(f), alpha) - log_z          # log-normal density of z
    log_q = -math.log(math.log(high / low)) - log_z                     # c / z
    vals = log_p - log_q
    return vals.mean().item(), (vals.std() / math.sqrt(n_samples)).item()


def mc_kl_log_normal(mu: float, alpha: float, prior_mu: float, prior_sigma: float, *,
                     n_samples: int = 1_000_000, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo KL(log𝒩(mu, α²) ‖ log𝒩(prior_mu, prior_sigma²)) in activation space (Prop. 3).

    Samples z = exp(mu + α·n) (i.e. z = ε·f(x) with mu = log f(x)) and averages
    log p(z|x) − log q(z) with both log-normal densities, Jacobians 1/z included
    (they cancel, which is the reparametrisation-invariance step of the proof).
    Returns (estimate, standard error) in nats; compare with ``ibcore.kl.log_normal``.
    """
    _check_alpha(alpha)
    if not prior_sigma > 0:
        raise ValueError(f"prior_sigma must be > 0, got {prior_sigma!r}")
    log_z = mu + alpha * _standard_normal(n_samples, seed)
    vals = (_normal_logpdf(log_z, mu, alpha) - log_z) - (_normal_logpdf(log_z, prior_mu, prior_sigma) - log_z)
    return vals.mean().item(), (vals.std() / math.sqrt(n_samples)).item()


def noise_moments(alpha: float, *, n_samples: int = 1_000_000, seed: int = 0) -> dict[str, float]:
    """Mean, median and variance of ε = exp(α·n): closed form and Monte Carlo (§6).

    Closed form: median 1, mean exp(α²/2), variance (exp(α²) − 1)·exp(α²).
    """
    _check_alpha(alpha)
    eps = torch.exp(alpha * _standard_normal(n_samples, seed))
    return {"mean": math.exp(alpha**2 / 2), "mean_mc": eps.mean().item(),
            "median": 1.0, "median_mc": eps.median().item(),
            "var": math.expm1(alpha**2) * math.exp(alpha**2), "var_mc": eps.var().item()}


def noisy_activations(activation: str, alpha: float, *, n_samples: int = 200_000,
                      seed: int = 0) -> np.ndarray:
    """Samples of z = ε·f(x) for a synthetic layer: f = ReLU or Softplus of N(0, 1) pre-activations.

    ε = exp(α·n) as in §6. Used to compare p(z) with the log-uniform (ReLU) and
    log-normal (Softplus) priors (Fig. 1 of the paper, here on synthetic data).
    """
    if activation not in ("relu", "softplus"):
        raise ValueError(f"activation must be 'relu' or 'softplus', got {activation!r}")
    if alpha < 0:
        raise ValueError(f"alpha must be ≥ 0, got {alpha!r}")
    g = torch.Generator().manual_seed(seed)
    pre = torch.randn(n_samples, generator=g, dtype=torch.float64)
    f = torch.relu(pre) if activation == "relu" else torch.nn.functional.softplus(pre)
    eps = torch.exp(alpha * torch.randn(n_samples, generator=g, dtype=torch.float64))
    return (eps * f).numpy()
