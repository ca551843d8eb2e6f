"""The VAE of §7 (Table I): Kingma & Welling's basic VAE with a Gaussian or an Information
Dropout latent, the Information Dropout loss with y = x (eq. 7)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ibcore.layers import LOG_FLOOR, InformationDropout, VariationalBottleneck, check_choice

LATENTS = ("gaussian", "information")


class VAE(nn.Module):
    """Kingma & Welling's basic VAE (§7, Table I) with a Gaussian or an Information Dropout latent.

    Encoder ``x → tanh(W x)`` (512·k units), latent of 256·k units, decoder
    ``z → tanh(W z) → Bernoulli logits`` over the pixels (Kingma & Welling
    2014, App. C, with tanh hidden units as there).

    * ``latent="gaussian"``: z = μ(x) + σ(x)·n, prior N(0, I): the original VAE
      (:class:`ibcore.layers.VariationalBottleneck`, KL :func:`ibcore.kl.gaussian`).
    * ``latent="information"``: z = f(x)·ε with f = softplus(BN(W h)) and
      log-normal noise ε = exp(α(x)·n), α ≤ ``max_alpha`` + 0.001, prior log z ~ N(μ_j, σ_j²)
      with learned μ_j, σ_j per unit (Prop. 3, eq. 5; an
      :meth:`ibcore.layers.InformationDropout.linear` layer).

    ``model(x)`` returns the decoder's Bernoulli logits for one z ~ q(z|x)
    (noise on in training mode, off in eval mode unless ``noisy=True``); the
    latent layer then holds the per-example KL in ``model.latent.kl``.
    ``hidden``/``latent_dim`` override 512·k/256·k (tiny models for tests).

    With the Information latent the decoder reads log z (``log_decoder_input``,
    default): p(x|z) may be any function of z, and z ↦ log z is a fixed bijection
    that changes neither the KL (invariant under reparametrisation) nor the ELBO's
    meaning; it hands the decoder the coordinate in which q(z|x) and p(z) are
    Gaussian, as the Gaussian VAE's decoder gets z. (A decoder linear in z
    itself trained markedly slower in our trials.)
    """

    def __init__(self, latent: str = "gaussian", k: int = 1, *, in_features: int = 784,
                 hidden: int | None = None, latent_dim: int | None = None,
                 max_alpha: float = 0.7, log_decoder_input: bool = True) -> None:
        super().__init__()
        check_choice("latent", latent, LATENTS)
        if int(k) != k or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        hidden = 512 * int(k) if hidden is None else int(hidden)
        latent_dim = 256 * int(k) if latent_dim is None else int(latent_dim)
        if min(hidden, latent_dim, in_features) < 1:
            raise ValueError(f"sizes must be positive, got in_features={in_features}, "
                             f"hidden={hidden}, latent_dim={latent_dim}")
        self.latent_kind, self.in_features, self.latent_dim = latent, in_features, latent_dim
        self.log_decoder_input = latent == "information" and bool(log_decoder_input)
        self.encoder = nn.Sequential(nn.Linear(in_features, hidden), nn.Tanh())
        if latent == "gaussian":
            self.latent: nn.Module = VariationalBottleneck(hidden, latent_dim)
        else:
            self.latent = InformationDropout.linear(hidden, latent_dim, activation="softplus",
                                                    prior="log-normal", max_alpha=max_alpha)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh(),
                                     nn.Linear(hidden, in_features))

    def _flat(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x[0].numel() != self.in_features:
            raise ValueError(f"VAE expects [batch, {self.in_features}] or images with "
                             f"{self.in_features} pixels, got shape {tuple(x.shape)}")
        return x.flatten(1)

    def forward(self, x: Tensor, noisy: bool | None = None) -> Tensor:
        """Bernoulli logits of p(x|z) for one z ~ q(z|x) (z = its mode/median when the noise is off)."""
        return self.decode(self.latent(self.encoder(self._flat(x)), noisy=noisy))

    def extra_repr(self) -> str:
        return "log_decoder_input=True" if self.log_decoder_input else ""

    def decode(self, z: Tensor) -> Tensor:
        """Bernoulli logits of p(x|z) (the Information latent's decoder reads log z, see above)."""
        if self.log_decoder_input:
            z = torch.log(z.clamp_min(torch.finfo(z.dtype).tiny))
        return self.decoder(z)

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(loc, scale) of the Gaussian that q(z|x) is: of z (gaussian) or of log z (information)."""
        h = self.encoder(self._flat(x))
        if self.latent_kind == "gaussian":
            return self.latent.mu(h), nn.functional.softplus(self.latent.sigma_pre(h)) + 1e-6
        layer = self.latent
        f = layer.act(layer.norm(layer.f(h)))
        return torch.log(f.clamp_min(LOG_FLOOR)), layer.alpha(h)

    def prior_sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n draws of z from the prior p(z): N(0, I), or exp(N(μ_j, σ_j²)) per unit (learned prior)."""
        noise = torch.randn(n, self.latent_dim, generator=generator)
        noise = noise.to(next(self.parameters()).device)
        if self.latent_kind == "gaussian":
            return noise
        return torch.exp(self.latent.prior_mu + self.latent.prior_log_sigma.exp() * noise)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Pixel probabilities p(x = 1 | z) for n draws z ~ p(z), shape [n, in_features]."""
        self.eval()
        return torch.sigmoid(self.decode(self.prior_sample(n, generator)))
