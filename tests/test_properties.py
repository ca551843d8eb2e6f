"""Property tests (hypothesis) of the KL terms and the bottleneck layers.

Over random shapes, options, dtypes (float32, float64) and inputs that include
zeros, constant batches and magnitudes from 1e-30 to 1e6: outputs keep their
shape and dtype, α stays in [0.001, max_alpha + 0.001], every KL is finite and
≥ 0, and gradients with respect to inputs and parameters are finite.
"""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ibcore import kl
from ibcore.layers import GaussianDropout, InformationDropout, LogNormalDropout, VariationalBottleneck

FAST = settings(max_examples=40, deadline=None)

DTYPES = st.sampled_from([torch.float32, torch.float64])
SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 1e6, -1e6, 1.0, -1.0]
ELEMENTS = st.one_of(st.sampled_from(SPECIAL), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))


@st.composite
def inputs(draw, shape, dtype):
    """A float tensor: mixed special/random values, or a whole batch of one magnitude (zero variance)."""
    kind = draw(st.sampled_from(["mixed", "constant", "scaled"]))
    if kind == "constant":
        values = np.full(shape, draw(st.sampled_from(SPECIAL)))
    else:
        values = draw(hnp.arrays(np.float64, shape, elements=ELEMENTS))
        if kind == "scaled":  # one magnitude for the whole tensor, random signs and mantissas
            values = np.sign(values) * draw(st.sampled_from([1e-30, 1e-3, 1.0, 1e6]))
    return torch.tensor(values, dtype=dtype)


def vectors(lo, hi):
    return hnp.arrays(np.float64, st.integers(1, 16), elements=st.floats(lo, hi))


def assert_finite_nonnegative(values):
    assert torch.isfinite(values).all(), values
    assert (values >= 0).all(), values


def assert_finite_grads(tensors):
    for t in tensors:
        if t.grad is not None:
            assert torch.isfinite(t.grad).all(), t.grad


def check_alpha_range(alpha, max_alpha):
    # Closed at 0.001: once sigmoid(g) underflows (|g| ~ 1e6), 0.001 + max_alpha·sigmoid(g) is exactly 0.001.
    floor = torch.tensor(kl.ALPHA_FLOOR, dtype=alpha.dtype)
    cap = torch.tensor(max_alpha + kl.ALPHA_FLOOR, dtype=alpha.dtype)
    assert (alpha >= floor).all() and (alpha <= cap).all(), (alpha.min(), alpha.max(), cap)


# --- ibcore.kl --------------------------------------------------------------------------------


@FAST
@given(dtype=DTYPES, max_alpha=st.floats(0.01, 2.0), s=vectors(0.0, 1.0), g=inputs((8,), torch.float64))
def test_log_uniform_nonnegative_zero_at_cap_and_gradient_where_positive(dtype, max_alpha, s, g):
    # α as the layer builds it, from a raw sigmoid in [0, 1] and from sigmoid(g) with extreme g.
    sig = torch.cat([torch.tensor(s), torch.sigmoid(g), torch.ones(1, dtype=torch.float64)]).to(dtype)
    alpha = (kl.ALPHA_FLOOR + max_alpha * sig).requires_grad_()
    values = kl.log_uniform(alpha, max_alpha)
    assert values.dtype == dtype and values.shape == alpha.shape
    assert_finite_nonnegative(values)
    assert values[-1].item() <= 2 * torch.finfo(dtype).eps  # α at its cap: zero, give or take rounding
    values.sum().backward()
    positive = values.detach() > 0
    # clamp_min keeps the gradient where KL > 0: d/dα −log(α / c) = −1/α.
    expected = -1 / alpha.detach()[positive]
    assert torch.allclose(alpha.grad[positive], expected, rtol=1e-5)


@FAST
@given(dtype=DTYPES, mu=vectors(-30, 30), alpha=vectors(1e-3, 3.0), prior_mu=st.floats(-30, 30),
       prior_sigma=st.floats(1e-3, 10.0), equal=st.booleans())
def test_log_normal_is_finite_nonnegative_with_finite_gradients(dtype, mu, alpha, prior_mu, prior_sigma, equal):
    n = min(len(mu), len(alpha))
    mu, alpha = torch.tensor(mu[:n], dtype=dtype), torch.tensor(alpha[:n], dtype=dtype)
    if equal:  # posterior = prior: KL is exactly 0 and rounding must not push it below
        mu, alpha = torch.full_like(mu, prior_mu), torch.full_like(alpha, prior_sigma)
    mu.requires_grad_(), alpha.requires_grad_()
    pm = torch.tensor(prior_mu, dtype=dtype, requires_grad=True)
    ps = torch.tensor(prior_sigma, dtype=dtype, requires_grad=True)
    values = kl.log_normal(mu, alpha, pm, ps)
    assert values.dtype == dtype and values.shape == (n,)
    assert_finite_nonnegative(values)
    if equal:
        assert values.max().item() < 1e-6
    values.sum().backward()
    assert_finite_grads([mu, alpha, pm, ps])
    # clamp_min keeps the gradient where KL > 0: d KL / d α = α / prior_sigma² − 1 / α.
    positive = values.detach() > 0
    a = alpha.detach()[positive]
    expected = a / ps.detach() ** 2 - 1 / a
    tolerance = 1e-4 * (a / ps.detach() ** 2 + 1 / a)  # relative to the two terms, which may cancel
    assert ((alpha.grad[positive] - expected).abs() <= tolerance).all()


