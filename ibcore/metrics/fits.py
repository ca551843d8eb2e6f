"""§6, Fig. 1: which prior fits the post-noise activations (zero share, log-normal fit, histograms)."""
from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike


def zero_fraction(z: ArrayLike) -> float:
    """Fraction of exact zeros: the empirical q₀ of the ReLU prior q(z) = q₀δ₀(z) + c/z (§6)."""
    arr = np.asarray(z, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("z is empty")
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise ValueError("activations z must be finite and >= 0 (ReLU/Softplus outputs)")
    return float(np.mean(arr == 0))


def _positive_logs(z: ArrayLike) -> np.ndarray:
    arr = np.asarray(z, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("activations z must be finite and >= 0")
    logs = np.log(arr[arr > 0])
    if logs.size < 2:
        raise ValueError(f"need at least 2 positive activations, got {logs.size}")
    return logs


def lognormal_fit(z: ArrayLike, *, max_points: int = 200_000, seed: int = 0) -> dict[str, float]:
    """Fit N(μ, σ²) to log z over the positive z and measure the fit (the Softplus prior, §6, Fig. 1b).

    Returns ``mu``, ``sigma`` (maximum likelihood), ``ks`` (Kolmogorov–Smirnov
    statistic sup |F̂ − Φ| of the standardised log z: 0 = a perfect fit, ≈ 1.36/√n
    is the 5 % level for a known distribution), ``qq_r2`` (R² of the normal
    Q-Q plot of log z: 1 = a perfect line) and ``n`` (positive values used).
    Above ``max_points`` values a fixed-seed random subset is used.
    """
    logs = _positive_logs(z)
    if logs.size > max_points:
        logs = np.random.default_rng(seed).choice(logs, max_points, replace=False)
    mu, sigma = float(logs.mean()), float(logs.std())
    if not sigma > 0:
        raise ValueError("log z is constant: no normal fits it")
    s = np.sort((logs - mu) / sigma)
    n = s.size
    cdf = torch.special.ndtr(torch.from_numpy(s)).numpy()
    ks = float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))
    quantiles = torch.special.ndtri(torch.from_numpy((np.arange(1, n + 1) - 0.5) / n)).numpy()
    r2 = float(np.corrcoef(quantiles, s)[0, 1] ** 2)
    return {"mu": mu, "sigma": sigma, "ks": ks, "qq_r2": r2, "n": int(n)}


#: The share of the positive values a log-histogram's default range holds (the central ones).
HISTOGRAM_CENTRAL = 0.999


def log_histogram(z: ArrayLike, *, bins: int = 60, log_range: tuple[float, float] | None = None) -> dict:
    """Histogram of log z over the positive z, plus the zero count (Fig. 1 as small arrays).

    Returns ``edges`` (bins + 1 values of log z, natural log), ``counts``,
    ``zeros`` (exact zeros) and ``total`` (all values). A log-uniform prior
    c/z is flat in log z; a log-normal one is a normal curve.
    """
    arr = np.asarray(z, dtype=np.float64).ravel()
    logs = _positive_logs(arr)
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    tail = (1 - HISTOGRAM_CENTRAL) / 2
    lo, hi = log_range if log_range is not None else np.quantile(logs, [tail, 1 - tail])
    counts, edges = np.histogram(logs, bins=bins, range=(float(lo), float(hi)))
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts],
            "zeros": int(np.sum(arr == 0)), "total": int(arr.size)}
