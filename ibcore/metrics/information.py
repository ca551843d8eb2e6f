"""Information measures in nats: entropy, mutual information, total correlation (§5; the Gaussian
TC of §8 is in :mod:`ibcore.metrics.gaussian_tc`),
and Prop. 1 / Prop. 4 (App. B) numerically: a factorised prior turns the KL term into I + TC.

Pure functions of numpy arrays; discrete distributions are arrays of probabilities
that sum to 1, with 0 log 0 = 0. Bad input raises a ``ValueError`` that says what is wrong.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike

#: Absolute tolerance on "sums to one" for probability arrays.
PROB_ATOL = 1e-8
HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


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
