"""Rey & Mnih's hybrid VAE-PixelCNN (§3, Fig. 1; Appendix B) with a bottleneck on the
autoregressive path.

* encoder q(z|x): a ResNet of ELU bottleneck blocks and stride-2 convolutions down to a spatial
  latent grid (4×4 × ``latent_channels``; App. B: 4×4×16), Gaussian with prior N(0, I);
* decoder: a ResNet from z back to the image's size, u [B, ``u_channels``, H, W] (App. B: 256);
* a conditional gated PixelCNN reads x_<j and u and gives v_j [``v_dim``] per pixel (App. B: 10);
* the information bottleneck on v_j: none, Gaussian dropout of rate p
  (:class:`ibcore.layers.GaussianDropout`, no loss term) or a variational bottleneck
  (:class:`ibcore.layers.VariationalBottleneck` on each pixel's v_j, KL to N(0, I));
* the mixer, a one-hidden-layer ELU MLP on [v_j, u_j] (1×1 convolutions; App. B: 266 units),
  gives the parameters of pixel j's distribution (:mod:`ibcore.likelihoods`).

No bottleneck noise in eval mode (App. B: "at test time, we do not inject noise").
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ibcore import kl as kl_terms
from ibcore.layers import GaussianDropout, VariationalBottleneck, check_choice
from ibcore.likelihoods import Bernoulli, DiscretizedLogisticMixture
from ibcore.models.pixelcnn import GatedPixelCNN

BOTTLENECKS = ("none", "gaussian", "variational")


class ElboTerms(NamedTuple):
    """Per-example terms in nats, each [batch]: −log p(x|z) for one z ~ q(z|x), KL(q(z|x) ‖ p(z)),
    and Σ_j KL(p(v_j | x_<j, z) ‖ N(0, I)) of a variational bottleneck (zeros otherwise)."""

    nll: Tensor
    kl: Tensor
    bottleneck_kl: Tensor


def stage_sizes(size: int, downsamplings: int) -> list[int]:
    """Spatial sizes after each stride-2, padding-1, 3×3 convolution: ⌈s/2⌉ (28 → 14 → 7 → 4)."""
    sizes = [size]
    for _ in range(downsamplings):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class ResBlock(nn.Module):
    """x + 1×1(ELU(3×3(ELU(1×1(ELU(x)))))): a bottleneck residual block with ELU (App. B:
    512 channels, 128 in the bottleneck; here ``channels`` and ``channels // 4``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(1, channels // 4)
        self.body = nn.Sequential(nn.ELU(), nn.Conv2d(channels, inner, 1), nn.ELU(),
                                  nn.Conv2d(inner, inner, 3, padding=1), nn.ELU(), nn.Conv2d(inner, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def _blocks(channels: int, n: int) -> list[nn.Module]:
    return [ResBlock(channels) for _ in range(n)]


class Encoder(nn.Module):
    """x → (μ, σ) of q(z|x), each [B, latent_channels, s, s]: a 3×3 stem, then per stage
    ``blocks`` residual blocks and a stride-2 convolution, ``blocks`` more, a 1×1 head."""

    def __init__(self, in_channels: int, width: int, blocks: int, latent_channels: int, downsamplings: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 3, padding=1)]
        for _ in range(downsamplings):
            layers += [*_blocks(width, blocks), nn.Conv2d(width, width, 3, stride=2, padding=1)]
        layers += [*_blocks(width, blocks), nn.ELU(), nn.Conv2d(width, 2 * latent_channels, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, sigma_pre = self.net(x).chunk(2, dim=1)
        return mu, F.softplus(sigma_pre) + 1e-6


class Decoder(nn.Module):
    """z → u [B, u_channels, H, W]: the encoder's stages in reverse, each a nearest-neighbour
    upsampling to the stage's exact size, a 3×3 convolution and ``blocks`` residual blocks."""

    def __init__(self, latent_channels: int, width: int, blocks: int, u_channels: int, sizes: list[int]) -> None:
        super().__init__()
        self.sizes = sizes[-2::-1]                     # e.g. [7, 14, 28] from the latent grid 4
        self.stem = nn.Sequential(nn.Conv2d(latent_channels, width, 3, padding=1), *_blocks(width, blocks))
        self.stages = nn.ModuleList(nn.Sequential(nn.Conv2d(width, width, 3, padding=1), *_blocks(width, blocks))
                                    for _ in self.sizes)
        self.head = nn.Sequential(nn.ELU(), nn.Conv2d(width, u_channels, 1))

    def forward(self, z: Tensor) -> Tensor:
        h = self.stem(z)
        for size, stage in zip(self.sizes, self.stages):
            h = stage(F.interpolate(h, size=(size, size), mode="nearest"))
        return self.head(h)


class VAEPixelCNN(nn.Module):
    """The hybrid model of Rey & Mnih §3. ``model(x)`` returns :class:`ElboTerms` per example
    (one z ~ q(z|x), sampled in train and eval mode alike: the ELBO is an expectation over q);
    the bottleneck's noise is on in training mode only. The objective is
    ``nll + kl + β·bottleneck_kl`` (eq. 6, and L_VBL for the variational bottleneck), see
    ``ibcore.train.fit(..., objective="elbo")``.

    ``likelihood``: :class:`~ibcore.likelihoods.Bernoulli` (binarised MNIST, x ∈ {0, 1}) or
    :class:`~ibcore.likelihoods.DiscretizedLogisticMixture` (CIFAR-10, x on the 256 levels of
    [−1, 1]). ``bottleneck``: ``"none"``, ``"gaussian"`` (rate ``p``) or ``"variational"``.
    """

    def __init__(self, likelihood: Bernoulli | DiscretizedLogisticMixture, *, image_size: int,
                 bottleneck: str = "none", p: float = 0.0, vae_width: int = 64, vae_blocks: int = 1,
                 latent_channels: int = 16, downsamplings: int = 3, u_channels: int = 64,
                 pixelcnn_channels: int = 64, pixelcnn_layers: int = 8, kernel: int = 5,
                 pixelcnn_dropout: float = 0.0, v_dim: int = 10, mixer_hidden: int = 266) -> None:
        super().__init__()
        check_choice("bottleneck", bottleneck, BOTTLENECKS)
        if min(image_size, vae_width, latent_channels, u_channels, v_dim, mixer_hidden) < 1 or downsamplings < 0:
            raise ValueError("sizes must be positive (downsamplings >= 0)")
        if bottleneck == "gaussian" and not 0 < p < 1:
            raise ValueError(f"Gaussian dropout needs a rate p in (0, 1), got {p!r}")
        channels = likelihood.channels
        self.likelihood, self.channels, self.image_size = likelihood, channels, image_size
        self.bottleneck_kind = bottleneck
        sizes = stage_sizes(image_size, downsamplings)
        self.latent_shape = (latent_channels, sizes[-1], sizes[-1])
        self.encoder = Encoder(channels, vae_width, vae_blocks, latent_channels, downsamplings)
        self.decoder = Decoder(latent_channels, vae_width, vae_blocks, u_channels, sizes)
        self.pixelcnn = GatedPixelCNN(channels, v_dim, channels=pixelcnn_channels, layers=pixelcnn_layers,
                                      kernel=kernel, cond_channels=u_channels, dropout=pixelcnn_dropout)
        self.bottleneck: nn.Module = {"none": nn.Identity, "gaussian": lambda: GaussianDropout(p),
                                      "variational": lambda: VariationalBottleneck(v_dim, v_dim)}[bottleneck]()
        self.mixer = nn.Sequential(nn.Conv2d(v_dim + u_channels, mixer_hidden, 1), nn.ELU(),
                                   nn.Conv2d(mixer_hidden, likelihood.n_params, 1))

    def _check(self, x: Tensor) -> None:
        expected = (self.channels, self.image_size, self.image_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"VAEPixelCNN expects images [batch, {', '.join(map(str, expected))}], "
                             f"got {tuple(x.shape)}")

    def squeeze_v(self, v: Tensor) -> tuple[Tensor, Tensor]:
        """The bottleneck on each pixel's v_j: (noisy v [B, v_dim, H, W], Σ_j KL_j per example [B])."""
        if self.bottleneck_kind != "variational":
            return self.bottleneck(v), v.new_zeros(v.shape[0])
        b, d, h, w = v.shape
        out = self.bottleneck(v.permute(0, 2, 3, 1).reshape(b * h * w, d))   # one row per pixel
        return out.reshape(b, h, w, d).permute(0, 3, 1, 2), self.bottleneck.kl.reshape(b, h * w).sum(1)

    def pixel_params(self, x: Tensor, u: Tensor) -> tuple[Tensor, Tensor]:
        """(distribution parameters of every pixel [B, n_params, H, W], Σ_j KL_j [B]) given the
        image x (read causally by the PixelCNN) and the decoded latents u."""
        v, bottleneck_kl = self.squeeze_v(self.pixelcnn(x, u))
        return self.mixer(torch.cat([v, u], dim=1)), bottleneck_kl

    def forward(self, x: Tensor) -> ElboTerms:
        self._check(x)
        mu, sigma = self.encoder(x)
        z = mu + sigma * torch.randn_like(mu)
        params, bottleneck_kl = self.pixel_params(x, self.decoder(z))
        nll = -self.likelihood.log_prob(params.float(), x.float()).flatten(1).sum(1)   # fp32 under autocast
        return ElboTerms(nll, kl_terms.gaussian(mu, sigma).flatten(1).sum(1), bottleneck_kl)

    def extra_repr(self) -> str:
        return f"likelihood={self.likelihood!r}, bottleneck={self.bottleneck_kind}"

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, z: Tensor | None = None) -> Tensor:
        """n images drawn pixel by pixel in raster order, the batch at once, in eval mode (no
        bottleneck noise): z ~ N(0, I) (or the given z [n, *latent_shape]), u = decoder(z), then
        each x_j ~ p(x_j | x_<j, z). Random draws come from ``generator`` (CPU) when given."""
        if n < 1:
            raise ValueError(f"n must be positive, got {n}")
        self.eval()
        device = next(self.parameters()).device
        if z is None:
            z = torch.randn(n, *self.latent_shape, generator=generator)
        if tuple(z.shape) != (n, *self.latent_shape):
            raise ValueError(f"z must be [{n}, {', '.join(map(str, self.latent_shape))}], got {tuple(z.shape)}")
        u = self.decoder(z.to(device))
        x = torch.zeros(n, self.channels, self.image_size, self.image_size, device=device)
        for i in range(self.image_size):
            for j in range(self.image_size):
                rows, cols = self.pixelcnn.context(i, j, self.image_size)   # the window pixel (i, j) sees
                v = self.pixelcnn(x[:, :, rows, cols], u[:, :, rows, cols])
                v = v[:, :, i - rows.start:i - rows.start + 1, j - cols.start:j - cols.start + 1]
                params = self.mixer(torch.cat([self.squeeze_v(v)[0], u[:, :, i:i + 1, j:j + 1]], dim=1))
                x[:, :, i, j] = self.likelihood.sample(params, generator)[:, :, 0, 0]
        return x
