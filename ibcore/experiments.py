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


def summary_table(result: Mapping[str, Any]):
    """A pandas DataFrame of a result's rows: mean and spread of the final test error per group.

    Rows are grouped by every setting that varies except the seed.
    """
    import pandas as pd  # pandas comes with seaborn; imported here to keep ibcore's import light

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

def _mnist_mlp(config: Config, checkpoints: Path, progress: bool) -> dict:
    """Fig. 3a: an MLP with 3 hidden layers, for each width × dropout kind × seed."""
    import torch

    from ibcore.data import mnist
    from ibcore.models import MLP
    from ibcore.train import fit, total_seconds

    if not config["beta"] >= 0:
        raise ValueError(f"beta must be >= 0, got {config['beta']!r}")
    train, test = mnist(train=True), mnist(train=False)
    if config["n_train"]:
        train = tuple(t[:config["n_train"]] for t in train)
    rows = []
    for width in config["widths"]:
        for dropout in config["dropouts"]:
            for seed in config["seeds"]:
                torch.manual_seed(seed)
                model = MLP([width] * config["layers"], dropout, p=config["p"],
                            alpha=config["alpha"], max_alpha=config["max_alpha"])
                history = fit(model, train, test, beta=config["beta"] if dropout == "information" else 0.0,
                              epochs=config["epochs"], lr=config["lr"], momentum=config["momentum"],
                              lr_drops=config["lr_drops"], weight_decay=config["weight_decay"],
                              batch_size=config["batch_size"], seed=seed, progress=progress,
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
        "cpu": {**_MNIST_MLP_BASE, "widths": [1024], "seeds": [0, 1], "epochs": 20, "lr": 0.07,
                "lr_drops": [8, 17]},
        "full": {**_MNIST_MLP_BASE, "widths": [1024], "seeds": [0, 1, 2], "epochs": 80, "lr": 0.07,
                 "lr_drops": [30, 70]},
    },
    runner=_mnist_mlp,
))
