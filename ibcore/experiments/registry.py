"""The registry of experiments and :func:`run`, which turns one into a sweep of cached trials.

An :class:`Experiment` says what it reproduces, its ``quick``/``cpu``/``gpu``/``full`` configs, the
identity of its data, how its grid splits into independent trials, how to run one trial,
and how to combine the trials' rows into one result.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

from ibcore import cache, sweep
from ibcore.experiments.regime import Baseline
from ibcore.experiments.settings import check_trials
from ibcore.train.loop import pick_device
from ibcore.train.recipe import RECIPE_KEYS, Recipe
from ibcore.train.threads import training_threads

PROFILES = ("quick", "cpu", "gpu", "full")


def _results_dir() -> Path:
    """Where the committed results are: ``results/`` of the checkout beside the package, else the
    copy an installed wheel ships as package data (``ibcore/results/``)."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "results"
    return checkout if checkout.is_dir() else package / "results"


#: Committed result files of cpu/gpu/full runs (``NAME-PROFILE.json``), in a checkout or an installed wheel.
RESULTS_DIR = _results_dir()

Config = dict[str, Any]


class TrialRun(NamedTuple):
    """What a trial's runner gets besides the config and its settings; ``stop_after``: end training
    after that many epochs (``verify``; :func:`ibcore.experiments.common.fit_trial` passes it on)."""

    checkpoint: Path
    progress: bool
    device: str | None
    stop_after: int | None = None


@dataclass(frozen=True)
class Experiment:
    """A named experiment: what it reproduces, its configs per profile, and how to run it.

    ``trials(config)`` lists the settings of each independent training (one dict each);
    ``grid`` names the config keys those settings are drawn from (so adding a width does not
    change the id of the other trials); ``run_trial(config, settings, run)`` trains and
    measures one and returns its row; ``combine(config, rows)`` makes the result (by default
    ``{"rows": rows}``); ``data(config)`` gives the data's identity
    (:func:`ibcore.data.identity`). Bump ``format_version`` whenever the rows change shape
    or meaning: cached and committed results of the old format then count as stale.
    ``baseline`` is the trained regime its verdicts need (issue 20; declared with
    :func:`declare_baseline` beside the experiment): a comparison on a result whose baseline
    misses it reads *no verdict (undertrained)*.
    """

    name: str
    reproduces: str
    profiles: Mapping[str, Config]
    trials: Callable[[Config], list[dict]]
    run_trial: Callable[[Config, dict, TrialRun], dict]
    data: Callable[[Config], dict]
    grid: tuple[str, ...] = ()
    combine: Callable[[Config, list[dict]], dict] | None = None
    format_version: int = 1
    baseline: Baseline | None = None

    def config(self, profile: str, overrides: Mapping[str, Any] | None = None) -> Config:
        """The profile's config with ``overrides`` applied; unknown keys or types, and values no trial of
        the grid may take (:mod:`ibcore.experiments.settings`), raise ValueError.

        Any field of the training :class:`~ibcore.train.Recipe` may be overridden, also one the
        profile leaves at its default; the result must still be a valid recipe.
        """
        if profile not in self.profiles:
            raise ValueError(f"unknown profile {profile!r} for {self.name}; allowed: {', '.join(self.profiles)}")
        config = json.loads(json.dumps(self.profiles[profile]))  # deep copy, JSON types only
        defaults = Recipe().settings()
        for key, value in (overrides or {}).items():
            if key not in config and key not in RECIPE_KEYS:
                raise ValueError(f"{self.name} has no setting {key!r}; settings: "
                                 f"{', '.join(sorted(set(config) | set(RECIPE_KEYS)))}")
            config[key] = _coerce(key, value, config.get(key, defaults.get(key)))
        Recipe.from_config(config)  # a clear error for a schedule, optimiser, … that does not exist
        check_trials(config, self.trials(config))  # every trial's values, before anything loads or trains
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
    for profile, config in experiment.profiles.items():  # every profile's recipe is valid from the start
        try:
            Recipe.from_config(config)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{experiment.name}, profile {profile!r}: {err}") from None
    REGISTRY[experiment.name] = experiment
    return experiment


def declare_baseline(name: str, limit: float | Mapping[str, float], model: str, **fields: Any) -> None:
    """Declare the trained regime of the registered experiment ``name``: its
    :class:`~ibcore.experiments.regime.Baseline` (``model`` within ``limit``; ``fields``: ``why``,
    ``where``, ``largest``, … as that class documents)."""
    REGISTRY[name] = replace(get(name), baseline=Baseline(limit, model, **fields))


def get(name: str) -> Experiment:
    if name not in REGISTRY:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def names() -> list[str]:
    return sorted(REGISTRY)


def _trial_label(settings: Mapping[str, Any]) -> str:
    return "-".join(f"{k}{v}" for k, v in settings.items())


def sweep_trials(experiment: Experiment, config: Config, data: Mapping[str, Any]) -> list[sweep.Trial]:
    """The experiment's grid as trials with stable ids."""
    shared = {k: v for k, v in config.items() if k not in experiment.grid}
    return [sweep.Trial(cache.trial_key(experiment.name, shared, settings, data, experiment.format_version),
                        _trial_label(settings), settings)
            for settings in experiment.trials(config)]


