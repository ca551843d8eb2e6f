"""``verify``: does a committed result still come out of today's code?

It re-runs the *first* trial of ``results/NAME-<profile>.json`` (the best committed profile: full,
gpu, cpu) with the result's own config and the thread count its provenance records, for the first
K epochs of the committed schedule (``fit(stop_after=K)``: the linear schedule decays to 0 at the
last step of *all* epochs, so a K-epoch run would be another run), and compares the per-epoch
history with the committed one. Nothing is written: the trial's cache and checkpoint live in a
temporary folder that is deleted afterwards.

Tolerances (:data:`TOLERANCES`). On one machine, the same code with the same thread count repeats a
run bit for bit (every epoch's shuffling and noise come from a generator seeded by (seed, epoch));
the report says how many values are identical. Rounding does not repeat across thread counts or
CPUs (their BLAS kernels sum in other orders), and SGD amplifies it within an epoch: the first
epoch of the committed mnist-mlp trial (width 512, no dropout) has a mean training CE of 0.28640 on
1 thread here, 0.28744 on 2 threads (0.36 % apart) and 0.28767 in the committed file, computed on
another machine with the same code (0.44 %), its error rates within 0.001. The tolerances are
about 2.5 times that drift: losses and KL terms relative 1 %, error rates absolute 0.003 (30 of
10,000 test images). A change that matters goes beyond them: another seed moves that first
epoch's test error by 0.8 to 1.3 points (0.0434 vs 0.0514, 0.0393 vs 0.0522 in the same file).
``lr`` must match to 1e-9 relative (a function of the step alone); ``seconds`` are not compared.
"""
from __future__ import annotations

import math
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ibcore import cache
from ibcore.experiments import registry

#: History key → ("rel" | "abs", tolerance); keys not listed are losses (relative 1e-4).
TOLERANCES: dict[str, tuple[str, float]] = {
    "train_error": ("abs", 0.003), "test_error": ("abs", 0.003), "lr": ("rel", 1e-9),
}
LOSS_TOLERANCE = ("rel", 0.01)
NOT_COMPARED = ("seconds",)


class VerifyError(ValueError):
    """Nothing to verify: no committed result, or one today's code cannot re-run (the message says why)."""


@dataclass
class Comparison:
    epoch: int
    key: str
    committed: float
    now: float
    tolerance: tuple[str, float]

    @property
    def difference(self) -> float:
        return self.now - self.committed

    @property
    def ok(self) -> bool:
        kind, tol = self.tolerance
        if not (math.isfinite(self.committed) and math.isfinite(self.now)):
            return self.committed == self.now
        bound = tol * max(abs(self.committed), 1e-12) if kind == "rel" else tol
        return abs(self.difference) <= bound


@dataclass
class Report:
    name: str
    profile: str
    trial: dict
    threads: int
    comparisons: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.comparisons) and all(c.ok for c in self.comparisons)


def recorded_threads(result: dict) -> int | None:
    """The CPU thread count of a result's provenance ("cpu (1 threads)"), or None (a GPU run, or unrecorded)."""
    match = re.search(r"cpu \((\d+) threads?\)", str(result.get("provenance", {}).get("device", "")))
    return int(match.group(1)) if match else None


@contextmanager
def _throwaway_cache() -> Iterator[Path]:
    """``IBCORE_CACHE`` pointed at a temporary folder for the duration (deleted afterwards)."""
    before = os.environ.get(cache.ENV_VAR)
    with tempfile.TemporaryDirectory(prefix="ibcore-verify-") as folder:
        os.environ[cache.ENV_VAR] = folder
        try:
            yield Path(folder)
        finally:
            if before is None:
                os.environ.pop(cache.ENV_VAR, None)
            else:
                os.environ[cache.ENV_VAR] = before


def source_note(result: dict) -> str:
    recorded = result.get("provenance", {}).get("source_hash")
    if recorded is None:
        return "the committed result records no source hash (it predates them): the code it came from is unknown"
    if recorded == cache.source_hash():
        return f"source hash {recorded}: the committed result was computed with today's ibcore sources"
    return f"source hash {recorded} differs from today's {cache.source_hash()}: the result predates today's code"


