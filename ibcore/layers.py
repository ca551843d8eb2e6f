"""Bottleneck layers: multiplicative (or additive) noise on a layer's activations.

Every layer here subclasses :class:`Bottleneck`. After a forward pass it
exposes ``.kl``: a per-example tensor ``[batch]`` holding the KL term of the
IB Lagrangian summed over the layer's units (zeros for layers without one).
The training loop adds ``β · mean_batch(.kl) / N_train`` per layer to the
cross-entropy (eq. 3; the normalisation of the original code).

Noise is on in training mode and off (ε = 1) in eval mode, unless a call
passes ``noisy=True``/``noisy=False`` explicitly. Binary dropout is plain
:class:`torch.nn.Dropout`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ibcore import kl as kl_terms

ACTIVATIONS = ("relu", "softplus")
PRIORS = ("log-uniform", "log-normal")
#: The prior that fits each activation (§6, Fig. 1): ReLU → log-uniform, Softplus → log-normal.
DEFAULT_PRIOR = {"relu": "log-uniform", "softplus": "log-normal"}
#: Activations below this are clamped before the log in the log-normal KL (as the original code).
LOG_FLOOR = 1e-4


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
    return value


def check_rank(x: Tensor, rank: int, layer: str) -> None:
    if x.dim() != rank:
        shape = "[batch, features]" if rank == 2 else "[batch, channels, height, width]"
        raise ValueError(f"{layer} expects a {rank}-D input {shape}, got shape {tuple(x.shape)}")


def activation_module(name: str) -> nn.Module:
    """``nn.ReLU()`` or ``nn.Softplus()`` by name."""
    return {"relu": nn.ReLU, "softplus": nn.Softplus}[check_choice("activation", name, ACTIVATIONS)]()


def standard_normal_like(t: Tensor) -> Tensor:
    """n ~ N(0, 1) of ``t``'s shape, dtype, device and memory format.

    Drawn over the tensor's storage in one dense pass: ``torch.randn_like`` of a channels_last
    tensor takes a strided path that is 8× slower on CPU (16 vs 1.9 ms for 128 × 24 × 16 × 16
    values on one thread). For a contiguous tensor the values equal ``torch.randn_like``'s.
    """
    noise = torch.empty_like(t)
    dense = noise.is_contiguous() or noise.is_contiguous(memory_format=torch.channels_last)
    (noise.as_strided((noise.numel(),), (1,)) if dense else noise).normal_()
    return noise


def lognormal_noise(shape_like: Tensor, alpha: Tensor | float) -> Tensor:
    """ε = exp(α·n), n ~ N(0, 1): median 1, mean exp(α²/2) (§6).

    Sampled by reparametrisation, so gradients flow to α.
    """
    return torch.exp(alpha * standard_normal_like(shape_like))


class Bottleneck(nn.Module):
    """Base class: a noisy layer that reports its KL term in ``.kl`` after each forward pass."""

    kl: Tensor

    def _noise_on(self, noisy: bool | None) -> bool:
        return self.training if noisy is None else noisy

    def _no_kl(self, x: Tensor) -> None:
        self.kl = x.new_zeros(x.shape[0])


class InformationDropout(Bottleneck):
    """Information Dropout (Achille & Soatto, §6): z = ε ⊙ f(x), ε ~ logN(0, α(x)²).

    ``f`` is a linear or convolutional map followed by BatchNorm and the
    activation; the noise scale comes from a branch ``g`` of the same shape,
    α(x) = 0.001 + max_alpha · sigmoid(g(x)). The KL term per unit is
    Prop. 2 (ReLU, log-uniform prior, :func:`ibcore.kl.log_uniform`) or
    Prop. 3, eq. 5 (Softplus, log-normal prior with learned per-channel μ and
    σ, :func:`ibcore.kl.log_normal`).

    After a forward pass, ``.kl`` holds the per-example KL ``[batch]`` and
    ``.kl_map`` the KL per spatial location summed over channels
    ``[batch, H, W]`` (conv) or per unit ``[batch, features]`` (linear): the
    quantity Fig. 2 plots. Build it with :meth:`linear` or :meth:`conv`.
    """

    def __init__(self, f: nn.Module, g: nn.Module, norm: nn.Module, *, out_channels: int,
                 input_rank: int, activation: str = "relu", prior: str | None = None,
                 max_alpha: float = 0.7) -> None:
        super().__init__()
        activation = check_choice("activation", activation, ACTIVATIONS)
        prior = DEFAULT_PRIOR[activation] if prior is None else check_choice("prior", prior, PRIORS)
        if not max_alpha > 0:
            raise ValueError(f"max_alpha must be > 0, got {max_alpha!r}")
        self.f, self.g, self.norm = f, g, norm
        self.act = activation_module(activation)
        self.activation, self.prior, self.max_alpha = activation, prior, float(max_alpha)
        self.input_rank = input_rank
        #: Compute f and g by one conv/linear of twice the outputs (:meth:`branches`); False: two calls.
        self.fused = fusable(f, g)
        if prior == "log-normal":
            # Learned prior log z ~ N(μ, σ²), one (μ, σ) per channel; σ = exp(log σ) > 0.
            self.prior_mu = nn.Parameter(torch.zeros(out_channels))
            self.prior_log_sigma = nn.Parameter(torch.zeros(out_channels))

    @classmethod
    def linear(cls, in_features: int, out_features: int, *, activation: str = "relu",
               prior: str | None = None, max_alpha: float = 0.7) -> "InformationDropout":
        """A fully connected Information Dropout layer: f = act(BN(W x)), g = W' x + b'."""
        return cls(nn.Linear(in_features, out_features, bias=False),
                   nn.Linear(in_features, out_features),
                   nn.BatchNorm1d(out_features), out_channels=out_features, input_rank=2,
                   activation=activation, prior=prior, max_alpha=max_alpha)

    @classmethod
    def conv(cls, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 2,
             padding: int | None = None, *, activation: str = "relu", prior: str | None = None,
             max_alpha: float = 0.7) -> "InformationDropout":
        """A convolutional Information Dropout layer replacing a (stride-2) conv of Table II.

        f = act(BN(conv(x))), and g is a conv with the same kernel and stride,
        as in the original code's ``information_dropout(inputs, stride=2)``.
        """
        padding = kernel_size // 2 if padding is None else padding
        return cls(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
                   nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
                   nn.BatchNorm2d(out_channels), out_channels=out_channels, input_rank=4,
                   activation=activation, prior=prior, max_alpha=max_alpha)

    def branches(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(f's conv/linear output before BatchNorm, g(x)) for the input ``x``.

        f and g read the same input with the same kernel and stride, so one convolution (or matmul)
        with their weights stacked, 2 × out_channels outputs, computes both and is split in two:
        the cost of a plain layer on CPU (issue 26 item 4). f's half of the bias is f's own (none:
        zeros, untrained), so the values equal the two separate calls up to float summation order.
        """
        if not self.fused:
            return self.f(x), self.g(x)
        f, g = self.f, self.g
        weight = torch.cat((f.weight, g.weight))
        bias = torch.cat(tuple(m.bias if m.bias is not None else m.weight.new_zeros(m.weight.shape[0])
                               for m in (f, g)))
        both = g._conv_forward(x, weight, bias) if isinstance(g, nn.Conv2d) else F.linear(x, weight, bias)
        # Each half dense in the output's layout: elementwise ops and BatchNorm run 4× slower on a
        # channel slice of a channels_last tensor than on a dense copy (the copy costs 1/5 of one).
        layout = (torch.channels_last if both.dim() == 4 and both.is_contiguous(memory_format=torch.channels_last)
                  else torch.contiguous_format)
        return tuple(h.contiguous(memory_format=layout)
                     for h in both.split((f.weight.shape[0], g.weight.shape[0]), dim=1))

    def alpha(self, x: Tensor, g_out: Tensor | None = None) -> Tensor:
        """The noise scale α(x) = 0.001 + max_alpha · sigmoid(g(x)), in [0.001, max_alpha + 0.001].

        (The ends are reached only where sigmoid(g(x)) rounds to 0 or 1.) ``g_out``: g(x) if
        already computed.
        """
        g_out = self.g(x) if g_out is None else g_out
        alpha = kl_terms.ALPHA_FLOOR + self.max_alpha * torch.sigmoid(g_out)
        # Clamp: in float32 the sum can round 1 ulp above the cap (e.g. max_alpha = 1.1 where sigmoid = 1).
        return alpha.clamp_max(self.max_alpha + kl_terms.ALPHA_FLOOR)

    def unit_kl(self, activations: Tensor, alpha: Tensor) -> Tensor:
        """Per-unit KL(p(z|x) ‖ q(z)), same shape as the activations (Prop. 2 or Prop. 3)."""
        if self.prior == "log-uniform":
            return kl_terms.log_uniform(alpha, self.max_alpha)
        shape = (1, -1) + (1,) * (activations.dim() - 2)  # per-channel prior, broadcast
        mu = torch.log(activations.clamp_min(LOG_FLOOR))
        return kl_terms.log_normal(mu, alpha, self.prior_mu.view(shape),
                                   self.prior_log_sigma.exp().view(shape))

    def forward(self, x: Tensor, noisy: bool | None = None) -> Tensor:
        check_rank(x, self.input_rank, type(self).__name__)
        f_out, g_out = self.branches(x)
        activations = self.act(self.norm(f_out))
        alpha = self.alpha(x, g_out)
        unit_kl = self.unit_kl(activations, alpha)
        # Per-location KL summed over channels ([batch, H, W]) for conv layers, per unit otherwise.
        self.kl_map = unit_kl.sum(1) if unit_kl.dim() == 4 else unit_kl
        self.kl = self.kl_map.flatten(1).sum(1)
        if self._noise_on(noisy):
            return activations * lognormal_noise(activations, alpha)
        return activations

    def extra_repr(self) -> str:
        return (f"activation={self.activation}, prior={self.prior}, max_alpha={self.max_alpha}, "
                f"fused={self.fused}")


