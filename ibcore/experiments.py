"""Every figure and table of the book as a named experiment with three profiles.

- ``quick``: CPU, ≤ 90 s on 2 cores; executed live when the book is built.
- ``cpu``: a faithful reduced run (≤ 45 min on 2 cores); its result file is
  committed under ``results/``.
- ``full``: the paper's settings, for a GPU.

``run(name, profile, **overrides)`` resolves the profile's config, applies
the overrides, and returns a JSON-able result dict, cached under a key of
(experiment, resolved config, ibcore version).
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ibcore import __version__, cache

PROFILES = ("quick", "cpu", "full")
#: Committed result files of cpu/full runs, in the repository (not in an installed wheel).
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"

Config = dict[str, Any]
Runner = Callable[[Config, Path, bool], dict]


@dataclass(frozen=True)
class Experiment:
    """A named experiment: what it reproduces, its configs per profile, and how to run one."""

    name: str
    reproduces: str
    profiles: Mapping[str, Config]
    runner: Runner

    def config(self, profile: str, overrides: Mapping[str, Any] | None = None) -> Config:
        """The profile's config with ``overrides`` applied; unknown keys or types raise ValueError."""
        if profile not in self.profiles:
            raise ValueError(f"unknown profile {profile!r} for {self.name}; allowed: {', '.join(self.profiles)}")
        config = json.loads(json.dumps(self.profiles[profile]))  # deep copy, JSON types only
        for key, value in (overrides or {}).items():
            if key not in config:
                raise ValueError(f"{self.name} has no setting {key!r}; settings: {', '.join(sorted(config))}")
            config[key] = _coerce(key, value, config[key])
        return config


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Check an override against the default's type (ints are accepted where floats are)."""
    if isinstance(default, bool) or default is None:
        ok = isinstance(value, type(default)) if default is not None else True
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, type(default)) and not isinstance(value, bool)
    if not ok:
        raise ValueError(f"setting {key!r} must be like {default!r} ({type(default).__name__}), got {value!r}")
    return value


REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    missing = set(PROFILES) - set(experiment.profiles)
    if missing:
        raise ValueError(f"{experiment.name} lacks profiles {sorted(missing)}")
    REGISTRY[experiment.name] = experiment
    return experiment


def get(name: str) -> Experiment:
    if name not in REGISTRY:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def names() -> list[str]:
    return sorted(REGISTRY)


def run(name: str, profile: str = "quick", *, use_cache: bool = True, progress: bool = True,
        **overrides: Any) -> dict:
    """Run (or load from the cache) experiment ``name`` in ``profile`` with ``overrides``.

    The result is a dict with at least ``name``, ``profile``, ``config``,
    ``key`` (the cache key), ``ibcore_version``, ``data`` and ``seconds``.
    Interrupted runs resume: each trained model checkpoints every epoch under
    the cache folder until the whole result is saved.
    """
    experiment = get(name)
    config = experiment.config(profile, overrides)
    key = cache.cache_key(name, config)
    if use_cache and (hit := cache.load(name, key)) is not None:
        return hit
    checkpoints = cache.checkpoint_dir(name, key)
    t0 = time.perf_counter()
    result = experiment.runner(config, checkpoints, progress)
    result.update(name=name, profile=profile, config=config, key=key, ibcore_version=__version__,
                  seconds=time.perf_counter() - t0)
    cache.save(name, key, result)
    shutil.rmtree(checkpoints, ignore_errors=True)
    return result


def committed(name: str, profiles: tuple[str, ...] = ("full", "cpu")) -> dict | None:
    """The best committed result of ``name`` (``results/NAME-PROFILE.json``, full before cpu), or None."""
    for profile in profiles:
        path = RESULTS_DIR / f"{name}-{profile}.json"
        if path.exists():
            with open(path) as f:
                return json.load(f)
    return None