@FAST
@given(dtype=DTYPES, mu=vectors(-1e3, 1e3), sigma=vectors(1e-6, 1e3), standard=st.booleans())
def test_gaussian_is_finite_nonnegative_with_finite_gradients(dtype, mu, sigma, standard):
    n = min(len(mu), len(sigma))
    mu, sigma = torch.tensor(mu[:n], dtype=dtype), torch.tensor(sigma[:n], dtype=dtype)
    if standard:  # N(0, 1) against N(0, 1), give or take an ulp
        mu, sigma = mu * 1e-8, 1 + sigma * 1e-9
    mu.requires_grad_(), sigma.requires_grad_()
    values = kl.gaussian(mu, sigma)
    assert values.dtype == dtype and values.shape == (n,)
    assert_finite_nonnegative(values)
    values.sum().backward()
    assert_finite_grads([mu, sigma])


# --- ibcore.layers ----------------------------------------------------------------------------


def run_layer(layer, x, training):
    """Forward (train or eval) and backward through output and KL; return the output."""
    layer.train(training)
    x = x.clone().requires_grad_()
    out = layer(x)
    (out.sum() + layer.kl.sum()).backward()
    assert torch.isfinite(out).all()
    assert torch.isfinite(x.grad).all()
    assert_finite_grads(layer.parameters())
    return out


LAYER_OPTIONS = dict(activation=st.sampled_from(["relu", "softplus"]),
                     prior=st.sampled_from([None, "log-uniform", "log-normal"]),
                     max_alpha=st.one_of(st.sampled_from([0.7, 1.0]), st.floats(0.01, 2.0)),
                     training=st.booleans(), dtype=DTYPES)


@FAST
@given(data=st.data(), batch=st.integers(2, 5), n_in=st.integers(1, 6), n_out=st.integers(1, 6), **LAYER_OPTIONS)
def test_information_dropout_linear(data, batch, n_in, n_out, activation, prior, max_alpha, training, dtype):
    layer = InformationDropout.linear(n_in, n_out, activation=activation, prior=prior,
                                      max_alpha=max_alpha).to(dtype)
    x = data.draw(inputs((batch, n_in), dtype))
    out = run_layer(layer, x, training)
    assert out.shape == (batch, n_out) and out.dtype == dtype
    assert layer.kl.shape == (batch,) and layer.kl.dtype == dtype
    assert layer.kl_map.shape == (batch, n_out)
    assert_finite_nonnegative(layer.kl_map)
    assert_finite_nonnegative(layer.kl)
    with torch.no_grad():
        check_alpha_range(layer.alpha(x), max_alpha)
    assert layer.g.weight.grad is not None


@FAST
@given(data=st.data(), batch=st.integers(2, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
       size=st.integers(1, 6), kernel=st.sampled_from([1, 3]), stride=st.sampled_from([1, 2]), **LAYER_OPTIONS)
def test_information_dropout_conv(data, batch, c_in, c_out, size, kernel, stride, activation, prior, max_alpha,
                                  training, dtype):
    layer = InformationDropout.conv(c_in, c_out, kernel, stride, activation=activation, prior=prior,
                                    max_alpha=max_alpha).to(dtype)
    x = data.draw(inputs((batch, c_in, size, size), dtype))
    out = run_layer(layer, x, training)
    side = (size + 2 * (kernel // 2) - kernel) // stride + 1
    assert out.shape == (batch, c_out, side, side) and out.dtype == dtype
    assert layer.kl.shape == (batch,) and layer.kl.dtype == dtype
    assert layer.kl_map.shape == (batch, side, side)
    assert_finite_nonnegative(layer.kl_map)
    assert_finite_nonnegative(layer.kl)
    with torch.no_grad():
        check_alpha_range(layer.alpha(x), max_alpha)


@FAST
@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=5), alpha=st.floats(0.01, 2.0),
       training=st.booleans(), dtype=DTYPES)
def test_lognormal_dropout(data, shape, alpha, training, dtype):
    layer = LogNormalDropout(alpha)
    x = data.draw(inputs(shape, dtype))
    out = run_layer(layer, x, training)
    assert out.shape == x.shape and out.dtype == dtype
    assert torch.equal(layer.kl, torch.zeros(shape[0], dtype=dtype))
    if training:  # ε = exp(α n) > 0 never flips a sign, and zeros stay zeros
        assert (torch.sign(out) == torch.sign(x)).all()
    else:
        assert torch.equal(out, x)


@FAST
@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=5), p=st.floats(0.0, 0.95),
       training=st.booleans(), dtype=DTYPES)
def test_gaussian_dropout(data, shape, p, training, dtype):
    layer = GaussianDropout(p)
    x = data.draw(inputs(shape, dtype))
    out = run_layer(layer, x, training)
    assert out.shape == x.shape and out.dtype == dtype
    assert torch.equal(layer.kl, torch.zeros(shape[0], dtype=dtype))
    if not training:
        assert torch.equal(out, x)


@FAST
@given(data=st.data(), batch=st.integers(1, 5), n_in=st.integers(1, 6), n_out=st.integers(1, 6),
       training=st.booleans(), dtype=DTYPES)
def test_variational_bottleneck(data, batch, n_in, n_out, training, dtype):
    layer = VariationalBottleneck(n_in, n_out).to(dtype)
    x = data.draw(inputs((batch, n_in), dtype))
    out = run_layer(layer, x, training)
    assert out.shape == (batch, n_out) and out.dtype == dtype
    assert layer.kl.shape == (batch,) and layer.kl.dtype == dtype
    assert_finite_nonnegative(layer.kl)
    assert layer.mu.weight.grad is not None and layer.sigma_pre.weight.grad is not None