def fusable(f: nn.Module, g: nn.Module) -> bool:
    """Whether f and g are two convs of one geometry (or two linear layers), so that one call of
    stacked weights computes both (:meth:`InformationDropout.branches`)."""
    if type(f) is not type(g) or type(f) not in (nn.Linear, nn.Conv2d):
        return False
    geometry = ("in_features",) if isinstance(f, nn.Linear) else (
        "in_channels", "kernel_size", "stride", "padding", "dilation", "groups", "padding_mode")
    return all(getattr(f, a) == getattr(g, a) for a in geometry)


class LogNormalDropout(Bottleneck):
    """Constant log-normal noise, ε = exp(α·n) with a fixed α: the §8 baseline of Fig. 3a.

    α = 0.7 gives Var ε = (e^{α²} − 1) e^{α²} ≈ 1.03, the variance of binary
    dropout at p = 0.5. No loss term: ``.kl`` is zero.
    """

    def __init__(self, alpha: float = 0.7) -> None:
        super().__init__()
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x: Tensor, noisy: bool | None = None) -> Tensor:
        self._no_kl(x)
        return x * lognormal_noise(x, self.alpha) if self._noise_on(noisy) else x

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


def dropout_sigma(p: float) -> float:
    """σ(p) = sqrt(p / (1 − p)): the Gaussian-dropout noise matching binary dropout of rate p."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout rate p must be in [0, 1), got {p!r}")
    return math.sqrt(p / (1 - p))


class GaussianDropout(Bottleneck):
    """Gaussian dropout (Wang & Manning 2013; Rey & Mnih, Thm. 1): y = x·ε, ε ~ N(1, σ²).

    σ = sqrt(p / (1 − p)) for a dropout rate p. The bottleneck needs no loss
    term (Rey & Mnih, eq. 5 bounds I(X; Y) by σ alone): ``.kl`` is zero.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = float(p)
        self.sigma = dropout_sigma(self.p)

    def forward(self, x: Tensor, noisy: bool | None = None) -> Tensor:
        self._no_kl(x)
        if self._noise_on(noisy) and self.sigma > 0:
            return x * (1 + self.sigma * standard_normal_like(x))
        return x

    def extra_repr(self) -> str:
        return f"p={self.p}, sigma={self.sigma:.4g}"