#: Column order of the tables of results that carry a ``summary`` (JSON files sort their keys).
SUMMARY_COLUMNS = ("activation", "prior", "latent", "beta", "seed", "epochs", "test_error", "test_elbo",
                   "test_reconstruction", "test_kl", "active_units", "zero_fraction", "ks", "qq_r2", "unit_ks_median",
                   "seconds")


def summary_table(result: Mapping[str, Any]):
    """A pandas DataFrame of a result's rows: mean and spread of the final test error per group.

    Rows are grouped by every setting that varies except the seed. A result
    that carries its own ``summary`` (a list of flat dicts) is shown as that.
    """
    import pandas as pd  # pandas comes with seaborn; imported here to keep ibcore's import light

    if "summary" in result:
        frame = pd.DataFrame(result["summary"])
        first = [c for c in SUMMARY_COLUMNS if c in frame]
        return frame[first + [c for c in frame if c not in first]].round(4)

    frame = pd.DataFrame([{k: v for k, v in row.items() if k != "history"} for row in result["rows"]])
    frame["test_error_%"] = 100 * frame["test_error"]
    frame["train_error_%"] = 100 * frame["train_error"]
    keys = [c for c in ("dropout", "width", "beta") if c in frame and frame[c].nunique() > 1] or ["dropout"]
    return (frame.groupby(keys, sort=False)
            .agg(test_error_pct=("test_error_%", "mean"), test_error_sd=("test_error_%", "std"),
                 train_error_pct=("train_error_%", "mean"), seeds=("seed", "nunique"),
                 epochs=("epochs", "first"), seconds=("seconds", "sum"))
            .round(3))


# --- experiments -----------------------------------------------------------------------------

#: Settings of a profile that are the training recipe, passed to ``fit`` when the profile has them.
RECIPE_KEYS = ("epochs", "lr", "momentum", "lr_drops", "weight_decay", "batch_size", "optimizer",
               "recalibration_size")


def _fit(model, train, test, config: Config, **run) -> dict:
    """:func:`ibcore.train.fit` with the profile's recipe; ``run`` gives β, seed, checkpoint, …"""
    from ibcore.train import fit

    return fit(model, train, test, **{k: config[k] for k in RECIPE_KEYS if k in config}, **run)


def _mnist_mlp(config: Config, checkpoints: Path, progress: bool) -> dict:
    """Fig. 3a: an MLP with 3 hidden layers, for each width × dropout kind × seed."""
    import torch

    from ibcore.models import MLP
    from ibcore.train import total_seconds

    if not config["beta"] >= 0:
        raise ValueError(f"beta must be >= 0, got {config['beta']!r}")
    train, test = _mnist_split(config)
    rows = []
    for width in config["widths"]:
        for dropout in config["dropouts"]:
            for seed in config["seeds"]:
                torch.manual_seed(seed)
                model = MLP([width] * config["layers"], dropout, p=config["p"],
                            alpha=config["alpha"], max_alpha=config["max_alpha"])
                history = _fit(model, train, test, config, seed=seed, progress=progress,
                               beta=config["beta"] if dropout == "information" else 0.0,
                               checkpoint=checkpoints / f"w{width}-{dropout}-s{seed}.pt")
                rows.append(dict(width=width, dropout=dropout, seed=seed, hidden=[width] * config["layers"],
                                 epochs=config["epochs"], test_error=history["test_error"][-1],
                                 train_error=history["train_error"][-1],
                                 seconds=total_seconds(history), history=history))
    return dict(rows=rows, data=dict(dataset="MNIST", n_train=len(train[0]), n_test=len(test[0])))


_MNIST_MLP_BASE = dict(layers=3, dropouts=["none", "binary", "lognormal", "information"],
                       p=0.5, alpha=0.7, max_alpha=0.7, beta=1.0, momentum=0.9,
                       weight_decay=0.0, batch_size=100, n_train=0)

