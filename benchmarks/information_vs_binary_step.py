"""Training-step time of All-CNN-32 (25 % filters) with Information vs binary dropout.

Issue goal: Information Dropout costs ≤ 1.25× a binary-dropout step. Both
networks take the same SGD steps on random CIFAR-sized batches; the
information network also computes the α branch, samples log-normal noise and
adds β·Lz to the loss. Usage: ``python benchmarks/information_vs_binary_step.py``.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from ibcore.layers import kl_loss
from ibcore.models import AllCNN32
from ibcore.cache import device_name
from ibcore.train import pick_device


def step_seconds(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, warmup: int = 3) -> float:
    """Median wall time of one forward + backward + SGD step."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    times = []
    for i in range(warmup + steps):
        if x.is_cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = nn.functional.cross_entropy(model(x), y) + 3.0 * kl_loss(model, 50_000).to(x.device)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if x.is_cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3, help="alternate the two models this many times")
    parser.add_argument("--device", default=None)
    parser.add_argument("--goal", type=float, default=1.25, help="information / binary at most this")
    parser.add_argument("--activation", default="relu", choices=["relu", "softplus"],
                        help="relu: the log-uniform prior; softplus: the log-normal one (the CIFAR experiments)")
    args = parser.parse_args()
    device = pick_device(args.device)
    x = torch.rand(args.batch_size, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)
    models = {kind: AllCNN32(filter_fraction=0.25, dropout=kind, activation=args.activation).to(device)
              for kind in ("binary", "information")}
    if device.type == "cuda":  # as fit runs conv models on CUDA
        models = {kind: m.to(memory_format=torch.channels_last) for kind, m in models.items()}
        x = x.contiguous(memory_format=torch.channels_last)
    best = {kind: float("inf") for kind in models}
    for _ in range(args.rounds):  # alternate, keep each model's best median: robust to machine noise
        for kind, model in models.items():
            best[kind] = min(best[kind], step_seconds(model, x, y, args.steps))
    print(f"(b) All-CNN-32, 25 % filters, {args.activation} · batch {args.batch_size} · {device_name(str(device))} · "
          f"best of {args.rounds} medians of {args.steps} steps")
    for kind, seconds in best.items():
        print(f"{kind:>12}: {1000 * seconds:8.1f} ms/step")
    ratio = best["information"] / best["binary"]
    print(f"ratio information / binary: {ratio:.2f}×  goal ≤ {args.goal}×: {'met' if ratio <= args.goal else 'MISSED'}")


if __name__ == "__main__":
    main()
