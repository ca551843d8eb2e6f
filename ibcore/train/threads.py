"""How many CPU threads a training run uses (issue 25 item 2).

Torch starts one thread per core. On a machine where another process keeps a core busy (a
browser beside the book, a second training run), every operator of a multi-threaded step waits
at its barrier for the thread that shares the busy core: the step of the quick mnist-mlp model
took 19× longer on 2 threads than on 1 with a low-priority process on one of two cores
(``benchmarks/threads_under_load.py`` measures it). The rule, :func:`cpu_threads`: a model
without convolutions (the MLPs, the VAEs) trains on one thread, where a second one gains little
even on an idle machine; a convolutional model keeps torch's threads. :func:`training_threads`
applies it for the duration of :func:`ibcore.train.fit` and never raises the caller's count (a
sweep worker pinned to one thread stays on one).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


def cpu_threads(model: nn.Module) -> int:
    """The threads the rule gives ``model`` on the CPU: 1 without convolutions, else torch's current count."""
    convolutional = any(isinstance(m, nn.Conv2d) for m in model.modules())
    return torch.get_num_threads() if convolutional else 1


@contextmanager
def training_threads(model: nn.Module, device: torch.device) -> Iterator[int]:
    """Train ``model`` on ``min(current, cpu_threads(model))`` threads inside the block (CPU only);
    yields the count and restores the caller's afterwards."""
    before = torch.get_num_threads()
    threads = min(before, cpu_threads(model)) if device.type == "cpu" else before
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)