class VariationalBottleneck(Bottleneck):
    """The Deep Variational IB layer (Alemi et al. 2016): z = μ(x) + σ(x)·n, additive noise.

    μ and σ are linear heads; σ = softplus(·) + 1e-6 > 0. The KL term is
    KL(N(μ, σ²) ‖ N(0, I)) summed over units (:func:`ibcore.kl.gaussian`).
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.mu = nn.Linear(in_features, out_features)
        self.sigma_pre = nn.Linear(in_features, out_features)

    def forward(self, x: Tensor, noisy: bool | None = None) -> Tensor:
        check_rank(x, 2, type(self).__name__)
        mu = self.mu(x)
        sigma = nn.functional.softplus(self.sigma_pre(x)) + 1e-6
        self.kl = kl_terms.gaussian(mu, sigma).sum(1)
        return mu + sigma * torch.randn_like(mu) if self._noise_on(noisy) else mu


def bottlenecks(model: nn.Module) -> list[Bottleneck]:
    """The bottleneck layers of a model, in forward order of registration."""
    return [m for m in model.modules() if isinstance(m, Bottleneck)]


def kl_loss(model: nn.Module, n_train: int) -> Tensor:
    """Lz = Σ_layers mean_batch(.kl) / N_train (eq. 3, normalised as the original code)."""
    if n_train <= 0:
        raise ValueError(f"n_train must be positive, got {n_train}")
    terms = [layer.kl.mean() for layer in bottlenecks(model) if hasattr(layer, "kl")]
    if not terms:
        return torch.zeros(())
    return torch.stack(terms).sum() / n_train
