"""The Information Bottleneck for a discrete joint p(x, y): the iterative algorithm and its curve.

Conventions (the book follows Achille & Soatto, eq. 2)::

    L(p(z|x)) = H(y|z) + β·I(x; z)          β ≥ 0 multiplies the *compression* term

Tishby, Pereira & Bialek (1999) write the same problem as minimising
``I(X;Z) − β_T·I(Z;Y)``. Since H(y|z) = H(y) − I(z;y) and H(y) is fixed by the
data, ``L / β = const + I(x;z) − (1/β)·I(z;y)``: the two are the same problem
with **β_T = 1/β**. Every function here takes the book's β; :func:`tishby_beta`
converts. Small β: keep information about y (sufficiency); large β: compress
(minimality); β → 0⁺ recovers the minimal sufficient statistic (§4).

The iterative algorithm (the self-consistent equations of Tishby et al. 1999) alternates,
in the book's β::

    p(z|x) ∝ p(z) · exp(−KL(p(y|x) ‖ p(y|z)) / β)
    p(z)   = Σ_x p(x) p(z|x)
    p(y|z) = Σ_x p(y|x) p(x|z)

Like Blahut–Arimoto, each step cannot increase the functional
``I(X;Z) + β_T·E_{x,z} KL(p(y|x) ‖ p(y|z))``, which equals ``L/β + const`` once
p(z) and p(y|z) are consistent with the encoder. The iterations converge to a
stationary point, possibly a *local* minimum, so :func:`iterative_ib` keeps the
best of several random restarts.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ibcore.metrics import as_distribution, entropy, mutual_information

#: Largest number of deterministic maps |Z|^|X| that :func:`best_deterministic` enumerates.
MAX_DETERMINISTIC_MAPS = 200_000
_TINY = 1e-300


@dataclass(frozen=True)
class IBSolution:
    """One encoder p(z|x) and its IB quantities (nats), at the book's β (eq. 2)."""

    encoder: np.ndarray       # p(z|x), shape [|X|, n_z], rows sum to 1
    beta: float               # the book's β (Achille & Soatto eq. 2)
    i_xz: float               # I(X; Z)
    i_zy: float               # I(Z; Y)
    h_y_given_z: float        # H(Y | Z)
    lagrangian: float         # H(Y|Z) + β I(X;Z)
    iters: int = 0            # iterations used (0 for evaluated, not optimised, encoders)
    converged: bool = True

    @property
    def is_deterministic(self) -> bool:
        """True if every x is mapped to a single z (all entries of p(z|x) are 0 or 1)."""
        return bool(np.all((self.encoder < 1e-9) | (self.encoder > 1 - 1e-9)))


def tishby_beta(beta: float) -> float:
    """Tishby et al.'s β_T for the book's β: β_T = 1/β (see the module docstring)."""
    _check_beta(beta, allow_zero=False)
    return 1.0 / beta


def _check_beta(beta: float, *, allow_zero: bool) -> None:
    if not (beta > 0 or (allow_zero and beta == 0)) or not math.isfinite(beta):
        raise ValueError(f"beta must be {'≥' if allow_zero else '>'} 0 and finite, got {beta!r}")


def _check_joint(p_xy: ArrayLike) -> np.ndarray:
    p = as_distribution(p_xy, "p_xy", ndim=2)
    if np.any(p.sum(1) == 0):
        raise ValueError("every x must have p(x) > 0 (drop the rows of p_xy that are all zero)")
    return p


def evaluate_encoder(p_xy: ArrayLike, encoder: ArrayLike, beta: float) -> IBSolution:
    """I(X;Z), I(Z;Y), H(Y|Z) and L = H(Y|Z) + β I(X;Z) (eq. 2) of a given encoder p(z|x).

    Uses the Markov chain y ← x → z: p(x, z) = p(x) p(z|x), p(z, y) = Σ_x p(z|x) p(x, y).
    """
    _check_beta(beta, allow_zero=True)
    p = _check_joint(p_xy)
    enc = np.asarray(encoder, dtype=np.float64)
    if enc.ndim != 2 or enc.shape[0] != p.shape[0]:
        raise ValueError(f"encoder must have shape [|X|={p.shape[0]}, n_z], got {enc.shape}")
    if np.any(enc < 0) or not np.allclose(enc.sum(1), 1.0, atol=1e-8):
        raise ValueError("encoder rows p(·|x) must be distributions")
    p_xz = p.sum(1)[:, None] * enc
    p_zy = enc.T @ p
    i_xz, i_zy = mutual_information(p_xz), mutual_information(p_zy)
    h_y_given_z = entropy(p_zy) - entropy(p_zy.sum(1))
    return IBSolution(enc, float(beta), i_xz, i_zy, h_y_given_z, h_y_given_z + beta * i_xz)


