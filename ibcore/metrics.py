"""Information measures: entropies, mutual information, total correlation, MI bounds.

Every function here is a pure function of numpy arrays (or of a few floats) and
returns nats. Discrete distributions are arrays of probabilities that sum to 1;
``0 log 0 = 0`` throughout. Each function checks its input and raises a
``ValueError`` that says what is wrong.

Sections (each function is self-contained; other chapters add their own below):

* discrete information measures: :func:`entropy`, :func:`mutual_information`,
  :func:`total_correlation`, :func:`gaussian_total_correlation` (§8 "Disentangling");
* Prop. 1 / Prop. 4 (App. B) numerically: :func:`factorised_prior_kl`,
  :func:`fit_factorised_prior`, :func:`disentanglement_check`;
* the KL terms of §6 / App. A by Monte Carlo: :func:`mc_log_noise_entropy`,
  :func:`mc_kl_truncated_log_uniform`, :func:`mc_kl_log_normal`, :func:`noise_moments`,
  :func:`noisy_activations`;
* Gaussian dropout as a bottleneck (Rey & Mnih, Thm. 1): :func:`dropout_sigma`,
  :func:`gaussian_dropout_mi_bound`, :func:`gaussian_dropout_mi`,
  :func:`additive_gaussian_mi`, :func:`additive_gaussian_mi_bound`,
  :func:`gaussian_dropout_density`;
* where the information flows (Fig. 2): :func:`kl_maps`, :func:`localisation`.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike

from ibcore.layers import dropout_sigma  # σ(p) lives with GaussianDropout; re-exported for the chapter

#: Absolute tolerance on "sums to one" for probability arrays.
PROB_ATOL = 1e-8
HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


# ---------------------------------------------------------------------------
# Discrete information measures
# ---------------------------------------------------------------------------

def as_distribution(p: ArrayLike, name: str = "p", *, ndim: int | None = None) -> np.ndarray:
    """Return ``p`` as a float64 array after checking it is a probability distribution.

    Raises ``ValueError`` if it has negative or non-finite entries, does not sum
    to 1 (within :data:`PROB_ATOL`), or has the wrong number of dimensions.
    """
    arr = np.asarray(p, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must have finite, non-negative entries")
    total = arr.sum()
    if abs(total - 1.0) > PROB_ATOL * max(1, arr.size):
        raise ValueError(f"{name} must sum to 1, sums to {total!r}")
    return arr


def _plogp(p: np.ndarray) -> np.ndarray:
    """Elementwise p·log p with 0·log 0 = 0."""
    out = np.zeros_like(p)
    mask = p > 0
    out[mask] = p[mask] * np.log(p[mask])
    return out


def entropy(p: ArrayLike) -> float:
    """Shannon entropy H(p) = −Σ p log p in nats of a discrete distribution (any shape)."""
    return float(-_plogp(as_distribution(p)).sum())


def mutual_information(p_xy: ArrayLike) -> float:
    """I(X;Y) = H(X) + H(Y) − H(X,Y) in nats, for a joint table ``p_xy[x, y]``."""
    p = as_distribution(p_xy, "p_xy", ndim=2)
    return entropy(p.sum(1)) + entropy(p.sum(0)) - entropy(p)


def conditional_entropy(p_xy: ArrayLike) -> float:
    """H(Y|X) = H(X,Y) − H(X) in nats, for a joint table ``p_xy[x, y]``."""
    p = as_distribution(p_xy, "p_xy", ndim=2)
    return entropy(p) - entropy(p.sum(1))


def marginals(p_z: np.ndarray) -> list[np.ndarray]:
    """The one-dimensional marginals p(z_j) of a joint table ``p_z[z_1, ..., z_n]``."""
    axes = range(p_z.ndim)
    return [p_z.sum(axis=tuple(a for a in axes if a != j)) for j in axes]


def total_correlation(p_z: ArrayLike) -> float:
    """TC(z) = Σ_j H(z_j) − H(z) = KL(p(z) ‖ Π_j p(z_j)) (§5), in nats.

    ``p_z`` is the joint table of z = (z_1, ..., z_n), one axis per component.
    TC is zero if and only if the components are independent.
    """
    p = as_distribution(p_z, "p_z")
    return float(sum(entropy(m) for m in marginals(p)) - entropy(p))


def gaussian_total_correlation(cov: ArrayLike) -> float:
    """TC in nats of a Gaussian vector z ~ N(μ, Σ): −½ log|Σ₀⁻¹Σ| with Σ₀ = diag Σ (§8, "Disentangling").

    From H(z_j) = ½ log(2πe Σ_jj) and H(z) = ½ log((2πe)ⁿ |Σ|):
    TC = Σ_j H(z_j) − H(z) = ½ (Σ_j log Σ_jj − log|Σ|) = −½ log|Σ₀⁻¹Σ|.
    The paper's §8 writes −log|Σ₀⁻¹Σ|, twice this (the ½ is missing there); the
    factor does not change comparisons across β. Σ must be symmetric positive
    definite (a Cholesky factorisation is used for log|Σ|).
    """
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"cov must be a square matrix, got shape {c.shape}")
    if not np.allclose(c, c.T, rtol=1e-10, atol=1e-12):
        raise ValueError("cov must be symmetric")
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError as err:
        raise ValueError("cov must be positive definite") from err
    logdet = 2.0 * np.log(np.diag(chol)).sum()
    return float(0.5 * (np.log(np.diag(c)).sum() - logdet))


# ---------------------------------------------------------------------------
# Prop. 1 / Prop. 4 (App. B): a factorised prior turns the KL term into I + TC
# ---------------------------------------------------------------------------

def _check_encoder(p_x: ArrayLike, p_z_given_x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    px = as_distribution(p_x, "p_x", ndim=1)
    enc = np.asarray(p_z_given_x, dtype=np.float64)
    if enc.shape[0] != px.shape[0] or enc.ndim < 2:
        raise ValueError(f"p_z_given_x must have shape [|X|, |Z_1|, ...] with |X| = {px.shape[0]}, "
                         f"got {enc.shape}")
    for x in range(enc.shape[0]):
        as_distribution(enc[x], f"p_z_given_x[{x}]")
    return px, enc


def factorised_prior_kl(p_x: ArrayLike, p_z_given_x: ArrayLike, q_factors: Sequence[ArrayLike]) -> float:
    """E_x KL(p(z|x) ‖ Π_i q_i(z_i)) in nats (the KL term of Prop. 1 with a factorised prior).

    ``p_z_given_x[x, z_1, ..., z_n]``; ``q_factors[i]`` is the distribution q_i over z_i.
    """
    px, enc = _check_encoder(p_x, p_z_given_x)
    if len(q_factors) != enc.ndim - 1:
        raise ValueError(f"need {enc.ndim - 1} factors q_i, got {len(q_factors)}")
    log_q = np.zeros(enc.shape[1:])
    for i, q in enumerate(q_factors):
        qi = as_distribution(q, f"q_factors[{i}]", ndim=1)
        if qi.shape[0] != enc.shape[i + 1]:
            raise ValueError(f"q_factors[{i}] has {qi.shape[0]} states, z_{i + 1} has {enc.shape[i + 1]}")
        shape = [1] * (enc.ndim - 1)
        shape[i] = -1
        with np.errstate(divide="ignore"):
            log_q = log_q + np.log(qi).reshape(shape)
    mask = enc > 0
    if np.any(np.isneginf(np.broadcast_to(log_q, enc.shape)[mask])):
        return math.inf
    terms = np.where(mask, enc * (np.log(np.where(mask, enc, 1.0)) - log_q), 0.0)
    return float((px * terms.reshape(enc.shape[0], -1).sum(1)).sum())


def fit_factorised_prior(p_x: ArrayLike, p_z_given_x: ArrayLike, *, max_iter: int = 200,
                         seed: int = 0) -> tuple[list[np.ndarray], float]:
    """Minimise E_x KL(p(z|x) ‖ Π_i q_i) over factorised q by direct optimisation (Prop. 4).

    Each q_i = softmax(θ_i), θ_i initialised at random (``seed``); the objective is
    minimised with L-BFGS in float64. Nothing about the answer is assumed: App. B
    proves the minimiser is q_i = p(z_i) (the marginals of p(z) = Σ_x p(x) p(z|x))
    and the minimum is I(x; z) + TC(z); :func:`disentanglement_check` compares.
    Returns the fitted factors and the minimum value (nats).
    """
    px, enc = _check_encoder(p_x, p_z_given_x)
    n = enc.ndim - 1
    g = torch.Generator().manual_seed(seed)
    thetas = [torch.randn(k, generator=g, dtype=torch.float64, requires_grad=True) for k in enc.shape[1:]]
    w = torch.as_tensor(px[:, None] * enc.reshape(enc.shape[0], -1)).sum(0).reshape(enc.shape[1:])
    const = float((px * _plogp(enc).reshape(enc.shape[0], -1).sum(1)).sum())  # −E_x H(p(z|x))
    opt = torch.optim.LBFGS(thetas, max_iter=max_iter, tolerance_grad=1e-12, tolerance_change=1e-15,
                            line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        opt.zero_grad()
        # E_x KL(p(z|x) ‖ q) = −E_x H(p(z|x)) − Σ_z p(z) log q(z), with p(z) = Σ_x p(x) p(z|x) = w.
        log_q = sum(torch.log_softmax(t, 0).reshape([-1 if j == i else 1 for j in range(n)])
                    for i, t in enumerate(thetas))
        loss = const - (w * log_q).sum()
        loss.backward()
        return loss

    opt.step(objective)
    with torch.no_grad():
        factors = [torch.softmax(t, 0).numpy() for t in thetas]
    return factors, factorised_prior_kl(px, enc, factors)


def disentanglement_check(p_x: ArrayLike, p_z_given_x: ArrayLike, *, seed: int = 0) -> dict[str, float]:
    """Prop. 1 / Prop. 4 numerically for one discrete p(x) p(z|x).

    Returns (nats) ``min_kl`` = min_q E_x KL(p(z|x) ‖ Π q_i) found by
    :func:`fit_factorised_prior`, ``i_xz`` = I(x; z), ``tc`` = TC(z),
    ``i_plus_tc`` and their gap, and ``max_marginal_gap`` = max_i ‖q_i − p(z_i)‖_∞.
    """
    px, enc = _check_encoder(p_x, p_z_given_x)
    factors, min_kl = fit_factorised_prior(px, enc, seed=seed)
    joint = px[:, None] * enc.reshape(enc.shape[0], -1)
    p_z = joint.sum(0).reshape(enc.shape[1:])
    i_xz, tc = mutual_information(joint), total_correlation(p_z)
    gap_q = max(float(np.abs(q - m).max()) for q, m in zip(factors, marginals(p_z)))
    return {"min_kl": min_kl, "i_xz": i_xz, "tc": tc, "i_plus_tc": i_xz + tc,
            "gap": min_kl - (i_xz + tc), "max_marginal_gap": gap_q}


def random_encoder(n_x: int, z_shape: Sequence[int], *, seed: int = 0,
                   concentration: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A random discrete p(x) (Dirichlet(1)) and p(z|x) (Dirichlet(``concentration``) per x).

    Returns ``(p_x, p_z_given_x)`` with ``p_z_given_x`` of shape ``[n_x, *z_shape]``.
    """
    if n_x < 1 or any(k < 1 for k in z_shape) or concentration <= 0:
        raise ValueError("n_x and z_shape entries must be ≥ 1 and concentration > 0")
    rng = np.random.default_rng(seed)
    p_x = rng.dirichlet(np.ones(n_x))
    k = int(np.prod(z_shape))
    enc = rng.dirichlet(np.full(k, concentration), size=n_x).reshape(n_x, *z_shape)
    return p_x, enc


