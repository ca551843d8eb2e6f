"""Measures of trained and toy models, one module per family (all values in nats).

* :mod:`~ibcore.metrics.information`: entropy, mutual information, total correlation
  (discrete, §5), Prop. 1 / Prop. 4 numerically;
* :mod:`~ibcore.metrics.gaussian_tc`: the total correlation of a Gaussian (§8, Fig. 5), exact and
  from samples, with the plug-in estimator's bias and sd;
* :mod:`~ibcore.metrics.kl_checks`: the KL terms of §6 / App. A by Monte Carlo, the noise's moments;
* :mod:`~ibcore.metrics.dropout_bounds`: Gaussian dropout as a bottleneck (Rey & Mnih, Thm. 1);
* :mod:`~ibcore.metrics.representations`: what a layer outputs, with the noise on or off, and
  the BatchNorm statistics that go with each; information per layer and per unit (Fig. 6);
* :mod:`~ibcore.metrics.maps`: per-location KL maps, how well they localise, the ink baseline (Fig. 2);
* :mod:`~ibcore.metrics.fits`: which prior fits the activations (Fig. 1).

Every public name is also importable from ``ibcore.metrics`` itself.
"""
from ibcore.metrics.dropout_bounds import (additive_gaussian_mi, additive_gaussian_mi_bound, dropout_sigma,
                                           gaussian_dropout_density, gaussian_dropout_mi,
                                           gaussian_dropout_mi_bound)
from ibcore.metrics.fits import log_histogram, lognormal_fit, zero_fraction
from ibcore.metrics.gaussian_tc import (GaussianTC, gaussian_tc_bias, gaussian_tc_sd, gaussian_total_correlation,
                                        gaussian_total_correlation_of_samples)
from ibcore.metrics.information import (HALF_LOG_2PI_E, PROB_ATOL, as_distribution, conditional_entropy,
                                        disentanglement_check, entropy, factorised_prior_kl,
                                        fit_factorised_prior, marginals, mutual_information, random_encoder,
                                        total_correlation)
from ibcore.metrics.kl_checks import (mc_kl_log_normal, mc_kl_truncated_log_uniform, mc_log_noise_entropy,
                                      noise_moments, noisy_activations)
from ibcore.metrics.maps import cells_in_box, ink_localisation, ink_maps, kl_maps, localisation, rf_centres
from ibcore.metrics.representations import (information_per_layer, layer_outputs, noisy_copy,
                                             noisy_error_rate, representation_total_correlation)

__all__ = [
    "additive_gaussian_mi", "additive_gaussian_mi_bound", "dropout_sigma", "gaussian_dropout_density",
    "gaussian_dropout_mi", "gaussian_dropout_mi_bound", "log_histogram", "lognormal_fit", "zero_fraction",
    "HALF_LOG_2PI_E", "PROB_ATOL", "as_distribution", "conditional_entropy", "disentanglement_check",
    "entropy", "factorised_prior_kl", "fit_factorised_prior", "gaussian_total_correlation", "marginals",
    "mutual_information", "random_encoder", "total_correlation", "mc_kl_log_normal",
    "mc_kl_truncated_log_uniform", "mc_log_noise_entropy", "noise_moments", "noisy_activations",
    "kl_maps", "localisation", "ink_maps", "ink_localisation", "rf_centres", "cells_in_box", "layer_outputs",
    "gaussian_total_correlation_of_samples", "information_per_layer", "noisy_copy", "noisy_error_rate",
    "representation_total_correlation", "GaussianTC", "gaussian_tc_bias", "gaussian_tc_sd",
]