def compute_trial(name: str, config: Config, trial: sweep.Trial, device: str | None, progress: bool) -> None:
    """Train and measure one trial and cache its row (skipped if another process already did).

    Module-level, so that worker processes and Slurm jobs can unpickle it by reference.
    """
    experiment = get(name)
    path = cache.trial_path(name, trial.id)
    with cache.lock(path):
        if path.exists():
            return
        checkpoint = cache.checkpoint_path(name, trial.id)
        t0 = time.perf_counter()
        # The thread rule for the whole trial, not only fit: its evaluation and sampling too (issue 25).
        with training_threads(pick_device(device)):
            row = experiment.run_trial(config, dict(trial.settings), TrialRun(checkpoint, progress, device))
        cache.write_json(path, {"id": trial.id, "settings": dict(trial.settings), "row": row,
                                "provenance": cache.provenance(device, time.perf_counter() - t0)})
        checkpoint.unlink(missing_ok=True)


class Prepared(NamedTuple):
    """An experiment resolved for one run: its config, data identity, cache key and trials."""

    experiment: Experiment
    profile: str
    config: Config
    data: dict
    key: str
    trials: list[sweep.Trial]


def prepare(name: str, profile: str, overrides: Mapping[str, Any] | None = None) -> Prepared:
    """Resolve ``name`` in ``profile`` with ``overrides``: unknown names, profiles or settings raise
    ValueError, missing data :class:`ibcore.data.DataNotFoundError`; nothing is trained."""
    experiment = get(name)
    config = experiment.config(profile, overrides)
    data = experiment.data(config)
    key = cache.cache_key(name, config, data, experiment.format_version)
    return Prepared(experiment, profile, config, data, key, sweep_trials(experiment, config, data))


def trial_done(name: str, trial: sweep.Trial) -> bool:
    return cache.trial_path(name, trial.id).exists()


def span_seconds(records: list[dict]) -> float:
    """Wall time from the first trial's start to the last trial's end (each trial record's finish time
    less its seconds): a sweep's whole wall time when its trials were computed over several calls,
    e.g. a grid extended after a first run (it includes any pause between the calls)."""
    import datetime

    ends = [datetime.datetime.fromisoformat(r["provenance"]["finished"]).timestamp() for r in records]
    starts = [end - r["provenance"]["seconds"] for end, r in zip(ends, records)]
    return round(max(ends) - min(starts), 2)


def finish(run: Prepared, seconds: float) -> dict:
    """Combine the cached rows of a run whose trials are all done into its result, and cache it.

    ``seconds`` is this call's wall time; ``provenance.span_seconds`` the sweep's over every call that
    computed its trials (:func:`span_seconds`), ``provenance.trial_seconds`` the sum of the trials' own."""
    name, config = run.experiment.name, run.config
    records = [cache.read_json(cache.trial_path(name, trial.id)) for trial in run.trials]
    rows = [record["row"] for record in records]
    result = run.experiment.combine(config, rows) if run.experiment.combine else {"rows": rows}
    devices = sorted({record["provenance"]["device"] for record in records})
    provenance = cache.provenance(None, seconds)
    provenance.update(device=", ".join(devices), span_seconds=span_seconds(records),
                      trial_seconds=round(sum(r["provenance"]["seconds"] for r in records), 2))
    result.update(name=name, profile=run.profile, config=config, key=run.key,
                  format_version=run.experiment.format_version, data=run.data,
                  trials=[trial.id for trial in run.trials], ibcore_version=provenance["ibcore_version"],
                  seconds=seconds, provenance=provenance)
    cache.save(name, run.key, result)
    return result


def run(name: str, profile: str = "quick", *, use_cache: bool = True, progress: bool = True, jobs: int = 1,
        executor: str = "local", slurm: sweep.SlurmOptions | None = None, threads: int | None = None,
        **overrides: Any) -> dict:
    """Run (or load from the cache) experiment ``name`` in ``profile`` with ``overrides``.

    The grid runs as a sweep of independent, individually cached trials (``jobs`` at a time,
    see :func:`ibcore.sweep.run`). The result is a dict with at least ``name``, ``profile``,
    ``config``, ``key`` (the cache key), ``format_version``, ``data`` (the data's identity),
    ``rows``, ``trials`` (their ids), ``seconds`` and ``provenance``. Interrupted runs resume:
    finished trials are read back and each running trial checkpoints every epoch.
    """
    prepared = prepare(name, profile, overrides)
    if use_cache and (hit := cache.load(name, prepared.key)) is not None:
        if progress:
            print(f"{name} ({profile}): loaded from the cache, not trained "
                  f"({cache.result_path(name, prepared.key)}; computed {hit['provenance'].get('finished', '?')})",
                  flush=True)
        return hit
    if not use_cache:
        for trial in prepared.trials:
            cache.trial_path(name, trial.id).unlink(missing_ok=True)
    t0 = time.perf_counter()
    sweep.run(partial(compute_trial, name, prepared.config), prepared.trials, jobs=jobs, executor=executor,
              slurm=slurm, progress=progress, name=name, threads=threads, done=partial(trial_done, name))
    return finish(prepared, time.perf_counter() - t0)


#: The order in which chapters prefer committed results: the paper's own run first.
BEST_FIRST = ("full", "gpu", "cpu")


def committed(name: str, profiles: tuple[str, ...] = BEST_FIRST, results_dir: Path | None = None) -> dict | None:
    """The best committed result of ``name`` (``results/NAME-PROFILE.json``: full, then gpu, then cpu), or
    None; ``results_dir`` instead of :data:`RESULTS_DIR`."""
    for profile in profiles:
        path = Path(results_dir or RESULTS_DIR) / f"{name}-{profile}.json"
        if path.exists():
            return cache.read_json(path)
    return None
