"""Information measures of ibcore.metrics: discrete MI/TC, Prop. 1/4 (App. B), Gaussian dropout (Rey & Mnih).

Tolerances are tighter than the ones chapters 03 and 20 assert (they call the same functions).
"""
import math

import numpy as np
import pytest

from ibcore import metrics as m

LOG2 = math.log(2)


# --- discrete measures ---------------------------------------------------------------------

def test_entropy_and_mutual_information_basics():
    assert m.entropy(np.full(8, 1 / 8)) == pytest.approx(math.log(8))
    assert m.entropy([1.0, 0.0]) == 0.0
    assert m.mutual_information(np.outer([0.2, 0.8], [0.5, 0.3, 0.2])) == pytest.approx(0, abs=1e-12)
    assert m.mutual_information(np.diag([0.25, 0.25, 0.5])) == pytest.approx(m.entropy([0.25, 0.25, 0.5]))
    p = np.array([[0.3, 0.1], [0.2, 0.4]])
    assert m.conditional_entropy(p) == pytest.approx(m.entropy(p) - m.entropy(p.sum(1)))


@pytest.mark.parametrize("bad, match", [([0.5, 0.6], "sum to 1"), ([1.2, -0.2], "non-negative"),
                                        ([np.nan, 1.0], "finite"), ([], "empty")])
def test_not_a_distribution_raises(bad, match):
    with pytest.raises(ValueError, match=match):
        m.entropy(bad)


def test_mutual_information_needs_a_2d_table():
    with pytest.raises(ValueError, match="2-D"):
        m.mutual_information([0.5, 0.5])


def test_total_correlation():
    indep = np.einsum("i,j,k->ijk", [0.3, 0.7], [0.5, 0.5], [0.1, 0.2, 0.7])
    assert m.total_correlation(indep) == pytest.approx(0, abs=1e-12)
    copies = np.zeros((2, 2, 2))
    copies[0, 0, 0] = copies[1, 1, 1] = 0.5                # z1 = z2 = z3: Σ H(z_j) − H(z) = 3 log 2 − log 2
    assert m.total_correlation(copies) == pytest.approx(2 * LOG2)
    pair = np.array([[0.4, 0.1], [0.1, 0.4]])
    assert m.total_correlation(pair) == pytest.approx(m.mutual_information(pair))


@pytest.mark.parametrize("r", [0.0, 0.3, 0.9, -0.7])
def test_gaussian_total_correlation_two_components(r):
    cov = np.array([[1.0, 2 * r], [2 * r, 4.0]])
    assert m.gaussian_total_correlation(cov) == pytest.approx(-0.5 * math.log(1 - r**2), abs=1e-12)


def test_gaussian_total_correlation_is_sum_of_marginal_entropies_minus_joint():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T + 0.5 * np.eye(4)
    h = lambda c: 0.5 * np.linalg.slogdet(2 * np.pi * np.e * np.atleast_2d(c))[1]  # noqa: E731
    tc = sum(h(cov[j, j]) for j in range(4)) - h(cov)
    assert m.gaussian_total_correlation(cov) == pytest.approx(tc, rel=1e-12)
    scale = np.diag([0.1, 3.0, 7.0, 1.0])                   # invariant to rescaling each component
    assert m.gaussian_total_correlation(scale @ cov @ scale) == pytest.approx(tc, rel=1e-10)
    # the paper's §8 expression −log|Σ0⁻¹Σ| is twice the TC in nats
    assert -np.linalg.slogdet(np.diag(1 / np.diag(cov)) @ cov)[1] == pytest.approx(2 * tc, rel=1e-10)


