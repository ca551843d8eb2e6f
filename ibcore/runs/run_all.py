"""``run-all``: every selected experiment's trials as one queue, in the order of their value, packed onto
the visible GPUs (or CPU processes) by :func:`ibcore.sweep.run`.

The queue resumes from the trial cache like any sweep. An experiment's result is combined, cached and
(with ``output_dir``) written as ``DIR/NAME-PROFILE.json`` as soon as its last trial is done, so a
window too short for the whole queue still settles its first experiments. Before it starts it prints
an estimate per experiment and in all (:mod:`.estimate`); at the end, what finished and what did not.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from tqdm.auto import tqdm

from ibcore import cache, sweep
from ibcore.data.root import CorruptDataError, DataNotFoundError
from ibcore.experiments import registry
from ibcore.runs.estimate import Estimate, device_kind, estimate, format_seconds

#: The queue's order: what a short GPU window should settle first (issue 22); the rest follow by name.
VALUE_ORDER = ("cifar-filters", "cifar-beta", "cluttered-mnist", "occluded-cifar", "pixelcnn-bottleneck",
               "mnist-width-sweep", "vae-elbo")


def queue_names(only: Sequence[str] | None = None) -> list[str]:
    """The experiments of the queue in the order of value (``only``: these, still in that order)."""
    known = registry.names()
    unknown = [name for name in only or () if name not in known]
    if unknown:
        raise ValueError(f"unknown experiment(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    chosen = set(only or known)
    ordered = [name for name in VALUE_ORDER if name in chosen]
    return ordered + sorted(chosen - set(ordered))


def check_profile(profile: str) -> None:
    if profile not in registry.PROFILES:
        raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(registry.PROFILES)}")


def default_jobs(profile: str, planning: bool = False) -> int:
    """Eight trials per visible GPU (the packing measured: 6.6× one trial), else one per CPU core; when
    ``planning`` (a dry run) for a profile sized for a GPU that is not here, that GPU's eight."""
    devices = sweep.visible_devices()
    if devices[0] is not None:
        return 8 * len(devices)
    return 8 if planning and device_kind(profile) == "gpu" else (os.cpu_count() or 1)


@dataclass(frozen=True)
class QueuedTrial(sweep.Trial):
    """A trial of the queue: also names its experiment and carries its config (for the worker)."""

    experiment: str = ""
    config: Mapping = field(default_factory=dict)


def compute_queued(trial: QueuedTrial, device: str | None, progress: bool) -> None:
    registry.compute_trial(trial.experiment, dict(trial.config), trial, device, progress)


def estimates(profile: str, names: Sequence[str], jobs: int) -> list[Estimate]:
    kind = device_kind(profile)
    return [estimate(name, registry.get(name).config(profile), kind, jobs) for name in names]


def print_estimates(found: Sequence[Estimate], profile: str, jobs: int, detail: bool) -> None:
    """One line per experiment and the total; with ``detail``, each figure used and what they rest on."""
    kind = device_kind(profile)
    print(f"estimate for {kind} ({'one H100/H200' if kind == 'gpu' else 'CPU processes'}), "
          f"{jobs} trial{'s' if jobs > 1 else ''} at a time:")
    for k, item in enumerate(found, 1):
        when = format_seconds(item.seconds) if item.trials else "all cached"
        print(f"  {k:2d}. {item.name:26s} {item.trials:3d} trial{'' if item.trials == 1 else 's'}  {when:>10s}"
              + (f"  (no figure for: {', '.join(item.missing)})" if item.missing else ""))
        if detail:
            for line in item.figure_lines():
                print(f"        {line}")
    total = sum(item.seconds or 0.0 for item in found)
    unknown = [item.name for item in found if item.seconds is None]
    print(f"  total: {format_seconds(total)}" + (f" (without {', '.join(unknown)})" if unknown else ""))
    if detail:
        print("the estimates rest on:")
        bases = list(dict.fromkeys(basis for item in found for basis in item.bases))
        for basis in bases:
            print(f"  - {basis}")
        print("  - not counted: starting the workers and what a trial measures after training "
              "(KL maps, information, TC); the sum over experiments is a safe bound, as they overlap")


def dry_run(profile: str, names: Sequence[str], jobs: int) -> None:
    """Print the queue (each experiment's trials) and the estimate; load no data and run nothing."""
    print(f"run-all --profile {profile}: {len(names)} experiments in this order")
    for k, name in enumerate(names, 1):
        config = registry.get(name).config(profile)
        labels = [registry._trial_label(settings) for settings in registry.get(name).trials(config)]
        shown = ", ".join(labels[:6]) + (f", … ({len(labels) - 6} more)" if len(labels) > 6 else "")
        print(f"  {k:2d}. {name}: {len(labels)} trials, {config.get('epochs', '?')} epochs: {shown or '(none)'}")
    print_estimates(estimates(profile, names, jobs), profile, jobs, detail=True)


@dataclass
class Outcome:
    """What became of one experiment of the queue."""

    name: str
    trials: int
    done: int = 0
    result: Path | None = None
    written: Path | None = None
    failed: list[str] = field(default_factory=list)
    no_data: bool = False


