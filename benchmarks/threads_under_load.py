"""(f) Training-step time on 1 and 2 torch threads, idle and with one core busy (issue 25 item 2).

A reader builds the book on a laptop with a browser open: one core is busy. Torch's default of
one thread per core then fights that process for the busy core, and every operator waits at its
barrier for the thread that lost. This script measures, in one run, the median training step
(forward, backward, SGD step, batch 100) of

* ``mlp``: the quick mnist-mlp model, a 784-512-512-512-10 MLP with Information Dropout;
* ``allcnn``: the quick cifar-filters model, All-CNN-32 at 10 % of the filters with Information
  Dropout (channels_last, as ``fit`` trains it),

on 1 and on 2 threads, first idle, then while a busy loop that this script starts (a plain
Python ``while`` loop, default priority, bounded to ``--busy-seconds``) holds one core. It prints
the four step times per model, the slow-down that the busy core causes on each thread count,
and how many threads the rule of :func:`ibcore.train.threads.cpu_threads` trains on.

Usage: ``python benchmarks/threads_under_load.py [--steps 40] [--models mlp allcnn]``; run it on an
otherwise idle machine with at least 2 cores (data are synthetic).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time

import torch
from torch import nn

from ibcore.layers import kl_loss
from ibcore.models import MLP, AllCNN32
from ibcore.train.threads import cpu_threads

BATCH = 100


def _model(kind: str) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    if kind == "mlp":
        return MLP([512] * 3, "information"), torch.rand(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    model = AllCNN32(filter_fraction=0.1, dropout="information").to(memory_format=torch.channels_last)
    x = torch.randn(BATCH, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    return model, x, torch.randint(0, 10, (BATCH,))


def step_seconds(kind: str, threads: int, steps: int) -> float:
    """Median seconds of one training step of ``kind`` on ``threads`` torch threads."""
    torch.set_num_threads(threads)
    model, x, y = _model(kind)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    times = []
    for k in range(steps + 5):  # 5 warm-up steps
        t0 = time.perf_counter()
        loss = nn.functional.cross_entropy(model(x), y) + kl_loss(model, 50_000)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if k >= 5:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def measure(kind: str, steps: int, busy_seconds: float) -> dict[tuple[int, str], float]:
    """Step seconds keyed by (threads, "idle" | "one core busy")."""
    times = {(threads, "idle"): step_seconds(kind, threads, steps) for threads in (1, 2)}
    busy = mp.get_context("spawn").Process(target=_busy, args=(busy_seconds,), daemon=True)
    busy.start()
    try:
        time.sleep(0.5)  # the loop is running
        for threads in (1, 2):
            times[(threads, "one core busy")] = step_seconds(kind, threads, steps)
    finally:
        busy.terminate()
        busy.join()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--models", nargs="+", default=["mlp", "allcnn"], choices=["mlp", "allcnn"])
    parser.add_argument("--busy-seconds", type=float, default=300.0, help="upper bound of the busy loop")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {mp.cpu_count()} cores; median of {args.steps} steps, batch {BATCH}")
    for kind in args.models:
        times = measure(kind, args.steps, args.busy_seconds)
        print(f"\n{kind}:")
        for load in ("idle", "one core busy"):
            print(f"  {load:14s} 1 thread {1e3 * times[(1, load)]:8.1f} ms   2 threads {1e3 * times[(2, load)]:8.1f} ms"
                  f"   (2 threads / 1 thread: {times[(2, load)] / times[(1, load)]:.2f}×)")
        for threads in (1, 2):
            print(f"  a busy core slows {threads} thread{'s' if threads > 1 else ''} "
                  f"{times[(threads, 'one core busy')] / times[(threads, 'idle')]:.2f}×")
    print(f"\nthe rule (ibcore.train.threads.cpu_threads): fit trains on {cpu_threads()} thread(s) here")
    torch.set_num_threads(mp.cpu_count())


if __name__ == "__main__":
    main()