def _kl_rows(p_y_given_x: np.ndarray, p_y_given_z: np.ndarray) -> np.ndarray:
    """KL(p(y|x) ‖ p(y|z)) for every (x, z): shape [|X|, n_z]."""
    log_px = np.log(np.maximum(p_y_given_x, _TINY))
    log_pz = np.log(np.maximum(p_y_given_z, _TINY))
    return (p_y_given_x * log_px).sum(1)[:, None] - p_y_given_x @ log_pz.T


def _lagrangian(p: np.ndarray, encoder: np.ndarray, beta: float) -> float:
    """H(Y|Z) + β I(X;Z) without input checks (the inner loop of :func:`_ib_iterations`)."""
    p_x = p.sum(1)
    p_z = p_x @ encoder
    p_zy = encoder.T @ p

    def plogp(a: np.ndarray) -> float:
        a = a[a > 0]
        return float((a * np.log(a)).sum())

    h_y_given_z = plogp(p_z) - plogp(p_zy)
    i_xz = plogp(p_x[:, None] * encoder) - plogp(p_x) - plogp(p_z)
    return h_y_given_z + beta * i_xz


def _ib_iterations(p: np.ndarray, encoder: np.ndarray, beta: float, iters: int,
                   tol: float) -> tuple[np.ndarray, int, bool]:
    """Run the self-consistent equations from ``encoder`` until L changes by < ``tol``."""
    p_x = p.sum(1)
    p_y_given_x = p / p_x[:, None]
    previous = math.inf
    for it in range(1, iters + 1):
        p_z = p_x @ encoder
        p_zy = encoder.T @ p
        p_y_given_z = p_zy / np.maximum(p_z, _TINY)[:, None]
        with np.errstate(divide="ignore"):
            logits = np.log(p_z)[None, :] - _kl_rows(p_y_given_x, p_y_given_z) / beta
        logits -= logits.max(1, keepdims=True)
        encoder = np.exp(logits)
        encoder /= encoder.sum(1, keepdims=True)
        value = _lagrangian(p, encoder, beta)
        if abs(previous - value) < tol:
            return encoder, it, True
        previous = value
    return encoder, iters, False


def iterative_ib(p_xy: ArrayLike, n_z: int, beta: float, *, iters: int = 2000, seed: int = 0,
                 tol: float = 1e-12, restarts: int = 8, init: ArrayLike | None = None) -> IBSolution:
    """Minimise L = H(Y|Z) + β I(X;Z) (eq. 2) over encoders p(z|x) with the iterative IB algorithm.

    Tishby, Pereira & Bialek (1999), with their β_T = 1/β (module docstring).
    Runs ``restarts`` random initial encoders (Dirichlet rows, ``seed``), plus
    ``init`` if given (a warm start, e.g. from a neighbouring β), each for at
    most ``iters`` updates or until L changes by less than ``tol``, and returns
    the solution with the lowest Lagrangian.
    """
    p = _check_joint(p_xy)
    _check_beta(beta, allow_zero=False)
    if n_z < 1 or iters < 1 or restarts < 0:
        raise ValueError("n_z and iters must be ≥ 1 and restarts ≥ 0")
    rng = np.random.default_rng(seed)
    starts = [rng.dirichlet(np.ones(n_z), size=p.shape[0]) for _ in range(restarts)]
    if init is not None:
        starts.append(evaluate_encoder(p, init, beta).encoder)
    if not starts:
        raise ValueError("need restarts ≥ 1 or an init encoder")
    best: IBSolution | None = None
    for start in starts:
        enc, used, converged = _ib_iterations(p, start, beta, iters, tol)
        sol = evaluate_encoder(p, enc, beta)
        if best is None or sol.lagrangian < best.lagrangian:
            best = IBSolution(sol.encoder, sol.beta, sol.i_xz, sol.i_zy, sol.h_y_given_z,
                              sol.lagrangian, used, converged)
    return best


def ib_curve(p_xy: ArrayLike, betas: Sequence[float], n_z: int, *, iters: int = 2000, seed: int = 0,
             tol: float = 1e-12, restarts: int = 8) -> list[IBSolution]:
    """Trace the IB curve (I(X;Z), I(Z;Y)) over the book's β with :func:`iterative_ib`.

    β is visited from large (compressed) to small, each run warm-started from
    the previous solution plus ``restarts`` random starts; the solutions are
    returned in the order of ``betas``.
    """
    if len(betas) == 0:
        raise ValueError("betas is empty")
    order = sorted(range(len(betas)), key=lambda k: -betas[k])
    out: dict[int, IBSolution] = {}
    previous = None
    for k in order:
        sol = iterative_ib(p_xy, n_z, betas[k], iters=iters, seed=seed + k, tol=tol,
                           restarts=restarts, init=previous)
        out[k] = sol
        previous = sol.encoder
    return [out[k] for k in range(len(betas))]


