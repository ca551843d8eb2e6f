"""Every figure and table of the book as a named experiment with four profiles.

- ``quick``: CPU, ≤ 90 s on 2 cores; executed live when the book is built: a pipeline check,
  never evidence.
- ``cpu``: trained networks on 2 CPU cores (≤ 90 min per experiment, one thread per trial at
  ``--jobs 2``), reduced where the chapter says; its result file is committed under ``results/``.
- ``gpu``: the paper's networks and data on the budget-aware recipe, ≤ 150 s per experiment on one
  H100/H200 (``python -m ibcore run-all --profile gpu``).
- ``full``: the paper's own settings and schedule, for hours on a GPU.

``run(name, profile, **overrides)`` resolves the profile's config, applies the overrides,
runs the experiment's grid as a sweep of cached trials and returns a JSON-able result dict,
cached under a key of (experiment, resolved config, data identity, result-format version).
One module per chapter family registers its experiments: :mod:`.mnist`, :mod:`.priors`,
:mod:`.vae`, :mod:`.cluttered`, :mod:`.cifar`,
:mod:`.occluded`, :mod:`.pixelcnn`; each declares its trained regime beside it (:mod:`.regime`).

This package says what an experiment is. How the papers' claims are read from its results lives
in :mod:`ibcore.claims`; how runs are queued, estimated and verified, in :mod:`ibcore.runs`.
Neither is imported here.
"""
from ibcore.experiments.registry import (PROFILES, REGISTRY, RESULTS_DIR, Config, Experiment, TrialRun,
                                         committed, compute_trial, get, names, register, run, sweep_trials)
from ibcore.experiments.common import RECIPE_KEYS, SUMMARY_COLUMNS, beta_used, summary_table
from ibcore.experiments import mnist, cifar, occluded, pixelcnn, priors, vae, cluttered  # noqa: E402,F401  (register the experiments)
from ibcore.experiments.cifar import beta_table, filters_table, overfitting_by_beta, overfitting_finding
from ibcore.experiments.cluttered import localisation_table
from ibcore.experiments.occluded import occlusion_table
from ibcore.experiments.mnist import PAPER_WIDTHS
from ibcore.experiments.vae import BETAS, BINARIZE_THRESHOLD, binarized_mnist, latent_table

__all__ = ["PROFILES", "REGISTRY", "RESULTS_DIR", "Config", "Experiment", "TrialRun", "committed",
           "compute_trial", "get", "names", "register", "run", "sweep_trials", "RECIPE_KEYS",
           "SUMMARY_COLUMNS", "beta_used", "summary_table", "localisation_table", "filters_table", "beta_table", "overfitting_by_beta", "overfitting_finding",
           "occlusion_table", "PAPER_WIDTHS", "BETAS",
           "BINARIZE_THRESHOLD", "binarized_mnist", "latent_table"]