def _first_trial(experiment: registry.Experiment, result: dict) -> dict:
    """The settings of the result's first trial, checked against its first row."""
    if result.get("format_version") != experiment.format_version:
        raise VerifyError(f"{experiment.name}: the committed result has format version "
                          f"{result.get('format_version')}, today's code writes {experiment.format_version}: "
                          "re-run its profile to commit a result of today's format")
    try:
        settings = experiment.trials(result["config"])[0]
    except (KeyError, IndexError, TypeError) as err:
        raise VerifyError(f"{experiment.name}: today's code cannot list the trials of the committed config "
                          f"({type(err).__name__}: {err})") from None
    row = result["rows"][0]
    clash = {k: (v, row[k]) for k, v in settings.items() if k in row and row[k] != v}
    if clash:
        raise VerifyError(f"{experiment.name}: the committed first row is not the config's first trial: {clash}")
    return settings


def verify(name: str, epochs: int = 1, *, results_dir: Path | None = None, progress: bool = False) -> Report:
    """Re-run the first ``epochs`` epochs of the first trial of ``name``'s best committed result and compare.

    Raises ValueError for an unknown name and :class:`VerifyError` when there is nothing to verify.
    """
    import torch

    from ibcore.train.loop import TrainingStopped

    experiment = registry.get(name)
    if epochs < 1:
        raise VerifyError(f"--epochs must be >= 1, got {epochs}")
    result = registry.committed(name, registry.BEST_FIRST, results_dir)
    if result is None:
        where = results_dir or registry.RESULTS_DIR
        raise VerifyError(f"no committed result of {name} in {where} "
                          f"(looked for {', '.join(f'{name}-{p}.json' for p in registry.BEST_FIRST)})")
    settings = _first_trial(experiment, result)
    committed = result["rows"][0]["history"]
    k = min(epochs, len(committed["seconds"]))
    threads = recorded_threads(result) or torch.get_num_threads()
    report = Report(name, result["profile"], settings, threads, notes=[source_note(result)])
    if recorded_threads(result) is None:
        report.notes.append(f"the result was not computed on a CPU ({result['provenance'].get('device')}): "
                            "expect rounding differences within the tolerances at best")
    if k < epochs:
        report.notes.append(f"the committed trial has {k} epochs: comparing those")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with _throwaway_cache() as folder:
            run = registry.TrialRun(folder / "verify.pt", progress, None, stop_after=k)
            try:
                history = experiment.run_trial(result["config"], dict(settings), run)["history"]
            except TrainingStopped as stopped:
                history = stopped.history
    finally:
        torch.set_num_threads(before)
    for key, values in committed.items():
        if key in NOT_COMPARED:
            continue
        tolerance = TOLERANCES.get(key, LOSS_TOLERANCE)
        for epoch in range(k):
            now = history.get(key, [])[epoch] if epoch < len(history.get(key, [])) else float("nan")
            report.comparisons.append(Comparison(epoch + 1, key, float(values[epoch]), float(now), tolerance))
    return report


def print_report(report: Report) -> None:
    print(f"verify {report.name} ({report.profile} result), first trial {report.trial}, "
          f"{report.threads} thread(s):")
    for note in report.notes:
        print(f"  note: {note}")
    print(f"  {'epoch':>5} {'value':14s} {'committed':>14} {'now':>14} {'difference':>11} {'tolerance':>12}")
    for c in report.comparisons:
        kind, tol = c.tolerance
        print(f"  {c.epoch:>5} {c.key:14s} {c.committed:>14.8g} {c.now:>14.8g} {c.difference:>11.3g} "
              f"{kind + ' ' + format(tol, 'g'):>12}  {'ok' if c.ok else 'MISMATCH'}")
    bad = sum(not c.ok for c in report.comparisons)
    same = sum(c.committed == c.now for c in report.comparisons)
    print(f"verify {report.name}: " + ("reproduced" if report.ok else f"{bad} value(s) outside their tolerance")
          + f" ({same} of {len(report.comparisons)} values bit-identical)")
