"""Per-pixel likelihoods of autoregressive image decoders, and nats → bits per dimension.

A likelihood turns the decoder's output ``params [batch, n_params, H, W]`` into the log
probability of each pixel (all its channels jointly), ``log_prob(params, x) -> [batch, H, W]``
in nats, and draws pixels from it, ``sample(params, generator) -> [batch, channels, H, W]``.

* :class:`Bernoulli`: binarised images, x ∈ {0, 1}, one logit per channel.
* :class:`DiscretizedLogisticMixture`: 8-bit images scaled to [−1, 1] (:func:`to_symmetric`),
  Salimans et al. 2017 (PixelCNN++, §2.1–2.2): a mixture of K logistics discretised to 256
  bins, with the colour channels of a pixel conditioned on its earlier channels through
  linear coefficients. Rey & Mnih use it with K = 10 on CIFAR-10 (Appendix B).

Test ELBOs are reported in bits per dimension (:func:`bits_per_dim`), as Rey & Mnih's Fig. 2.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

#: Number of intensity levels of an 8-bit channel.
LEVELS = 256
#: Lower bound on a logistic's log scale (as PixelCNN++): keeps every bin's probability finite.
MIN_LOG_SCALE = -7.0
#: Level k of [0, 255] sits at k / HALF_RANGE − 1 in [−1, 1] (127.5 is exact in floating point).
HALF_RANGE = (LEVELS - 1) / 2


def bits_per_dim(nats: Tensor | float, dims: int) -> Tensor | float:
    """A negative log-likelihood (or −ELBO, or KL) of one image in nats → bits per dimension.

    ``dims`` is the number of dimensions of an image, C·H·W (784 for MNIST, 3,072 for
    CIFAR-10): bits/dim = nats / (dims · ln 2).
    """
    if int(dims) != dims or dims < 1:
        raise ValueError(f"dims must be a positive integer (C·H·W), got {dims!r}")
    return nats / (dims * math.log(2))


def to_symmetric(images: Tensor) -> Tensor:
    """Images in [0, 1] (k/255) → the 256 levels of [−1, 1] that :class:`DiscretizedLogisticMixture` models."""
    if images.numel() and not (images.min() >= 0 and images.max() <= 1):
        raise ValueError("images must lie in [0, 1]")
    return torch.round(images * (LEVELS - 1)) / HALF_RANGE - 1


def from_symmetric(x: Tensor) -> Tensor:
    """The inverse of :func:`to_symmetric` for storage and display: [−1, 1] → [0, 1], clipped."""
    return ((x + 1) / 2).clamp(0, 1)


def _check_shapes(params: Tensor, x: Tensor | None, n_params: int, channels: int, name: str) -> None:
    if params.dim() != 4 or params.shape[1] != n_params:
        raise ValueError(f"{name} expects params [batch, {n_params}, H, W], got {tuple(params.shape)}")
    if x is not None and (x.dim() != 4 or x.shape[1] != channels
                          or x.shape[0] != params.shape[0] or x.shape[2:] != params.shape[2:]):
        raise ValueError(f"{name} expects x [batch, {channels}, H, W] matching params "
                         f"{tuple(params.shape)}, got {tuple(x.shape)}")


def _uniform(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None) -> Tensor:
    """U(0, 1) draws on ``like``'s device, from ``generator`` (a CPU generator) when given."""
    if generator is None:
        return torch.rand(shape, dtype=like.dtype, device=like.device)
    return torch.rand(shape, generator=generator, dtype=like.dtype).to(like.device)


class Bernoulli:
    """Independent Bernoulli channels: ``params`` are the logits, x ∈ {0, 1}."""

    def __init__(self, channels: int = 1) -> None:
        if int(channels) != channels or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        self.channels = int(channels)
        self.n_params = self.channels

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        """log p(x_j) per pixel [batch, H, W], summed over channels (nats)."""
        _check_shapes(params, x, self.n_params, self.channels, "Bernoulli")
        return -F.binary_cross_entropy_with_logits(params, x, reduction="none").sum(1)

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """x ~ Bernoulli(sigmoid(params)), as floats in {0, 1}."""
        _check_shapes(params, None, self.n_params, self.channels, "Bernoulli")
        return (_uniform(tuple(params.shape), params, generator) < torch.sigmoid(params)).to(params.dtype)

    def __repr__(self) -> str:
        return f"Bernoulli(channels={self.channels})"


