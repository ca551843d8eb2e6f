"""The one training loop (:func:`fit`) and what it needs: the recipe and its schedules, evaluation,
BatchNorm recalibration, noise switches, checkpoints. See :mod:`ibcore.train.loop` for the loop's
conventions and :mod:`ibcore.train.recipe` for its settings."""
from ibcore.train.checkpoint import CorruptCheckpointError
from ibcore.train.evaluation import (CLEAN_TRAIN_SIZE, batch_indices, clean_train_error, error_rate, latent_noise,
                                     mean_elbo_terms, model_device, negative_elbo, noise_modules, noise_on,
                                     recalibrate_batchnorm, reconstruction_terms)
from ibcore.train.recipe import (AUGMENTATIONS, OPTIMIZERS, PAPER_N_TRAIN, PRECISIONS, RECIPE_KEYS, SCHEDULES, Recipe,
                                 beta_used, learning_rate_at)
from ibcore.train.threads import cpu_threads, training_threads
from ibcore.train.loop import (ELBO_KEYS, HISTORY_KEYS, OBJECTIVES, RECONSTRUCTION_KEYS, NonFiniteLossError, fit,
                               learning_rate, pick_device, steps_per_epoch, total_seconds)

__all__ = ["cpu_threads", "training_threads",
           "CorruptCheckpointError", "CLEAN_TRAIN_SIZE", "batch_indices", "clean_train_error", "error_rate",
           "latent_noise", "mean_elbo_terms", "model_device", "negative_elbo", "noise_modules", "noise_on",
           "recalibrate_batchnorm", "reconstruction_terms",
           "AUGMENTATIONS", "OPTIMIZERS", "PAPER_N_TRAIN", "PRECISIONS", "RECIPE_KEYS", "SCHEDULES", "Recipe",
           "beta_used", "learning_rate_at", "ELBO_KEYS", "HISTORY_KEYS", "OBJECTIVES", "RECONSTRUCTION_KEYS",
           "NonFiniteLossError", "fit", "learning_rate", "pick_device", "steps_per_epoch", "total_seconds"]