# ---------------------------------------------------------------------------
# The KL terms of Information Dropout (§6, App. A) by Monte Carlo
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Gaussian dropout as an information bottleneck (Rey & Mnih, Thm. 1, eq. 1-5)
# ---------------------------------------------------------------------------

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


# --- where the information flows: KL maps and localisation (Fig. 2, §8 "Cluttered MNIST") ----------

@torch.no_grad()
def kl_maps(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 200) -> list[torch.Tensor]:
    """Per-location KL of each Information Dropout layer, summed over channels (Fig. 2).

    Returns one tensor ``[N, H, W]`` per layer, in forward order (48², 24², 12²,
    6² for All-CNN-96 on 96×96 input). The model runs in eval mode: the KL
    depends on α(x) (and, with the log-normal prior, on the noiseless
    activations), not on a noise sample.
    """
    from ibcore.layers import InformationDropout

    layers = [m for m in model.modules() if isinstance(m, InformationDropout)]
    if not layers:
        raise ValueError("the model has no InformationDropout layer, so it has no KL maps")
    model.eval()
    device = next(model.parameters()).device
    maps: list[list[torch.Tensor]] = [[] for _ in layers]
    for start in range(0, len(x), batch_size):
        model(x[start:start + batch_size].to(device))
        for per_layer, layer in zip(maps, layers):
            per_layer.append(layer.kl_map.detach().cpu())
    return [torch.cat(parts) for parts in maps]


