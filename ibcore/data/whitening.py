"""CIFAR-10 preprocessing of the original code (``process_cifar.py``): per-image standardisation,
then ZCA whitening fitted on the training set and applied to both splits.

* :func:`standardise_images`: each image minus its own mean, divided by its own standard
  deviation (ddof 1; an image of constant colour is only centred);
* :class:`ZCAWhitening`: x ↦ W (x − m) with W = U diag(1 / (√λ + ε)) Uᵀ, where U, λ are the
  eigenvectors and eigenvalues of the training covariance and ε = 1e-5 (the original adds ε to
  the singular values √λ). The whitened training covariance is then U diag(λ / (√λ + ε)²) Uᵀ:
  the identity, except along directions of (near-)zero variance, which stay near zero. After
  per-image standardisation every image sums to zero, so one such direction (the all-ones
  image) always exists;
* :func:`cifar10_whitened`: the two splits preprocessed; the fitted transform is cached on disk
  under the data root, named by a hash of the training images, so it is fitted once per data set.

No augmentation: the original code uses none.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ibcore.data.cifar_pickle import cifar10
from ibcore.data.identity import array_digest, pixel_levels
from ibcore.data.root import CorruptDataError, data_root
from ibcore.files import write_atomic

#: Added to the singular values √λ before inverting them, as in the original ``process_cifar.py``.
ZCA_EPSILON = 1e-5
CACHE_FOLDER = "cifar-10-zca"
#: What :func:`cifar10_whitened` does to the pixels, as a data identity records it.
PREPROCESSING = (f"per-image standardisation (ddof 1), then ZCA (epsilon {ZCA_EPSILON:g}) fitted on all training "
                 "images and applied to both splits")


def standardise_images(images: Tensor, eps: float = 1e-8) -> Tensor:
    """Per-image standardisation: (x − mean(x)) / std(x) over each image's pixels and channels.

    The standard deviation uses ddof 1, and one below ``eps`` is taken as 1 (as the original).
    Returns a new float tensor of the same shape.
    """
    if images.dim() < 2 or images.shape[0] == 0:
        raise ValueError(f"images must be a non-empty batch [N, ...], got shape {tuple(images.shape)}")
    flat = images.reshape(len(images), -1).to(torch.float64)
    centred = flat - flat.mean(1, keepdim=True)
    std = centred.std(1, keepdim=True)
    std = torch.where(std < eps, torch.ones_like(std), std)
    return (centred / std).to(images.dtype if images.is_floating_point() else torch.float32).reshape(images.shape)


@dataclass(frozen=True)
class ZCAWhitening:
    """A fitted ZCA transform: ``mean`` [D] and the symmetric ``matrix`` W [D, D] (float64)."""

    mean: Tensor
    matrix: Tensor

    @classmethod
    def fit(cls, images: Tensor, epsilon: float = ZCA_EPSILON) -> "ZCAWhitening":
        """Fit on ``images`` [N, ...] (N ≥ 2): W = U diag(1 / (√λ + ε)) Uᵀ of their covariance (ddof 1)."""
        flat = images.reshape(len(images), -1).to(torch.float64)
        if len(flat) < 2:
            raise ValueError("ZCA needs at least two images to estimate a covariance")
        mean = flat.mean(0)
        centred = flat - mean
        # float64 throughout: a float32 Gram matrix squares the condition number's rounding
        # and leaves the whitened covariance visibly off the identity on ill-conditioned data.
        covariance = centred.T @ centred / (len(flat) - 1)
        eigenvalues, vectors = torch.linalg.eigh(covariance)
        scale = 1.0 / (eigenvalues.clamp_min(0).sqrt() + epsilon)
        return cls(mean, (vectors * scale) @ vectors.T)

    def __call__(self, images: Tensor, batch_size: int = 5000) -> Tensor:
        """W (x − m) for each image, float32, same shape as ``images``."""
        flat = images.reshape(len(images), -1)
        if flat.shape[1] != self.mean.numel():
            raise ValueError(f"the transform was fitted on {self.mean.numel()} values per image, "
                             f"got images of shape {tuple(images.shape[1:])}")
        parts = [((part.to(torch.float64) - self.mean) @ self.matrix).float() for part in flat.split(batch_size)]
        return torch.cat(parts).reshape(images.shape)

    def save(self, path: str | os.PathLike) -> None:
        write_atomic(path, lambda tmp: torch.save({"mean": self.mean, "matrix": self.matrix}, tmp))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ZCAWhitening":
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            return cls(state["mean"], state["matrix"])
        except Exception as err:  # truncated or foreign file
            raise CorruptDataError(path, f"not a saved ZCA transform ({type(err).__name__}: {err})") from None


def fitted_zca(train_images: Tensor, cache_dir: str | os.PathLike | None = None) -> ZCAWhitening:
    """The ZCA transform of standardised ``train_images``, read from ``cache_dir`` when it was fitted
    before on the same images (file ``zca-<hash of the images>.pt``), else fitted and saved there.

    With ``cache_dir=None`` nothing is read or written. A folder that cannot be written is skipped.
    """
    path = Path(cache_dir) / f"zca-{array_digest(train_images)}.pt" if cache_dir is not None else None
    if path is not None and path.exists():
        return ZCAWhitening.load(path)
    zca = ZCAWhitening.fit(standardise_images(train_images))
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            zca.save(path)
        except OSError:
            pass  # a read-only data root: fit again next time
    return zca


def cifar10_zca(root: str | os.PathLike | None = None, *, download: bool = True) -> ZCAWhitening:
    """The ZCA transform fitted on all of CIFAR-10's standardised training images (cached under
    ``ROOT/cifar-10-zca/``): apply it as ``zca(standardise_images(x))``."""
    return fitted_zca(cifar10(root, train=True, download=download)[0], data_root(root) / CACHE_FOLDER)


def cifar10_whitened(root: str | os.PathLike | None = None, *, n_train: int = 0, n_test: int = 0,
                     download: bool = True) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """CIFAR-10 preprocessed as the original code: ``((x_train, y_train), (x_test, y_test))``.

    The ZCA transform is fitted on *all* training images (cached under
    ``ROOT/cifar-10-zca/``), then applied to the first ``n_train`` training and ``n_test`` test
    images (0: all). Images are float32 [N, 3, 32, 32].
    """
    x_train, y_train = cifar10(root, train=True, download=download)
    x_test, y_test = cifar10(root, train=False, download=download)
    zca = fitted_zca(x_train, data_root(root) / CACHE_FOLDER)
    if n_train:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    if n_test:
        x_test, y_test = x_test[:n_test], y_test[:n_test]
    return ((zca(standardise_images(x_train)), y_train), (zca(standardise_images(x_test)), y_test))


def cifar10_sources(root: str | os.PathLike | None = None, *, n_train: int = 0, n_test: int = 0,
                    download: bool = True) -> tuple[list[Tensor], dict]:
    """What :func:`cifar10_whitened`'s output is made of, for its data identity: the arrays as read
    (uint8 pixels and labels of *all* training images, since the ZCA is fitted on all of them, and of
    the first ``n_test`` test images) and the settings (sizes used, :data:`PREPROCESSING`).

    Not the whitened tensors: they depend on the machine's BLAS and LAPACK rounding
    (:mod:`ibcore.data.identity`).
    """
    x_train, y_train = cifar10(root, train=True, download=download)
    x_test, y_test = cifar10(root, train=False, download=download)
    n_test = n_test or len(x_test)
    arrays = [pixel_levels(x_train), y_train, pixel_levels(x_test[:n_test]), y_test[:n_test]]
    return arrays, dict(n_train=n_train or len(x_train), n_test=n_test, preprocessing=PREPROCESSING)
