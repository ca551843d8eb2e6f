"""The total correlation of a Gaussian vector (§8, "Disentangling", Fig. 5), in nats: exact from a
covariance, and estimated from samples with the plug-in estimator's bias and sd in closed form.

The plug-in estimate from N samples of D dimensions is biased upwards by an amount that depends on
N and D only (:func:`gaussian_tc_bias`): 264.6 nats for the 3,072 units of Fig. 5 read on 10,000
test images, where independent units have TC 0. A committed plug-in value can thus be debiased
after the fact from its N and D.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike


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


@dataclass(frozen=True)
class GaussianTC(Mapping):
    """The Gaussian TC of a sample (:func:`gaussian_total_correlation_of_samples`), in nats.

    Attributes (also readable as a mapping, ``result["total"]``, so that code written for the
    former dict keeps working):

    * ``total``: the plug-in estimate ½(Σ_j log Σ̂_jj − log|Σ̂|);
    * ``total_debiased``: ``total − bias``, unbiased for Gaussian samples of any covariance;
    * ``bias``: E[plug-in] − TC = :func:`gaussian_tc_bias` (``n_samples``, ``dims``), what the
      plug-in reads on independent dimensions;
    * ``sd_independent``: the plug-in's sd on independent dimensions (:func:`gaussian_tc_sd`);
    * ``per_dimension``: total / d, the value the original code prints (``cifar.py``, ``correlation``);
    * ``n_samples``, ``dims``: N and D.
    """

    total: float
    total_debiased: float
    bias: float
    sd_independent: float
    per_dimension: float
    n_samples: int
    dims: int

    def __getitem__(self, key: str) -> float:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)


def _check_sizes(n_samples: int, dims: int) -> int:
    """m = N − 1, the Wishart degrees of freedom, after checking N > D ≥ 1."""
    if dims < 1 or n_samples <= dims:
        raise ValueError(f"need more samples than dimensions (and at least one dimension) to estimate a "
                         f"full covariance, got n={n_samples}, d={dims}")
    return n_samples - 1


def _half_dof(n_samples: int, dims: int) -> tuple[torch.Tensor, float]:
    """(m − j + 1)/2 for j = 1..D and m/2, in float64, with m = N − 1."""
    m = _check_sizes(n_samples, dims)
    return (m - torch.arange(dims, dtype=torch.float64)) / 2, m / 2


def gaussian_tc_bias(n_samples: int, dims: int) -> float:
    """E[plug-in Gaussian TC] − TC in nats, from N samples of D dimensions (N > D); exact for Gaussians.

    With m = N − 1, the scatter matrix S = (N − 1) Σ̂ is Wishart_D(Σ, m) (Σ̂ the ddof-1 sample
    covariance of :func:`gaussian_total_correlation_of_samples`). The plug-in TC
    ½(Σ_j log Σ̂_jj − log|Σ̂|) does not change when Σ̂ is scaled by any c > 0 (D log c enters both
    terms), so the normalisation (ddof 0 or 1) does not matter and one may use S itself. Then

    * S_jj / Σ_jj ~ χ²_m, whatever the correlations, so E log S_jj = log Σ_jj + ψ(m/2) + log 2;
    * log|S| = log|Σ| + log|W|, W ~ Wishart_D(I, m), and by Bartlett's decomposition
      |W| = Π_{j=1..D} χ²_{m−j+1} (independent), so E log|S| = log|Σ| + Σ_{j=1..D} ψ((m−j+1)/2) + D log 2.

    Hence E[plug-in] = TC + ½ [D ψ(m/2) − Σ_{j=1..D} ψ((m−j+1)/2)]: the bias, which depends on N and
    D only and is what the plug-in reads on independent dimensions (TC = 0). (With ddof 1 each
    term gains log(2/(N−1)) instead of log 2; the shifts cancel, as said.) ψ is the digamma function.
    3,072 dimensions from 10,000 samples: 264.6 nats.
    """
    half, half_m = _half_dof(n_samples, dims)
    digamma = torch.special.digamma
    return float(0.5 * (dims * digamma(torch.tensor(half_m, dtype=torch.float64)) - digamma(half).sum()))


def gaussian_tc_sd(n_samples: int, dims: int) -> float:
    """The sd in nats of the plug-in Gaussian TC of N samples of D independent Gaussian dimensions (exact).

    Bartlett's decomposition W = L Lᵀ (L lower triangular, L_jj² ~ χ²_{m−j+1}, L_jk ~ N(0, 1) below
    the diagonal, all independent) gives W_jj = L_jj² + Σ_{k<j} L_jk², so
    2 TC = Σ_j log(W_jj / L_jj²) = −Σ_j log B_j with independent B_j ~ Beta((m−j+1)/2, (j−1)/2).
    Var log B = ψ₁(a) − ψ₁(a + b) (ψ₁ the trigamma function), so
    Var TC = ¼ Σ_{j=1..D} [ψ₁((m−j+1)/2) − ψ₁(m/2)]. (The mean, ψ(a) − ψ(a + b), gives
    :func:`gaussian_tc_bias` again.) 3,072 dimensions from 10,000 samples: 0.17 nats.
    """
    half, half_m = _half_dof(n_samples, dims)
    trigamma = torch.special.polygamma(1, torch.cat([half, torch.tensor([half_m], dtype=torch.float64)]))
    return float(0.5 * math.sqrt(float((trigamma[:-1] - trigamma[-1]).sum())))


def gaussian_total_correlation_of_samples(samples: ArrayLike) -> GaussianTC:
    """TC of samples [n, d] taken as Gaussian (§8, "Disentangling"), from their covariance (ddof 1).

    ``total`` = −½ log|Σ₀⁻¹Σ̂| in nats (:func:`gaussian_total_correlation`), the plug-in estimate,
    is biased upwards: on independent dimensions it reads :func:`gaussian_tc_bias` (n, d) > 0
    (264.6 nats for d = 3,072, n = 10,000). ``total_debiased`` subtracts that bias; for Gaussian
    samples it is unbiased whatever their covariance (the derivation is at :func:`gaussian_tc_bias`).
    Returns a :class:`GaussianTC`. Needs more samples than dimensions (n > d), else Σ̂ is singular.
    """
    z = np.asarray(samples, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"samples must be a 2-D array [n, d], got shape {z.shape}")
    n, d = z.shape
    _check_sizes(n, d)
    if not np.all(np.isfinite(z)):
        raise ValueError("samples must be finite")
    cov = np.atleast_2d(np.cov(z, rowvar=False))
    total, bias = gaussian_total_correlation(cov), gaussian_tc_bias(n, d)
    return GaussianTC(total=total, total_debiased=total - bias, bias=bias, sd_independent=gaussian_tc_sd(n, d),
                      per_dimension=total / d, n_samples=n, dims=d)