register(Experiment(
    name="mnist-mlp",
    reproduces="Fig. 3a (§8): test error of a 3-hidden-layer MLP on MNIST with four kinds of dropout",
    profiles={
        "quick": {**_MNIST_MLP_BASE, "widths": [512], "seeds": [0], "epochs": 5, "lr": 0.07,
                  "lr_drops": [4]},
        "cpu": {**_MNIST_MLP_BASE, "widths": [512], "seeds": [0, 1], "epochs": 15, "lr": 0.07,
                "lr_drops": [6, 13]},
        "full": {**_MNIST_MLP_BASE, "widths": [1024], "seeds": [0, 1, 2], "epochs": 80, "lr": 0.07,
                 "lr_drops": [30, 70]},
    },
    runner=_mnist_mlp,
))


# --- §8, Fig. 3a: dropout methods vs network size --------------------------------------------

#: Widths of the full profile: Fig. 3a's range (the text does not list the exact widths).
PAPER_WIDTHS = [3, 8, 16, 32, 64, 128, 256, 512, 1024]

register(Experiment(
    name="mnist-width-sweep",
    reproduces="Fig. 3a (§8): MNIST test error vs hidden-layer width for four kinds of dropout",
    profiles={
        "quick": {**_MNIST_MLP_BASE, "widths": [3, 8, 32, 128], "seeds": [0, 1], "epochs": 3,
                  "lr": 0.07, "lr_drops": [], "n_train": 6000},
        "cpu": {**_MNIST_MLP_BASE, "widths": [3, 8, 32, 128, 512], "seeds": [0, 1], "epochs": 10,
                "lr": 0.07, "lr_drops": [4, 9]},
        "full": {**_MNIST_MLP_BASE, "widths": PAPER_WIDTHS, "seeds": [0, 1, 2], "epochs": 80,
                 "lr": 0.07, "lr_drops": [30, 70]},
    },
    runner=_mnist_mlp,
))


# --- §6, Fig. 1: which prior fits the activations -------------------------------------------

def _mnist_split(config: Config) -> tuple[tuple, tuple]:
    """MNIST train/test tensors, cut to ``n_train``/``n_test`` examples when those are > 0."""
    from ibcore.data import mnist

    train, test = mnist(train=True), mnist(train=False)
    if config.get("n_train"):
        train = tuple(t[:config["n_train"]] for t in train)
    if config.get("n_test"):
        test = tuple(t[:config["n_test"]] for t in test)
    return train, test


