"""How many CPU threads a training run uses (issue 25 item 2).

Torch starts one thread per core. On a machine where another process keeps a core busy (a
browser beside the book, a second training run), every operator of a multi-threaded step waits
at its barrier for the thread that shares the busy core. Measured on the 2-core development
machine by ``benchmarks/threads_under_load.py`` (median step, batch 100, one run, idle then with a
busy loop on one core):

* the quick mnist-mlp model (784-512-512-512-10): 25.7 / 17.3 ms on 1 / 2 threads idle, 21.4 / 39.4 ms
  with one core busy;
* All-CNN-32 at 10 % of the filters: 100.4 / 82.9 ms idle, 95.5 / 190.8 ms with one core busy.

On two threads a busy core costs each model 2.3× its idle step, more than the half of the machine
it takes; on one thread it costs nothing, and one thread loses at most 1.5× (the MLP) when the
machine is idle. The rule, :func:`cpu_threads`: train on **one** CPU thread, unless
``IBCORE_THREADS`` asks for more (a dedicated many-core machine). :func:`training_threads`
applies it for the duration of :func:`ibcore.train.fit` and of every experiment trial (its evaluation
and sampling too: ``ibcore.experiments.registry.compute_trial``) and restores the caller's count after.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import torch

ENV = "IBCORE_THREADS"


def cpu_threads() -> int:
    """The CPU threads :func:`ibcore.train.fit` trains on: ``IBCORE_THREADS`` when set, else 1 (the rule)."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{ENV} must be an integer >= 1, got {value!r}")
    return int(value)


@contextmanager
def training_threads(device: torch.device) -> Iterator[int]:
    """Inside the block, train on :func:`cpu_threads` threads (CPU only; without ``IBCORE_THREADS``
    never more than the caller's count, so a sweep worker pinned to one thread stays on one);
    yields the count and restores the caller's afterwards."""
    before = torch.get_num_threads()
    threads = before
    if device.type == "cpu":
        threads = cpu_threads() if os.environ.get(ENV, "").strip() else min(before, cpu_threads())
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)
