"""Sweeps: an experiment's grid as independent trials, run one by one, in parallel processes,
or as a Slurm job array.

A :class:`Trial` has a stable id (a hash of its experiment, config, data and settings, see
:func:`ibcore.cache.trial_key`); the task that computes it saves its result under that id
and checkpoints every epoch, so a killed sweep resumes and a finished trial is never
computed twice. :func:`run` only schedules: it knows nothing of experiments, and gets the
task as a picklable callable ``task(trial, device, progress)``; ``on_done(trial)`` hears of each
trial as it finishes (``run-all`` writes an experiment's result as soon as its last trial is done).

* ``executor="local"``, ``jobs=1``: in this process, with per-trial progress bars;
* ``executor="local"``, ``jobs=N``: up to N processes at once (spawn start method), spread
  round-robin over the visible GPUs (several per GPU), one bar for the sweep;
* ``executor="slurm"``: one submitit job array per sweep (``pip install submitit``);
  ``executor="submitit-local"`` runs the same through submitit's local executor (tests).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from tqdm.auto import tqdm

EXECUTORS = ("local", "slurm", "submitit-local")


@dataclass(frozen=True)
class Trial:
    """One independent training of a sweep: its stable id, a readable label, its settings."""

    id: str
    label: str
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SlurmOptions:
    """What a Slurm job array asks for, per trial."""

    partition: str | None = None
    time_min: int = 240
    gpus_per_trial: int = 1
    cpus_per_trial: int = 4
    mem_gb: int = 32
    folder: Path | None = None


Task = Callable[[Trial, "str | None", bool], Any]


class TrialsFailed(RuntimeError):
    """With ``keep_going``: the trials that failed (``failures``: (trial, its exception) pairs), after
    every other trial of the sweep was computed."""

    def __init__(self, failures: Sequence[tuple[Trial, BaseException]]) -> None:
        self.failures = list(failures)
        super().__init__(f"{len(self.failures)} trial(s) failed: " + "; ".join(
            f"{trial.label}: {type(err).__name__}: {err}" for trial, err in self.failures))


def visible_devices() -> list[str | None]:
    """``cuda:0 … cuda:K-1`` for the visible GPUs, else ``[None]`` (the task's default device)."""
    import torch

    if torch.cuda.is_available():
        return [f"cuda:{k}" for k in range(torch.cuda.device_count())]
    return [None]


def _init_worker(threads: int, parent: int) -> None:
    """Worker initialiser: N processes on a CPU share its cores instead of oversubscribing them, and
    a worker whose sweep process has died (killed, even with SIGKILL) exits instead of training on
    as an orphan; a running trial keeps its last per-epoch checkpoint for the next run."""
    import torch

    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(task: Task, trials: Iterable[Trial], *, done: Callable[[Trial], bool], jobs: int = 1,
        executor: str = "local", slurm: SlurmOptions | None = None, progress: bool = True,
        name: str = "sweep", threads: int | None = None, on_done: Callable[[Trial], Any] | None = None,
        keep_going: bool = False, total: int | None = None) -> list[Trial]:
    """Compute every trial not yet ``done``; return the ones computed in this call.

    ``trials``: a sequence, or any iterable, drawn lazily (at most 2 × ``jobs`` trials wait in the
    pool), so that its producer may prepare the next trials while the first ones train (``run-all``
    loads the next experiment's data then); ``total`` sizes the progress bar of an iterable.
    ``threads``: CPU threads per trial (default: the cores shared out among the jobs). CPU results
    are bit-identical across ``jobs`` at equal ``threads`` (reductions depend on the thread count).
    ``on_done(trial)`` is called in this process after each trial computed here.

    Raises the first trial's exception after the trials already running have stopped; with
    ``keep_going``, computes all the others first and then raises :class:`TrialsFailed`.
    SIGTERM (``kill``, ``timeout``, a scheduler's time limit) ends the sweep like Ctrl-C.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; allowed: {', '.join(EXECUTORS)}")
    cached = 0
    if isinstance(trials, Sequence):
        pending = [t for t in trials if not done(t)]
        total, cached = len(trials), len(trials) - len(pending)
        if progress or pending:
            print(f"{name}: {total} trials, {cached} cached, computing {len(pending)}"
                  + (f" ({jobs} at a time, {executor})" if len(pending) > 1 else ""), flush=True)
        if not pending:
            return []
    workers = min(jobs, len(pending)) if isinstance(trials, Sequence) else jobs
    bar = tqdm(total=total, initial=cached, desc=f"{name} trials", unit="trial", disable=not progress)
    source = pending if isinstance(trials, Sequence) else _fresh(trials, done, bar)
    failures: list[tuple[Trial, BaseException]] = []  # trials hold dicts: not hashable
    computed: list[Trial] = []

    def finished(trial: Trial, error: BaseException | None) -> None:
        if error is not None and not keep_going:
            raise RuntimeError(f"trial {trial.label} failed") from error
        if error is not None:
            failures.append((trial, error))
            bar.write(f"{name}: trial {trial.label} failed: {type(error).__name__}: {error}")
        elif on_done is not None:
            on_done(trial)
        bar.update()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    try:
        if executor != "local":
            computed = list(source)
            if computed:
                _run_submitit(task, computed, jobs, executor, slurm or SlurmOptions(), finished)
        elif jobs == 1:
            _run_here(task, source, computed, progress, threads, finished, keep_going)
        else:
            _run_processes(task, source, computed, jobs, workers, threads, finished)
    finally:
        bar.close()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    if failures:
        raise TrialsFailed(failures)
    return computed


def _fresh(trials: Iterable[Trial], done: Callable[[Trial], bool], bar: tqdm) -> Iterator[Trial]:
    """The trials not yet done, drawn as they are needed; done ones advance the bar."""
    for trial in trials:
        if done(trial):
            bar.update()
        else:
            yield trial


Finished = Callable[[Trial, "BaseException | None"], None]


def _run_here(task: Task, source: Iterable[Trial], computed: list[Trial], progress: bool, threads: int | None,
              finished: Finished, keep_going: bool) -> None:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        for trial in source:
            computed.append(trial)
            try:
                task(trial, None, progress)
            except Exception as err:
                if not keep_going:
                    raise
                finished(trial, err)
            else:
                finished(trial, None)
    finally:
        torch.set_num_threads(before)


def _run_processes(task: Task, source: Iterable[Trial], computed: list[Trial], jobs: int, workers: int,
                   threads: int | None, finished: Finished) -> None:
    """``workers`` (≤ ``jobs``) processes, spread round-robin over the visible GPUs, fed from ``source`` as
    they free up; each gets ``threads`` CPU threads (default: the cores shared out among ``jobs``)."""
    devices = visible_devices()
    if threads is None:
        threads = 1 if devices[0] is not None else max(1, (os.cpu_count() or 1) // jobs)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads, os.getpid()))
    source = iter(source)
    futures: dict = {}

    def submit_more() -> None:
        while len(futures) < 2 * workers and (trial := next(source, None)) is not None:
            futures[pool.submit(task, trial, devices[len(computed) % len(devices)], False)] = trial
            computed.append(trial)

    try:
        submit_more()
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                finished(futures.pop(future), future.exception())
            submit_more()
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):  # running trials stop now
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_submitit(task: Task, pending: Sequence[Trial], jobs: int, executor: str, options: SlurmOptions,
                  finished: Finished) -> None:
    try:
        import submitit
    except ImportError as err:
        raise RuntimeError("the slurm executors need submitit: pip install submitit") from err
    from ibcore.cache import cache_dir

    folder = options.folder or cache_dir() / "submitit" / "%j"
    cluster = "local" if executor == "submitit-local" else "slurm"
    pool = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    pool.update_parameters(timeout_min=options.time_min, slurm_array_parallelism=jobs,
                           cpus_per_task=options.cpus_per_trial, mem_gb=options.mem_gb,
                           gpus_per_node=options.gpus_per_trial if cluster == "slurm" else 0)
    if options.partition and cluster == "slurm":
        pool.update_parameters(slurm_partition=options.partition)
    submitted = pool.map_array(task, list(pending), [None] * len(pending), [False] * len(pending))
    left = list(zip(submitted, pending))
    while left:
        still = []
        for job, trial in left:
            if job.done():
                try:
                    job.result()
                except Exception as err:
                    finished(trial, RuntimeError(f"{err} (logs: {job.paths.stderr})"))
                else:
                    finished(trial, None)
            else:
                still.append((job, trial))
        left = still
        if left:
            time.sleep(1.0)
