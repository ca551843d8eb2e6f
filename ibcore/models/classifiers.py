"""The classifiers of the experiments: the MNIST MLP, All-CNN-32/96 (Table II), the nuisance head (Fig. 4).

Every hidden layer is linear/conv → BatchNorm → activation (Table II adds
BatchNorm before each activation). Where Table II marks "dropout", the chosen
kind is applied; Information Dropout instead *replaces* the preceding
stride-2 conv (or each hidden linear layer of the MLP), computing the noise
scale from that layer's input as in the original code.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

from torch import Tensor, nn

from ibcore.layers import (ACTIVATIONS, GaussianDropout, InformationDropout, LogNormalDropout,
                           activation_module, check_choice, check_rank)

DROPOUTS = ("none", "binary", "lognormal", "information", "gaussian")


class Noise(NamedTuple):
    """Which dropout, and its strength: rate p (binary, Gaussian), α (log-normal), max α (information)."""

    kind: str = "none"
    p: float = 0.5
    alpha: float = 0.7
    max_alpha: float = 0.7
    activation: str = "relu"

    def validated(self) -> "Noise":
        check_choice("dropout", self.kind, DROPOUTS)
        check_choice("activation", self.activation, ACTIVATIONS)
        if not 0 <= self.p < 1:
            raise ValueError(f"dropout rate p must be in [0, 1), got {self.p!r}")
        if not self.max_alpha > 0:
            raise ValueError(f"max_alpha must be > 0, got {self.max_alpha!r}")
        return self


def _fixed_noise(noise: Noise) -> list[nn.Module]:
    """The dropout module applied after an activation (none for 'none' and 'information')."""
    if noise.kind == "binary":
        return [nn.Dropout(noise.p)]
    if noise.kind == "lognormal":
        return [LogNormalDropout(noise.alpha)]
    if noise.kind == "gaussian":
        return [GaussianDropout(noise.p)]
    return []


def dense_block(in_features: int, out_features: int, noise: Noise) -> list[nn.Module]:
    """Linear → BN → activation → dropout, or one Information Dropout layer."""
    if noise.kind == "information":
        return [InformationDropout.linear(in_features, out_features, activation=noise.activation,
                                          max_alpha=noise.max_alpha)]
    return [nn.Linear(in_features, out_features, bias=False), nn.BatchNorm1d(out_features),
            activation_module(noise.activation), *_fixed_noise(noise)]


def conv_block(in_channels: int, out_channels: int, kernel_size: int, stride: int,
               noise: Noise | None) -> list[nn.Module]:
    """Conv → BN → activation, then the dropout of ``noise`` (None: a plain layer).

    With Information Dropout the conv itself becomes the noisy layer.
    """
    activation = noise.activation if noise else "relu"
    if noise is not None and noise.kind == "information":
        return [InformationDropout.conv(in_channels, out_channels, kernel_size, stride,
                                        activation=noise.activation, max_alpha=noise.max_alpha)]
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels), activation_module(activation)]
    return layers + (_fixed_noise(noise) if noise is not None else [])


class MLP(nn.Module):
    """Fully connected classifier of §8 / Fig. 3a: ``len(hidden)`` noisy hidden layers.

    Input images are flattened; output are class logits.
    """

    def __init__(self, hidden: Sequence[int] = (1024, 1024, 1024), dropout: str = "none", *,
                 in_features: int = 784, n_classes: int = 10, activation: str = "relu",
                 p: float = 0.5, alpha: float = 0.7, max_alpha: float = 0.7) -> None:
        super().__init__()
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty list of positive widths, got {hidden!r}")
        noise = Noise(dropout, p, alpha, max_alpha, activation).validated()
        widths = [in_features, *map(int, hidden)]
        layers: list[nn.Module] = []
        for w_in, w_out in zip(widths, widths[1:]):
            layers += dense_block(w_in, w_out, noise)
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(widths[-1], n_classes)
        self.in_features = in_features

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x[0].numel() != self.in_features:
            raise ValueError(f"MLP expects [batch, {self.in_features}] or images with "
                             f"{self.in_features} pixels, got shape {tuple(x.shape)}")
        return self.out(self.hidden(x.flatten(1)))


# Table II as data: (filters, kernel, stride, dropout after this layer?).
ALL_CNN_32 = ((96, 3, 1, False), (96, 3, 1, False), (96, 3, 2, True),
              (192, 3, 1, False), (192, 3, 1, False), (192, 3, 2, True),
              (192, 3, 1, False), (192, 1, 1, False))
ALL_CNN_96 = ((32, 3, 1, False), (32, 3, 1, False), (32, 3, 2, True),
              (64, 3, 1, False), (64, 3, 1, False), (64, 3, 2, True),
              (96, 3, 1, False), (96, 3, 1, False), (96, 3, 2, True),
              (192, 3, 1, False), (192, 3, 1, False), (192, 3, 2, True),
              (192, 3, 1, False), (192, 1, 1, False))


class AllCNN(nn.Module):
    """All-CNN (Springenberg et al. 2014) as in Table II, with BatchNorm before activations.

    ``filter_fraction`` scales every layer's filters (0.25 = "25 % of the
    filters", §8). The head is Table II's "1x1 conv 10 ReLU", spatial average,
    then, as in the original code (``logits = linear(network, 10)``), a linear
    layer giving the logits; the softmax is in the loss. ``input_dropout`` is the rate of a
    binary dropout on the input image (the original CIFAR code keeps 80 % of the pixels, in
    every variant: ``input_dropout=0.2``).
    """

    def __init__(self, table: Sequence[tuple[int, int, int, bool]], input_size: int, *,
                 in_channels: int = 3, n_classes: int = 10, filter_fraction: float = 1.0,
                 dropout: str = "none", activation: str = "relu", p: float = 0.5,
                 alpha: float = 0.7, max_alpha: float = 0.7, input_dropout: float = 0.0) -> None:
        super().__init__()
        if not 0 < filter_fraction <= 1:
            raise ValueError(f"filter_fraction must be in (0, 1], got {filter_fraction!r}")
        if not 0 <= input_dropout < 1:
            raise ValueError(f"input_dropout must be in [0, 1), got {input_dropout!r}")
        noise = Noise(dropout, p, alpha, max_alpha, activation).validated()
        layers: list[nn.Module] = [nn.Dropout(input_dropout)] if input_dropout > 0 else []
        channels = in_channels
        for filters, kernel, stride, noisy in table:
            width = max(1, round(filters * filter_fraction))
            layers += conv_block(channels, width, kernel, stride,
                                 noise if noisy else noise._replace(kind="none"))
            channels = width
        layers += conv_block(channels, n_classes, 1, 1, noise._replace(kind="none"))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(n_classes, n_classes)
        self.input_size, self.in_channels = input_size, in_channels

    def forward(self, x: Tensor) -> Tensor:
        check_rank(x, 4, type(self).__name__)
        if x.shape[1] != self.in_channels or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__} expects [batch, {self.in_channels}, "
                             f"{self.input_size}, {self.input_size}], got {tuple(x.shape)}")
        return self.classifier(self.features(x).mean(dim=(2, 3)))


def AllCNN32(**kwargs) -> AllCNN:
    """All-CNN-32 for CIFAR-10 (Table II a): two dropout places, 32 → 16 → 8."""
    return AllCNN(ALL_CNN_32, 32, **kwargs)


def AllCNN96(**kwargs) -> AllCNN:
    """All-CNN-96 for Cluttered MNIST (Table II b): four dropout places, 96 → 48 → 24 → 12 → 6."""
    kwargs.setdefault("in_channels", 1)
    kwargs.setdefault("max_alpha", 1.0)
    return AllCNN(ALL_CNN_96, 96, **kwargs)


class NuisanceHead(nn.Module):
    """The secondary classifier of Fig. 4: reads a frozen representation [N, C, H, W] (the last
    dropout layer's output) and predicts the nuisance (the occluding digit). Two 3×3 convs
    (the second of stride 2) with BatchNorm and ReLU, a spatial mean and a linear layer."""

    def __init__(self, in_channels: int, width: int = 64, n_classes: int = 10) -> None:
        super().__init__()
        if in_channels < 1 or width < 1:
            raise ValueError(f"in_channels and width must be positive, got {in_channels}, {width}")
        self.features = nn.Sequential(*conv_block(in_channels, width, 3, 1, None),
                                      *conv_block(width, width, 3, 2, None))
        self.classifier = nn.Linear(width, n_classes)

    def forward(self, z: Tensor) -> Tensor:
        check_rank(z, 4, type(self).__name__)
        return self.classifier(self.features(z).mean(dim=(2, 3)))
