"""The networks of the experiments, one module per family, every public name re-exported here.

* :mod:`~ibcore.models.classifiers`: the MNIST MLP, All-CNN-32/96 (Table II), the nuisance head (Fig. 4);
* :mod:`~ibcore.models.vae`: the VAE of §7 with a Gaussian or an Information Dropout latent;
* :mod:`~ibcore.models.pixelcnn`: the conditional gated PixelCNN;
* :mod:`~ibcore.models.hybrid`: Rey & Mnih's hybrid VAE-PixelCNN with a bottleneck on the PixelCNN's output.
"""
from ibcore.models.classifiers import (ALL_CNN_32, ALL_CNN_96, DROPOUTS, MLP, AllCNN, AllCNN32, AllCNN96, Noise,
                                       NuisanceHead, conv_block, dense_block)
from ibcore.models.hybrid import BOTTLENECKS, ElboTerms, VAEPixelCNN
from ibcore.models.pixelcnn import GatedPixelCNN
from ibcore.models.vae import LATENTS, VAE

__all__ = ["ALL_CNN_32", "ALL_CNN_96", "DROPOUTS", "MLP", "AllCNN", "AllCNN32", "AllCNN96", "Noise",
           "NuisanceHead", "conv_block", "dense_block", "LATENTS", "VAE", "BOTTLENECKS", "ElboTerms",
           "VAEPixelCNN", "GatedPixelCNN"]