def best_deterministic(p_xy: ArrayLike, beta: float, n_z: int) -> IBSolution:
    """The lowest L = H(Y|Z) + β I(X;Z) over all deterministic encoders z = T(x), T: X → {1..n_z}.

    Exhaustive over the n_z^|X| maps (at most :data:`MAX_DETERMINISTIC_MAPS`), for the
    Remark "Deterministic vs. stochastic representations" (§4).
    """
    p = _check_joint(p_xy)
    _check_beta(beta, allow_zero=True)
    n_x = p.shape[0]
    if n_z < 1 or n_z**n_x > MAX_DETERMINISTIC_MAPS:
        raise ValueError(f"n_z^|X| = {n_z}^{n_x} maps: need 1 ≤ n_z and at most {MAX_DETERMINISTIC_MAPS}")
    eye = np.eye(n_z)
    maps = [eye[list(m)] for m in itertools.product(range(n_z), repeat=n_x)]
    values = [_lagrangian(p, enc, beta) for enc in maps]
    return evaluate_encoder(p, maps[int(np.argmin(values))], beta)


def noisy_bit(flip: float, n_obs: int = 1) -> np.ndarray:
    """p(x, y) for y a fair random bit and x the number of 1s in ``n_obs`` noisy copies of it.

    Each copy is y flipped independently with probability ``flip``; x ∈ {0, …, n_obs}.
    ``n_obs=1`` is the example of the Remark in §4 (x a noisy observation of y).
    Returns the table ``p[x, y]``.
    """
    if not 0 <= flip <= 1 or n_obs < 1:
        raise ValueError("need 0 ≤ flip ≤ 1 and n_obs ≥ 1")
    p = np.zeros((n_obs + 1, 2))
    for y in (0, 1):
        q = flip if y == 0 else 1 - flip            # probability that one copy reads 1
        for x in range(n_obs + 1):
            p[x, y] = 0.5 * math.comb(n_obs, x) * q**x * (1 - q) ** (n_obs - x)
    return p


def binary_entropy(q: ArrayLike) -> np.ndarray:
    """h(q) = −q log q − (1−q) log(1−q) in nats, elementwise."""
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
    return -(np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0)
             + np.where(q < 1, (1 - q) * np.log(np.where(q < 1, 1 - q, 1)), 0))


def noisy_bit_curve(flip: float, q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The exact IB curve of :func:`noisy_bit` with ``n_obs=1``: encoders z = x ⊕ Bernoulli(q).

    I(X;Z) = log 2 − h(q) and I(Z;Y) = log 2 − h(flip ∗ q), with a ∗ b = a(1−b) + b(1−a).
    By Mrs Gerber's lemma (Wyner & Ziv 1973) no encoder does better, so these
    points are the optimal IB curve; q = 0 and q = ½ are the two deterministic maps.
    """
    q = np.asarray(q, dtype=np.float64)
    conv = flip * (1 - q) + q * (1 - flip)
    return math.log(2) - binary_entropy(q), math.log(2) - binary_entropy(conv)


def stochastic_advantage_range(flip: float) -> tuple[float, float]:
    """Open interval of β where a stochastic encoder strictly beats every deterministic one (noisy bit).

    Along the exact curve (:func:`noisy_bit_curve`), L = H(y) − I(z;y) + β I(x;z)
    is a strictly convex function of I(x;z); its minimum is interior (not at the
    deterministic end points) iff β lies strictly between the curve's slopes at
    the two ends: 0 at the identity map and (1 − 2·flip)² at the constant map.
    """
    if not 0 < flip < 0.5:
        raise ValueError(f"flip must be in (0, 0.5), got {flip!r}")
    return 0.0, (1 - 2 * flip) ** 2


def noisy_bit_optimum(flip: float, beta: float, *, n_grid: int = 20_001) -> float:
    """min L = H(Y|Z) + β I(X;Z) for :func:`noisy_bit` (``n_obs=1``), from the exact curve.

    Minimises log 2 − I(Z;Y)(q) + β I(X;Z)(q) over a grid of q ∈ [0, ½] (q = 0: identity
    map, q = ½: constant map), using :func:`noisy_bit_curve`. The grid is geometric on
    [10⁻¹⁵, 10⁻²] (at small β the optimal q is exponentially small) and uniform on [10⁻², ½].
    """
    _check_beta(beta, allow_zero=True)
    if not 0 <= flip <= 1:
        raise ValueError(f"flip must be in [0, 1], got {flip!r}")
    q = np.concatenate([[0.0], np.geomspace(1e-15, 1e-2, n_grid), np.linspace(1e-2, 0.5, n_grid)])
    i_xz, i_zy = noisy_bit_curve(flip, q)
    return float(np.min(math.log(2) - i_zy + beta * i_xz))
