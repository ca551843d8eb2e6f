"""Datasets as in-memory tensors, read from the standard on-disk formats.

``mnist`` and ``cifar10`` read what torchvision's downloaders leave under one
data root (``IBCORE_DATA``, default ``~/.cache/ibcore/data``)::

    ROOT/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    ROOT/cifar-10-batches-py/{data_batch_1..5,test_batch}

Cluttered MNIST is generated from MNIST (:func:`cluttered_mnist`), Occluded CIFAR from
CIFAR-10 and MNIST (:func:`occluded_cifar`). CIFAR-10 is preprocessed as
the original code does it (per-image standardisation, ZCA) by :func:`cifar10_whitened`.
torchvision is imported only to download missing files, never to read.
"""
from ibcore.data.root import DataNotFoundError, data_root
from ibcore.data.mnist_idx import mnist, read_idx
from ibcore.data.cifar_pickle import CIFAR10_CLASSES, cifar10, read_cifar_batch
from ibcore.data.cluttered import cluttered_mnist, cluttered_mnist_splits
from ibcore.data.identity import array_digest, identity, pixel_levels
from ibcore.data.whitening import ZCAWhitening, cifar10_whitened, cifar10_zca, fitted_zca, standardise_images
from ibcore.data.occluded import occluded_cifar, occluded_cifar_splits

__all__ = ["DataNotFoundError", "data_root", "mnist", "read_idx", "cifar10", "read_cifar_batch", "CIFAR10_CLASSES",
           "cluttered_mnist", "cluttered_mnist_splits",
           "array_digest", "identity", "pixel_levels", "ZCAWhitening", "cifar10_whitened", "cifar10_zca", "fitted_zca",
           "standardise_images", "occluded_cifar", "occluded_cifar_splits"]