def _unit_ks(z, max_units: int = 64) -> float:
    """Median over (up to ``max_units``) units of the KS statistic of each unit's own log-normal fit."""
    from ibcore import metrics

    values = [metrics.lognormal_fit(z[:, j])["ks"] for j in range(min(z.shape[1], max_units))
              if int((z[:, j] > 0).sum()) >= 2]
    return float(sorted(values)[len(values) // 2]) if values else float("nan")


def _activation_priors(config: Config, checkpoints: Path, progress: bool) -> dict:
    """Fig. 1: post-noise activations of the last Information Dropout layer vs the proposed priors."""
    import torch

    from ibcore import metrics
    from ibcore.layers import bottlenecks
    from ibcore.models import MLP
    from ibcore.train import total_seconds

    train, test = _mnist_split(config)
    rows = []
    for activation in config["activations"]:
        torch.manual_seed(config["seed"])
        model = MLP([config["width"]] * config["layers"], "information", activation=activation,
                    max_alpha=config["max_alpha"])
        history = _fit(model, train, test, config, beta=config["beta"], seed=config["seed"],
                       progress=progress, checkpoint=checkpoints / f"{activation}.pt")
        torch.manual_seed(config["seed"])  # the noise of the captured z
        z = metrics.layer_outputs(model, test[0], -1, noisy=True)
        layer = bottlenecks(model)[-1]
        row = dict(activation=activation, prior=layer.prior, epochs=config["epochs"],
                   test_error=history["test_error"][-1], seconds=total_seconds(history),
                   history=history, n_values=int(z.numel()), zero_fraction=metrics.zero_fraction(z),
                   histogram=metrics.log_histogram(z, bins=config["bins"]),
                   fit=metrics.lognormal_fit(z), unit_ks_median=_unit_ks(z))
        if layer.prior == "log-normal":
            row["learned_prior"] = dict(mu=[round(v, 5) for v in layer.prior_mu.tolist()],
                                        sigma=[round(v, 5) for v in layer.prior_log_sigma.exp().tolist()])
        rows.append(row)
    summary = [dict(activation=r["activation"], prior=r["prior"], test_error=r["test_error"],
                    zero_fraction=r["zero_fraction"], ks=r["fit"]["ks"], qq_r2=r["fit"]["qq_r2"],
                    unit_ks_median=r["unit_ks_median"]) for r in rows]
    return dict(rows=rows, summary=summary,
                data=dict(dataset="MNIST", n_train=len(train[0]), n_test=len(test[0])))


_PRIORS_BASE = dict(activations=["relu", "softplus"], layers=3, width=256, max_alpha=0.7, beta=1.0,
                    lr=0.07, momentum=0.9, batch_size=100, seed=0, bins=60, n_train=0, n_test=0)

register(Experiment(
    name="activation-priors",
    reproduces="Fig. 1 (§6): post-noise activations vs the log-uniform (ReLU) and log-normal (Softplus) priors",
    profiles={
        "quick": {**_PRIORS_BASE, "width": 128, "epochs": 3, "lr_drops": [], "n_train": 6000,
                  "n_test": 2000},
        "cpu": {**_PRIORS_BASE, "epochs": 10, "lr_drops": [4, 9]},
        # The paper's Fig. 1 uses All-CNN-32 on CIFAR-10; here: the §8 MLP recipe at width 1024.
        "full": {**_PRIORS_BASE, "width": 1024, "epochs": 80, "lr_drops": [30, 70]},
    },
    runner=_activation_priors,
))


# --- §7, Table I: the VAE as Information Dropout with y = x ----------------------------------

#: Binarisation of MNIST for the Bernoulli decoder: a fixed threshold (deterministic).
BINARIZE_THRESHOLD = 0.5


def binarized_mnist(config: Config) -> tuple:
    """Flattened binarised MNIST (x > 0.5 → 1), train and test, cut to ``n_train``/``n_test``."""
    train, test = _mnist_split(config)
    return tuple((t[0] > BINARIZE_THRESHOLD).float().flatten(1) for t in (train, test))


def _vae_images(model, x, n: int, seed: int) -> dict:
    """Originals, one-sample reconstructions (p(x|z), z ~ q(z|x)) and prior samples, packed."""
    import torch

    from ibcore.train import latent_noise

    torch.manual_seed(seed)
    model.eval()
    with torch.no_grad(), latent_noise(model):
        reconstructions = torch.sigmoid(model(x[:n]))
    samples = model.sample(n, torch.Generator().manual_seed(seed))
    return dict(reconstructions=cache.encode_array(reconstructions.cpu().reshape(-1, 28, 28)),
                samples=cache.encode_array(samples.cpu().reshape(-1, 28, 28)))


def _latent_diagnostics(model, x, max_alpha: float) -> dict:
    """Per-unit KL averaged over ``x``: units with > 0.1 nats ("active"), and, for the
    Information latent, the mean α and the share of α within 5 % of its cap."""
    import torch

    from ibcore import kl as kl_terms

    model.eval()
    with torch.no_grad():
        loc, scale = model.posterior(x)
        if model.latent_kind == "gaussian":
            unit_kl = kl_terms.gaussian(loc, scale)
        else:
            layer = model.latent
            unit_kl = kl_terms.log_normal(loc, scale, layer.prior_mu, layer.prior_log_sigma.exp())
    out = dict(active_units=int((unit_kl.mean(0) > 0.1).sum()), latent_units=int(unit_kl.shape[1]))
    if model.latent_kind == "information":
        cap = max_alpha + kl_terms.ALPHA_FLOOR
        out.update(alpha_mean=float(scale.mean()), alpha_near_cap=float((scale > 0.95 * cap).double().mean()))
    return out


def _vae(config: Config, checkpoints: Path, progress: bool) -> dict:
    """Table I: test ELBO of the basic VAE with a Gaussian and an Information Dropout latent, per β."""
    import torch

    from ibcore.models import VAE
    from ibcore.train import total_seconds

    x, x_test = binarized_mnist(config)
    rows = []
    for latent in config["latents"]:
        for beta in config["betas"]:
            for seed in config["seeds"]:
                torch.manual_seed(seed)
                model = VAE(latent, k=config["k"], max_alpha=config["max_alpha"])
                history = _fit(model, (x, x), (x_test, x_test), config, objective="reconstruction",
                               beta=beta, seed=seed, progress=progress,
                               checkpoint=checkpoints / f"{latent}-b{beta}-s{seed}.pt")
                rows.append(dict(latent=latent, beta=beta, seed=seed, k=config["k"],
                                 epochs=config["epochs"], test_elbo=-history["test_nelbo"][-1],
                                 test_reconstruction=-history["test_ce"][-1], test_kl=history["test_lz"][-1],
                                 seconds=total_seconds(history), history=history,
                                 **_latent_diagnostics(model, x_test, config["max_alpha"]),
                                 **_vae_images(model, x_test, config["n_images"], seed)))
    summary = [{k: r[k] for k in ("latent", "beta", "seed", "epochs", "test_elbo", "test_reconstruction",
                                  "test_kl", "active_units", "seconds")} for r in rows]
    return dict(rows=rows, summary=summary, originals=cache.encode_array(x_test[:config["n_images"]].reshape(-1, 28, 28)),
                data=dict(dataset="binarised MNIST", n_train=len(x), n_test=len(x_test),
                          binarization=f"fixed threshold: x > {BINARIZE_THRESHOLD}"))


# Optimiser and learning rate are not stated in the paper (Kingma & Welling used Adagrad); Adam 1e-3.
_VAE_BASE = dict(k=1, max_alpha=0.7, optimizer="adam", lr=1e-3, momentum=0.9, batch_size=100,
                 seeds=[0], n_train=0, n_test=0, n_images=8)
_VAE_FULL = {**_VAE_BASE, "epochs": 300, "lr_drops": [30, 120]}

register(Experiment(
    name="vae-elbo",
    reproduces="Table I (§7, §8): test ELBO of a VAE with a Gaussian vs an Information Dropout latent (k = 1)",
    profiles={
        "quick": {**_VAE_BASE, "latents": ["gaussian", "information"], "betas": [1.0], "epochs": 5,
                  "lr_drops": [], "n_train": 10000, "n_test": 2000},
        "cpu": {**_VAE_BASE, "latents": ["gaussian", "information"], "betas": [1.0], "epochs": 30,
                "lr_drops": [24]},
        "full": {**_VAE_FULL, "latents": ["gaussian", "information"], "betas": [1.0]},
    },
    runner=_vae,
))

BETAS = [0.25, 0.5, 1.0, 2.0, 4.0]

register(Experiment(
    name="vae-beta",
    reproduces="eq. 7 (§7): the Information Dropout VAE for β in {0.25, 0.5, 1, 2, 4}",
    profiles={
        "quick": {**_VAE_BASE, "latents": ["information"], "betas": BETAS, "epochs": 2,
                  "lr_drops": [], "n_train": 4000, "n_test": 1000},
        "cpu": {**_VAE_BASE, "latents": ["information"], "betas": BETAS, "epochs": 8, "lr_drops": []},
        "full": {**_VAE_FULL, "latents": ["information"], "betas": BETAS},
    },
    runner=_vae,
))


def _cluttered_mnist(config: Config, checkpoints: Path, progress: bool) -> dict:
    """Fig. 2 / Fig. 7 measured: All-CNN-96 with Information Dropout on Cluttered MNIST, per β."""
    import torch

    from ibcore.data import cluttered_mnist_splits
    from ibcore.metrics import kl_maps, localisation
    from ibcore.models import AllCNN96
    from ibcore.train import total_seconds

    if any(not b >= 0 for b in config["betas"]):
        raise ValueError(f"betas must be >= 0, got {config['betas']!r}")
    size = config["size"]
    (x, y, _), (x_test, y_test, boxes) = cluttered_mnist_splits(
        config["n_train"], config["n_test"], size=size, distractors=config["distractors"],
        patch=config["patch"], seed=config["data_seed"])
    shown = slice(0, config["examples"])
    rows = []
    for beta in config["betas"]:
        torch.manual_seed(config["seed"])
        model = AllCNN96(filter_fraction=config["filter_fraction"], dropout="information",
                         max_alpha=config["max_alpha"])
        history = _fit(model, (x, y), (x_test, y_test), config, beta=beta, seed=config["seed"],
                       progress=progress, checkpoint=checkpoints / f"beta{beta}.pt")
        maps = kl_maps(model, x_test)
        rows.append(dict(beta=beta, dropout="information", seed=config["seed"], epochs=config["epochs"],
                         test_error=history["test_error"][-1], train_error=history["train_error"][-1],
                         seconds=total_seconds(history), history=history,
                         map_sizes=[m.shape[-1] for m in maps],
                         localisation=[localisation(m, boxes, size) for m in maps],
                         maps=[cache.encode_array(m[shown].numpy()) for m in maps]))
    examples = dict(images=cache.encode_array(x_test[shown, 0].numpy()), labels=y_test[shown].tolist(),
                    boxes=boxes[shown].tolist())
    return dict(rows=rows, examples=examples,
                data=dict(dataset="Cluttered MNIST", n_train=len(x), n_test=len(x_test), size=size,
                          distractors=config["distractors"]))


_CLUTTERED_BASE = dict(size=96, distractors=21, patch=8, data_seed=0, seed=0, max_alpha=1.0,
                       momentum=0.9, weight_decay=0.0, batch_size=32, examples=4)

register(Experiment(
    name="cluttered-mnist",
    reproduces="Fig. 2 and 7 (§8): per-location KL maps of All-CNN-96 on Cluttered MNIST vs β, "
               "and how well they localise the digit",
    profiles={
        "quick": {**_CLUTTERED_BASE, "n_train": 1500, "n_test": 300, "filter_fraction": 0.25,
                  "betas": [0.0, 0.5], "epochs": 2, "lr": 0.1, "lr_drops": [], "recalibration_size": 500},
        "cpu": {**_CLUTTERED_BASE, "n_train": 6000, "n_test": 1000, "filter_fraction": 0.25,
                "betas": [0.0, 0.1, 0.25, 0.5], "epochs": 10, "lr": 0.1, "lr_drops": [7],
                "recalibration_size": 2000},
        # The original code's recipe (cluttered.py): batch 128, lr 0.01, ×0.1 at 30 and 60, 80 epochs.
        "full": {**_CLUTTERED_BASE, "n_train": 50000, "n_test": 10000, "filter_fraction": 1.0,
                 "betas": [0.0, 0.1, 0.25, 0.5], "epochs": 80, "lr": 0.01, "lr_drops": [30, 60],
                 "batch_size": 128, "recalibration_size": 10000},
    },
    runner=_cluttered_mnist,
))


def localisation_table(result: Mapping[str, Any]):
    """A pandas DataFrame of a cluttered-mnist result: test error and localisation per β and layer."""
    import pandas as pd

    records = [dict(beta=row["beta"], layer=f"{k + 1} ({size}×{size})", test_error_pct=100 * row["test_error"],
                    argmax_in_box_pct=100 * score["argmax_in_box"], chance_pct=100 * score["argmax_chance"],
                    mass_ratio=score["mass_ratio"])
               for row in result["rows"]
               for k, (size, score) in enumerate(zip(row["map_sizes"], row["localisation"]))]
    return pd.DataFrame(records).set_index(["beta", "layer"]).round(2)
