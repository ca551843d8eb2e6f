"""The one training loop (:func:`fit`) and what it needs: evaluation, BatchNorm recalibration,
noise switches, checkpoints. See :mod:`ibcore.train.loop` for the loop's conventions."""
from ibcore.train.checkpoint import CorruptCheckpointError
from ibcore.train.evaluation import (batch_indices, error_rate, latent_noise, mean_elbo_terms, model_device,
                                     negative_elbo, noise_modules, noise_on, recalibrate_batchnorm,
                                     reconstruction_terms)
from ibcore.train.loop import (ELBO_KEYS, HISTORY_KEYS, OBJECTIVES, OPTIMIZERS, PRECISIONS, RECONSTRUCTION_KEYS,
                               NonFiniteLossError, fit, learning_rate, pick_device, total_seconds)

__all__ = ["CorruptCheckpointError", "batch_indices", "error_rate", "latent_noise", "mean_elbo_terms", "model_device",
           "negative_elbo", "noise_modules", "noise_on", "recalibrate_batchnorm", "reconstruction_terms",
           "ELBO_KEYS", "HISTORY_KEYS", "OBJECTIVES", "OPTIMIZERS", "PRECISIONS", "RECONSTRUCTION_KEYS",
           "NonFiniteLossError", "fit", "learning_rate", "pick_device", "total_seconds"]