def test_gaussian_total_correlation_rejects_bad_covariances():
    with pytest.raises(ValueError, match="positive definite"):
        m.gaussian_total_correlation([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        m.gaussian_total_correlation([[1.0, 0.5], [0.1, 1.0]])
    with pytest.raises(ValueError, match="square"):
        m.gaussian_total_correlation(np.ones((2, 3)))


# --- Prop. 1 / Prop. 4 ------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_factorised_prior_minimum_is_mi_plus_tc(seed):
    """Chapter 03's table: the same draws, tolerances 1e-9 / 1e-6 instead of 1e-6 / 1e-4."""
    p_x, enc = m.random_encoder(5, (3, 4), seed=seed)
    r = m.disentanglement_check(p_x, enc, seed=seed)
    assert abs(r["gap"]) < 1e-9 and r["max_marginal_gap"] < 1e-6
    assert r["tc"] > 1e-3          # so "min KL = I(x;z)" alone (no TC) would be rejected
    assert abs(r["min_kl"] - r["i_xz"]) > 1e-3


def test_factorised_prior_three_components_and_other_priors_are_worse():
    p_x, enc = m.random_encoder(4, (2, 3, 2), seed=11)
    r = m.disentanglement_check(p_x, enc)
    assert abs(r["gap"]) < 1e-9
    p_z = (p_x[:, None] * enc.reshape(4, -1)).sum(0).reshape(2, 3, 2)
    at_marginals = m.factorised_prior_kl(p_x, enc, m.marginals(p_z))
    assert at_marginals == pytest.approx(r["i_plus_tc"], abs=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = [rng.dirichlet(np.ones(k)) for k in (2, 3, 2)]
        assert m.factorised_prior_kl(p_x, enc, q) > at_marginals


def test_factorised_prior_kl_input_checks():
    p_x, enc = m.random_encoder(3, (2, 2), seed=0)
    with pytest.raises(ValueError, match="factors"):
        m.factorised_prior_kl(p_x, enc, [np.array([0.5, 0.5])])
    with pytest.raises(ValueError, match="states"):
        m.factorised_prior_kl(p_x, enc, [np.array([0.5, 0.5]), np.array([0.2, 0.3, 0.5])])
    with pytest.raises(ValueError, match="shape"):
        m.factorised_prior_kl(p_x, enc[:2], [np.array([0.5, 0.5])] * 2)
    assert m.factorised_prior_kl(p_x, enc, [np.array([1.0, 0.0]), np.array([0.5, 0.5])]) == math.inf


# --- Gaussian dropout (Rey & Mnih, Thm. 1) ----------------------------------------------------

INPUTS = [([1.0, 2.0], [0.5, 0.5]), ([0.5, 1.0, 3.0], [0.2, 0.5, 0.3]), ([-1.0, 1.0], [0.5, 0.5]),
          (np.linspace(1, 2, 20), np.full(20, 0.05)), ([-2.0, 0.3, 5.0], [0.3, 0.3, 0.4])]
SIGMAS = [0.1, 1 / 3, 1.0, 1.5275, 4.0]


def test_dropout_sigma():
    assert m.dropout_sigma(0.5) == pytest.approx(1.0)
    assert m.dropout_sigma(0.2) == pytest.approx(0.5)
    assert m.dropout_sigma(0.0) == 0.0
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="dropout rate"):
            m.dropout_sigma(bad)


@pytest.mark.parametrize("x, px", INPUTS)
def test_bound_holds_and_is_scale_invariant(x, px):
    for s in SIGMAS:
        mi, bound = m.gaussian_dropout_mi(x, s, px), m.gaussian_dropout_mi_bound(x, s, px)
        assert bound >= mi - 1e-12
        assert mi <= m.entropy(px) + 1e-9
        for a in (1e-3, 0.37, 250.0, -2.0):
            assert m.gaussian_dropout_mi_bound(a * np.asarray(x), s, px) == pytest.approx(bound, abs=1e-12)
            assert m.gaussian_dropout_mi(a * np.asarray(x), s, px) == pytest.approx(mi, abs=1e-10)


def test_bound_formula_by_hand():
    x, px, s = np.array([1.0, 2.0]), np.array([0.5, 0.5]), 0.5
    mean, var = 1.5, 0.25
    expected = 0.5 * np.sum(px * np.log((var + mean**2 + var / s**2) / x**2))
    assert m.gaussian_dropout_mi_bound(x, s, px) == pytest.approx(expected, rel=1e-14)
    # with probs=None the values are equally weighted samples
    assert m.gaussian_dropout_mi_bound([1.0, 2.0, 2.0], s) == pytest.approx(
        m.gaussian_dropout_mi_bound([1.0, 2.0], s, [1 / 3, 2 / 3]))


@pytest.mark.parametrize("x, px, s", [([0.5, 1.0, 3.0], [0.2, 0.5, 0.3], 1 / 3), ([1.0, 2.0], [0.5, 0.5], 1.5275),
                                      (np.linspace(1, 2, 20), np.full(20, 0.05), 1 / 3)])
def test_numerical_mi_against_two_independent_methods(x, px, s):
    x, px = np.asarray(x), np.asarray(px)
    mi = m.gaussian_dropout_mi(x, s, px)
    # h(Y) − h(Y|X) with h(Y) on one global grid (a different discretisation)
    y = np.linspace((x - 14 * np.abs(x) * s).min(), (x + 14 * np.abs(x) * s).max(), 400_001)
    d = m.gaussian_dropout_density(y, x, s, px)
    f = np.where(d > 0, -d * np.log(np.where(d > 0, d, 1.0)), 0.0)
    h_y = float(((f[1:] + f[:-1]) * np.diff(y)).sum() / 2)
    h_y_given_x = float(px @ (0.5 * np.log(2 * np.pi * np.e * x**2 * s**2)))
    assert mi == pytest.approx(h_y - h_y_given_x, abs=1e-8)
    # Monte Carlo E log p(y|x)/p(y), 4 standard errors
    rng = np.random.default_rng(0)
    k = rng.choice(len(x), size=400_000, p=px)
    yy = x[k] * (1 + s * rng.standard_normal(k.size))
    sd = np.abs(x[k]) * s
    vals = -0.5 * ((yy - x[k]) / sd) ** 2 - np.log(sd * math.sqrt(2 * math.pi)) - np.log(m.gaussian_dropout_density(yy, x, s, px))
    assert abs(vals.mean() - mi) < 4 * vals.std() / math.sqrt(k.size)


def test_symmetric_input_is_the_additive_channel_and_matches_bi_awgn():
    for s in (0.5, 1.0, 2.0):
        assert m.gaussian_dropout_mi([-1, 1], s) == pytest.approx(m.additive_gaussian_mi([-1, 1], s), abs=1e-12)
    # binary-input AWGN at SNR 1 (0 dB): 0.486 bits (standard value)
    assert m.additive_gaussian_mi([-1, 1], 1.0) / LOG2 == pytest.approx(0.4859, abs=5e-4)
    # the bound is tight when Y is nearly Gaussian (chapter 20: gap < 1e-3 at p = 0.7)
    s = m.dropout_sigma(0.7)
    assert 0 < m.gaussian_dropout_mi_bound([-1, 1], s) - m.gaussian_dropout_mi([-1, 1], s) < 1e-3


def test_additive_channel_grows_with_scale():
    x, px, s = np.array([0.5, 1.0, 3.0]), np.array([0.2, 0.5, 0.3]), 0.5
    scales = np.geomspace(0.1, 100, 15)
    mi = [m.additive_gaussian_mi(a * x, s, px) for a in scales]
    bound = [m.additive_gaussian_mi_bound(a * x, s, px) for a in scales]
    assert np.all(np.diff(mi) > -1e-12) and mi[-1] == pytest.approx(m.entropy(px), abs=1e-6)
    assert np.all(np.array(bound) >= np.array(mi) - 1e-12) and bound[-1] > 5.0
    assert np.all(np.diff(bound) > 0)


def test_gaussian_dropout_input_checks():
    with pytest.raises(ValueError, match="non-zero"):
        m.gaussian_dropout_mi_bound([0.0, 1.0], 0.5)
    with pytest.raises(ValueError, match="non-zero"):
        m.gaussian_dropout_mi([0.0, 1.0], 0.5, [0.5, 0.5])
    with pytest.raises(ValueError, match="sigma"):
        m.gaussian_dropout_mi_bound([1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="entries"):
        m.gaussian_dropout_mi([1.0, 2.0], 0.5, [1.0])
    with pytest.raises(ValueError, match="sum to 1"):
        m.gaussian_dropout_mi([1.0, 2.0], 0.5, [0.5, 0.6])
    # an atom at zero with zero probability is harmless
    assert m.gaussian_dropout_mi_bound([0.0, 1.0, 2.0], 0.5, [0.0, 0.5, 0.5]) == pytest.approx(
        m.gaussian_dropout_mi_bound([1.0, 2.0], 0.5))