def _cell_centres_in_box(shape: tuple[int, int], boxes: torch.Tensor, input_size: int) -> torch.Tensor:
    """[N, H, W] bool: whether each map cell's centre, in input pixels, lies inside the image's box."""
    h, w = shape
    cy = (torch.arange(h, dtype=torch.float64) + 0.5) * input_size / h
    cx = (torch.arange(w, dtype=torch.float64) + 0.5) * input_size / w
    x0, y0, x1, y1 = (boxes[:, i, None, None].double() for i in range(4))
    return (cx[None, None, :] >= x0) & (cx[None, None, :] < x1) & (cy[None, :, None] >= y0) & (cy[None, :, None] < y1)


def localisation(kl_map: torch.Tensor, boxes: torch.Tensor, input_size: int) -> dict[str, float]:
    """How well one layer's KL map alone localises the digit (the claim of Fig. 2, measured).

    ``kl_map``: ``[N, H, W]`` non-negative; ``boxes``: ``[N, 4]`` digit boxes
    ``(x0, y0, x1, y1)`` in input pixels (end-exclusive). Returns

    - ``argmax_in_box``: fraction of images whose KL-map argmax cell (its centre,
      mapped to input pixels) falls inside the box;
    - ``argmax_chance``: the same for an argmax drawn uniformly over the cells
      (the mean share of cells inside the box);
    - ``mass_ratio``: mean over images of (share of the KL mass inside the box)
      / (share of the image area the box covers), the map upsampled to the
      input by nearest neighbour; 1 is chance, larger is better localised.
    """
    if kl_map.dim() != 3 or boxes.shape != (kl_map.shape[0], 4):
        raise ValueError(f"need kl_map [N, H, W] and boxes [N, 4], got {tuple(kl_map.shape)} and {tuple(boxes.shape)}")
    if (kl_map < 0).any():
        raise ValueError("a KL map must be non-negative")
    n, h, w = kl_map.shape
    inside = _cell_centres_in_box((h, w), boxes, input_size)
    best = kl_map.flatten(1).argmax(1)
    argmax_in_box = inside.flatten(1).gather(1, best[:, None]).double().mean()
    upsampled = torch.nn.functional.interpolate(kl_map[:, None].double(), size=(input_size, input_size),
                                                mode="nearest")[:, 0]
    pixel_in_box = _cell_centres_in_box((input_size, input_size), boxes, input_size)
    total = upsampled.flatten(1).sum(1)
    mass_in = (upsampled * pixel_in_box).flatten(1).sum(1) / total
    area = pixel_in_box.flatten(1).double().mean(1)
    ratio = (mass_in / area)[total > 0]
    return {"argmax_in_box": float(argmax_in_box), "argmax_chance": float(inside.flatten(1).double().mean()),
            "mass_ratio": float(ratio.mean()) if len(ratio) else float("nan")}


