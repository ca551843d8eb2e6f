"""Sweeps: an experiment's grid as independent trials, run one by one, in parallel processes,
or as a Slurm job array.

A :class:`Trial` has a stable id (a hash of its experiment, config, data and settings, see
:func:`ibcore.cache.trial_key`); the task that computes it saves its result under that id
and checkpoints every epoch, so a killed sweep resumes and a finished trial is never
computed twice. :func:`run` only schedules: it knows nothing of experiments, and gets the
task as a picklable callable ``task(trial, device, progress)``.

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
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

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


def run(task: Task, trials: Sequence[Trial], *, done: Callable[[Trial], bool], jobs: int = 1,
        executor: str = "local", slurm: SlurmOptions | None = None, progress: bool = True,
        name: str = "sweep", threads: int | None = None) -> list[Trial]:
    """Compute every trial not yet ``done``; return the ones computed in this call.

    ``threads``: CPU threads per trial (default: the cores shared out among the jobs). CPU results
    are bit-identical across ``jobs`` at equal ``threads`` (reductions depend on the thread count).

    Raises the first trial's exception after the trials already running have stopped.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; allowed: {', '.join(EXECUTORS)}")
    pending = [t for t in trials if not done(t)]
    if progress or pending:
        print(f"{name}: {len(trials)} trials, {len(trials) - len(pending)} cached, computing {len(pending)}"
              + (f" ({jobs} at a time, {executor})" if len(pending) > 1 else ""), flush=True)
    if not pending:
        return []
    bar = tqdm(total=len(trials), initial=len(trials) - len(pending), desc=f"{name} trials",
               unit="trial", disable=not progress)
    try:
        if executor != "local":
            _run_submitit(task, pending, jobs, executor, slurm or SlurmOptions(), bar)
        elif jobs == 1:
            import torch

            before = torch.get_num_threads()
            torch.set_num_threads(threads or before)
            try:
                for trial in pending:
                    task(trial, None, progress)
                    bar.update()
            finally:
                torch.set_num_threads(before)
        else:
            _run_processes(task, pending, jobs, bar, threads)
    finally:
        bar.close()
    return pending


def _run_processes(task: Task, pending: Sequence[Trial], jobs: int, bar: tqdm, threads: int | None) -> None:
    devices = visible_devices()
    if threads is None:
        threads = 1 if devices[0] is not None else max(1, (os.cpu_count() or 1) // jobs)
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads, os.getpid()))
    # SIGTERM (kill, a job scheduler's time limit) ends the sweep like Ctrl-C: workers are stopped.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    try:
        futures = {pool.submit(task, trial, devices[k % len(devices)], False): trial
                   for k, trial in enumerate(pending)}
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_EXCEPTION)
            for future in finished:
                if future.exception() is not None:
                    raise RuntimeError(f"trial {futures[future].label} failed") from future.exception()
                bar.update()
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):  # running trials stop now
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _run_submitit(task: Task, pending: Sequence[Trial], jobs: int, executor: str, options: SlurmOptions,
                  bar: tqdm) -> None:
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
                    raise RuntimeError(f"trial {trial.label} failed (logs: {job.paths.stderr})") from err
                bar.update()
            else:
                still.append((job, trial))
        left = still
        if left:
            time.sleep(1.0)
