"""Gaussian dropout as an information bottleneck (Rey & Mnih, Thm. 1, eq. 1-5): I(X; Y) and its bounds."""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ibcore.layers import dropout_sigma  # noqa: F401  σ(p) lives with GaussianDropout; re-exported
from ibcore.metrics.information import as_distribution


def _atoms(values: ArrayLike, probs: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    """Atoms and probabilities of a discrete X; ``probs=None`` means equally weighted samples."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("values must be a non-empty array of finite numbers")
    w = np.full(x.size, 1.0 / x.size) if probs is None else as_distribution(probs, "probs", ndim=1)
    if w.shape != x.shape:
        raise ValueError(f"probs has {w.size} entries, values has {x.size}")
    if np.any((x == 0) & (w > 0)):
        raise ValueError("X must be non-zero almost surely: Y | X=0 is a point mass and h(Y|X) = −∞")
    keep = w > 0                                  # atoms of probability 0 play no role
    return x[keep], w[keep]


def _check_sigma(sigma: float) -> None:
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")


def gaussian_dropout_mi_bound(values: ArrayLike, sigma: float, probs: ArrayLike | None = None) -> float:
    """Upper bound on I(X; Y) for Y = X·ε, ε ~ N(1, σ²): Rey & Mnih, Thm. 1, eq. (5).

        I(X; Y) ≤ ½ E_X[ log((V_X + X̄² + V_X/σ²) / X²) ]

    X is discrete with atoms ``values`` and probabilities ``probs`` (or, with
    ``probs=None``, ``values`` are samples and the expectations are sample means).
    Invariant to rescaling X → aX. In nats.
    """
    _check_sigma(sigma)
    x, w = _atoms(values, probs)
    mean = float(w @ x)
    var = float(w @ (x - mean) ** 2)
    num = var + mean**2 + var / sigma**2
    return float(0.5 * (w @ np.log(num / x**2)))


def _mixture_mi(x: np.ndarray, w: np.ndarray, scales: np.ndarray, *, n_grid: int, width: float) -> float:
    """I(X;Y) for Y | X=x_k ~ N(x_k, s_k²): Σ_k w_k ∫ N_k(y) log(N_k(y) / p(y)) dy.

    Each component's integral is taken on its own standardised grid
    u ∈ [−width, width] (y = x_k + s_k u, trapezoid rule), so narrow and wide
    components are resolved alike; log p(y) uses log-sum-exp.
    """
    keep = w > 0
    x, w, scales = x[keep], w[keep], scales[keep]
    u = np.linspace(-width, width, n_grid)
    phi = np.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)
    total = 0.0
    for xk, wk, sk in zip(x, w, scales):
        y = xk + sk * u                                                         # [n_grid]
        log_comp = (-0.5 * ((y[:, None] - x) / scales) ** 2 - np.log(scales)
                    - 0.5 * math.log(2 * math.pi) + np.log(w))                  # [n_grid, K]
        top = log_comp.max(1, keepdims=True)
        log_p = (top + np.log(np.exp(log_comp - top).sum(1, keepdims=True)))[:, 0]
        log_nk = -0.5 * u**2 - math.log(sk) - 0.5 * math.log(2 * math.pi)
        integrand = phi * (log_nk - log_p)
        total += wk * float(((integrand[1:] + integrand[:-1]) * np.diff(u)).sum() / 2)  # trapezoid
    return float(total)


def _grid_size(scales: np.ndarray, width: float, n_grid: int | None) -> int:
    """Enough points that every component's grid step is ≤ 1/8 of the narrowest component."""
    if n_grid is not None:
        return n_grid
    ratio = float(scales.max() / scales.min())
    return int(min(200_001, max(4_001, 2 * width * 8 * ratio)))


def gaussian_dropout_mi(values: ArrayLike, sigma: float, probs: ArrayLike | None = None, *,
                        n_grid: int | None = None, width: float = 12.0) -> float:
    """I(X; Y) for Gaussian dropout Y = X·ε, ε ~ N(1, σ²), X discrete, by 1-D numerical integration.

    Y | X=x ~ N(x, x²σ²) (Rey & Mnih, proof of Thm. 1), so Y is a Gaussian mixture
    and I(X;Y) = E_X KL(p(y|x) ‖ p(y)) is a sum of 1-D integrals (see
    :func:`_mixture_mi`); accurate to well below 1e-3 nats. Exactly invariant to
    X → aX (Y/a = X·ε), a stronger statement than the invariance of the bound.
    """
    _check_sigma(sigma)
    x, w = _atoms(values, probs)
    scales = np.abs(x) * sigma
    return _mixture_mi(x, w, scales, n_grid=_grid_size(scales, width, n_grid), width=width)


def additive_gaussian_mi(values: ArrayLike, sigma: float, probs: ArrayLike | None = None, *,
                         n_grid: int = 4_001, width: float = 12.0) -> float:
    """I(X; Y) for the additive Gaussian channel Y = X + N(0, σ²), X discrete (numerical integration).

    Grows with the scale of X (towards H(X) for a discrete X), unlike Gaussian dropout.
    """
    _check_sigma(sigma)
    x = np.asarray(values, dtype=np.float64).ravel()
    w = np.full(x.size, 1.0 / x.size) if probs is None else as_distribution(probs, "probs", ndim=1)
    if w.shape != x.shape:
        raise ValueError(f"probs has {w.size} entries, values has {x.size}")
    return _mixture_mi(x, w, np.full(x.size, float(sigma)), n_grid=n_grid, width=width)


def additive_gaussian_mi_bound(values: ArrayLike, sigma: float, probs: ArrayLike | None = None) -> float:
    """The same max-entropy bound for the additive channel: I(X; X + N(0, σ²)) ≤ ½ log(1 + V_X/σ²).

    (Cover & Thomas, Ch. 9/10.) Grows without limit as X is rescaled: V_{aX} = a² V_X.
    """
    _check_sigma(sigma)
    x = np.asarray(values, dtype=np.float64).ravel()
    w = np.full(x.size, 1.0 / x.size) if probs is None else as_distribution(probs, "probs", ndim=1)
    mean = float(w @ x)
    return 0.5 * math.log1p(float(w @ (x - mean) ** 2) / sigma**2)


def gaussian_dropout_density(y: ArrayLike, values: ArrayLike, sigma: float,
                             probs: ArrayLike | None = None) -> np.ndarray:
    """Density of Y = X·ε, ε ~ N(1, σ²), at the points ``y``: Σ_k p_k N(y; x_k, x_k²σ²)."""
    _check_sigma(sigma)
    x, w = _atoms(values, probs)
    yy = np.asarray(y, dtype=np.float64)[..., None]
    s = np.abs(x) * sigma
    return (w * np.exp(-0.5 * ((yy - x) / s) ** 2) / (s * math.sqrt(2 * math.pi))).sum(-1)