# ---------------------------------------------------------------------------
# §6, Fig. 1: which prior fits the post-noise activations
# ---------------------------------------------------------------------------

@torch.no_grad()
def layer_outputs(model: torch.nn.Module, x: torch.Tensor, layer_index: int = -1, *,
                  noisy: bool = True, batch_size: int = 1000) -> torch.Tensor:
    """Outputs z of the ``layer_index``-th bottleneck layer of ``model`` on ``x`` (§6, Fig. 1).

    The layer is found among :func:`ibcore.layers.bottlenecks` (``-1`` = the
    last dropout layer) and its output captured with a forward hook. The model
    runs in eval mode (BatchNorm with its running statistics); ``noisy=True``
    switches the multiplicative noise of every bottleneck on, so z = ε ⊙ f(x)
    are the *post-noise* activations. Returns a CPU tensor [N, units...].
    """
    from ibcore.layers import bottlenecks

    layers = bottlenecks(model)
    if not layers:
        raise ValueError("the model has no bottleneck (Information Dropout, ...) layer")
    if not -len(layers) <= layer_index < len(layers):
        raise ValueError(f"layer_index {layer_index} out of range for {len(layers)} bottleneck layers")
    if len(x) == 0:
        raise ValueError("x is empty")
    target, captured = layers[layer_index], []
    hook = target.register_forward_hook(lambda module, inputs, output: captured.append(output.detach().cpu()))
    model.eval()
    flags = [layer.training for layer in layers]
    try:
        for layer in layers:  # only the layers' own flag: their BatchNorm stays in eval mode
            layer.training = noisy
        for batch in x.split(batch_size):
            model(batch)
    finally:
        hook.remove()
        for layer, flag in zip(layers, flags):
            layer.training = flag
    return torch.cat(captured)


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
    lo, hi = log_range if log_range is not None else np.quantile(logs, [0.0005, 0.9995])
    counts, edges = np.histogram(logs, bins=bins, range=(float(lo), float(hi)))
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts],
            "zeros": int(np.sum(arr == 0)), "total": int(arr.size)}