class DiscretizedLogisticMixture:
    """Mixture of ``components`` discretised logistics with conditional colour channels
    (Salimans et al. 2017, eq. 2 and §2.2), over x ∈ {−1, −1 + 2/255, …, 1}.

    Per pixel and component k the parameters are a mixture logit, a mean μ_kc and a log
    scale s_kc per channel, and one coefficient per pair of channels c' < c (tanh-squashed).
    Channel c is logistic with mean μ_kc + Σ_{c'<c} coeff_k(c', c)·x_c'; each bin's
    probability is the logistic CDF's increase over the bin, [x − 1/255, x + 1/255], the edge
    bins taking all the mass below −1 + 1/255 or above 1 − 1/255. For 3 channels this is
    PixelCNN++'s μ_G + α·x_R, μ_B + β·x_R + γ·x_G (10 parameters per component).

    ``params`` are ordered [logits (K), means (K·C), log scales (K·C), coefficients (K·P)],
    P = C(C − 1)/2, each block component-major.
    """

    def __init__(self, channels: int = 3, components: int = 10) -> None:
        if int(channels) != channels or channels < 1 or int(components) != components or components < 1:
            raise ValueError(f"channels and components must be positive integers, got {channels!r}, "
                             f"{components!r}")
        self.channels, self.components = int(channels), int(components)
        self.pairs = self.channels * (self.channels - 1) // 2
        self.n_params = self.components * (1 + 2 * self.channels + self.pairs)

    def _split(self, params: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(logits [B, K, H, W], means, log scales [B, K, C, H, W], coefficients [B, K, P, H, W])."""
        b, _, h, w = params.shape
        k, c = self.components, self.channels
        logits, means, log_scales, coeffs = params.split([k, k * c, k * c, k * self.pairs], dim=1)
        return (logits, means.reshape(b, k, c, h, w),
                log_scales.reshape(b, k, c, h, w).clamp_min(MIN_LOG_SCALE),
                torch.tanh(coeffs.reshape(b, k, self.pairs, h, w)))

    @staticmethod
    def _pair(earlier: int, channel: int) -> int:
        """Index of the coefficient of channel ``earlier`` in the mean of ``channel`` (earlier < channel)."""
        return channel * (channel - 1) // 2 + earlier

    def _channel_mean(self, means: Tensor, coeffs: Tensor, x: Tensor, c: int) -> Tensor:
        """μ_kc + Σ_{c'<c} coeff_k(c', c)·x_c' ([B, K, H, W]); ``x`` [B, C' ≥ c, H, W]."""
        mean = means[:, :, c]
        for earlier in range(c):
            mean = mean + coeffs[:, :, self._pair(earlier, c)] * x[:, None, earlier]
        return mean

    def component_log_probs(self, params: Tensor, x: Tensor) -> Tensor:
        """log p_k(x_c | x_<c) of each component k and channel c given the earlier channels of the
        same pixel, [B, K, C, H, W] (nats); each sums (in probability) to 1 over the 256 levels."""
        _check_shapes(params, x, self.n_params, self.channels, "DiscretizedLogisticMixture")
        if x.numel() and not (x.min() >= -1 and x.max() <= 1):
            raise ValueError("x must lie in [-1, 1] (see to_symmetric)")
        _, means, log_scales, coeffs = self._split(params)
        mean = torch.stack([self._channel_mean(means, coeffs, x, c) for c in range(self.channels)], 2)
        half_bin, inv_scale = 1 / (LEVELS - 1), torch.exp(-log_scales)
        upper = inv_scale * (x[:, None] - mean + half_bin)   # CDF argument at the bin's upper edge
        lower = inv_scale * (x[:, None] - mean - half_bin)
        # log(σ(upper) − σ(lower)) without cancellation: σ(a) − σ(b) = e^a(1 − e^(b−a)) / ((1+e^a)(1+e^b)).
        log_mid = -F.softplus(-upper) - F.softplus(lower) + torch.log(-torch.expm1(lower - upper))
        log_first = -F.softplus(-upper)    # the bin of level 0 holds all mass below −1 + 1/255
        log_last = -F.softplus(lower)      # the bin of level 255 holds all mass above 1 − 1/255
        x = x[:, None].expand_as(mean)
        return torch.where(x < -1 + half_bin, log_first, torch.where(x > 1 - half_bin, log_last, log_mid))

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        """log p(x_j) per pixel [batch, H, W] (nats): log Σ_k π_k Π_c p_k(x_c | x_<c)."""
        per_component = self.component_log_probs(params, x).sum(2)           # checks the shapes first
        return torch.logsumexp(torch.log_softmax(self._split(params)[0], dim=1) + per_component, dim=1)

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One draw per pixel [B, C, H, W] on the 256 levels of [−1, 1]: a component k ~ π
        (Gumbel-max), then each channel from its logistic given the channels already drawn."""
        _check_shapes(params, None, self.n_params, self.channels, "DiscretizedLogisticMixture")
        logits, means, log_scales, coeffs = self._split(params)
        b, k, h, w = logits.shape
        gumbel = -torch.log(-torch.log(_uniform((b, k, h, w), params, generator).clamp(1e-10, 1 - 1e-7)))
        chosen = (logits + gumbel).argmax(1, keepdim=True)                        # [B, 1, H, W]

        def pick(t: Tensor) -> Tensor:  # [B, K, n, H, W] → the chosen component's [B, 1, n, H, W]
            return t.gather(1, chosen[:, :, None].expand(-1, 1, t.shape[2], -1, -1))

        means, log_scales, coeffs = pick(means), pick(log_scales), pick(coeffs)
        u = _uniform((b, self.channels, h, w), params, generator).clamp(1e-5, 1 - 1e-5)
        logistic = torch.log(u) - torch.log1p(-u)
        x = torch.zeros(b, self.channels, h, w, dtype=params.dtype, device=params.device)
        for c in range(self.channels):
            mean = self._channel_mean(means, coeffs, x, c)[:, 0]
            value = (mean + torch.exp(log_scales[:, 0, c]) * logistic[:, c]).clamp(-1, 1)
            x[:, c] = torch.round((value + 1) * HALF_RANGE) / HALF_RANGE - 1
        return x

    def __repr__(self) -> str:
        return f"DiscretizedLogisticMixture(channels={self.channels}, components={self.components})"