class _Queue:
    """The queue's bookkeeping: each experiment prepared (its data loaded) only when the queue reaches
    it, while the trials before it train; its result written once all its trials are done."""

    def __init__(self, profile: str, names: Sequence[str], output_dir: Path | None) -> None:
        self.profile, self.output_dir = profile, output_dir
        self.runs: dict[str, registry.Prepared] = {}
        self.began: dict[str, float] = {}  # when each experiment was reached: its result's wall time
        self.outcomes = {name: Outcome(name, len(registry.get(name).trials(registry.get(name).config(profile))))
                         for name in names}

    def prepare(self, name: str) -> registry.Prepared | None:
        """Resolve and load ``name``; missing data fails this experiment only (the first one's is raised
        by :func:`run_all` before anything runs)."""
        try:
            run = registry.prepare(name, self.profile)
        except (DataNotFoundError, CorruptDataError) as err:
            self.outcomes[name].failed.append(f"data: {' '.join(str(err).split())}")
            self.outcomes[name].no_data = True
            tqdm.write(f"run-all: {name} skipped: its data is missing")
            return None
        self.add(run)
        return run

    def add(self, run: registry.Prepared) -> None:
        name = run.experiment.name
        self.runs[name], self.began[name] = run, time.perf_counter()
        self.refresh(name)
        outcome = self.outcomes[name]
        tqdm.write(f"run-all: {name}: {outcome.trials} trials, {outcome.done} cached")

    def trials(self, first: registry.Prepared) -> Iterator[QueuedTrial]:
        """Every experiment's trials in the queue's order, each experiment prepared when it is reached."""
        for name in self.outcomes:
            run = first if name == first.experiment.name else self.prepare(name)
            if run is None or self.outcomes[name].result is not None:
                continue
            for t in run.trials:
                yield QueuedTrial(t.id, f"{name}/{t.label}", t.settings, experiment=name, config=run.config)

    def refresh(self, name: str) -> None:
        """Count the experiment's done trials; once all are, combine, cache and write its result."""
        run, outcome = self.runs.get(name), self.outcomes[name]
        if run is None:
            return
        outcome.done = sum(registry.trial_done(name, t) for t in run.trials)
        if outcome.result is not None or outcome.done < outcome.trials:
            return
        result = cache.load(name, run.key) or registry.finish(run, time.perf_counter() - self.began[name])
        outcome.result = cache.result_path(name, run.key)
        if self.output_dir is not None:
            outcome.written = cache.write_json(self.output_dir / f"{name}-{run.profile}.json", result)
        tqdm.write(f"run-all: {name} finished -> {outcome.written or outcome.result}")

    def on_done(self, trial: QueuedTrial) -> None:
        self.refresh(trial.experiment)


def run_all(profile: str, names: Sequence[str], *, jobs: int, output_dir: Path | None = None,
            progress: bool = True) -> list[Outcome]:
    """Run the queue of ``names`` in ``profile``; returns each experiment's :class:`Outcome`.

    Unknown names or profiles raise ValueError, and the first experiment's missing data
    :class:`ibcore.data.DataNotFoundError`, before anything trains; a later experiment without its
    data is skipped and reported. A failed trial does not stop the others; Ctrl-C or SIGTERM stops
    the queue (running trials keep their last per-epoch checkpoint for the next run-all).
    """
    check_profile(profile)
    queue = _Queue(profile, names, Path(output_dir) if output_dir is not None else None)
    print_estimates(estimates(profile, names, jobs), profile, jobs, detail=False)
    print("  (trials already in the cache take no time)", flush=True)
    first = registry.prepare(names[0], profile)
    queue.add(first)
    devices = sweep.visible_devices()
    threads = max(1, (os.cpu_count() or 1) // jobs) if devices[0] is not None else None
    try:
        sweep.run(compute_queued, queue.trials(first), done=lambda t: registry.trial_done(t.experiment, t),
                  jobs=jobs, progress=progress, name="run-all", threads=threads, on_done=queue.on_done,
                  keep_going=True, total=sum(o.trials for o in queue.outcomes.values()))
    except sweep.TrialsFailed as failed:
        for trial, error in failed.failures:
            queue.outcomes[trial.experiment].failed.append(f"{trial.label}: {type(error).__name__}: {error}")
    except KeyboardInterrupt:
        print("run-all: interrupted; run the same command again to resume", flush=True)
    for name in queue.runs:
        queue.refresh(name)
    return list(queue.outcomes.values())


def print_summary(outcomes: Sequence[Outcome], profile: str) -> None:
    finished = [o for o in outcomes if o.result is not None]
    print(f"run-all --profile {profile}: {len(finished)} of {len(outcomes)} experiments finished")
    for o in outcomes:
        state = ("finished" if o.result is not None else "no data" if o.no_data else
                 "failed" if o.failed else "not finished")
        where = f"  {o.written or o.result}" if o.result is not None else ""
        print(f"  {o.name:26s} {state:12s} {o.done:3d}/{o.trials} trials{where}")
        for failure in o.failed:
            print(f"      failed: {failure}")
