"""(c) All-CNN-96 training throughput (images/s) by precision and memory format (issue 8).

Each configuration takes the same SGD steps with Information Dropout on random 96×96 batches
through :func:`ibcore.train.loop._train_epoch`'s ingredients: autocast for bf16, channels_last
for the memory format. Prints images per second and the ratio to fp32 / contiguous, measured
in one run. On a CPU use small settings: ``--filters 0.25 --batch-size 32 --steps 5``.
"""
from __future__ import annotations

import argparse
import time
from contextlib import nullcontext

import torch
from torch import nn

from ibcore.cache import device_name
from ibcore.layers import kl_loss
from ibcore.models import AllCNN96
from ibcore.train import pick_device


def images_per_second(device: torch.device, precision: str, channels_last: bool, *, filters: float,
                      batch_size: int, steps: int, warmup: int = 3) -> float:
    torch.manual_seed(0)
    model = AllCNN96(filter_fraction=filters, dropout="information").to(device)
    x = torch.rand(batch_size, 1, 96, 96, device=device)
    y = torch.randint(0, 10, (batch_size,), device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()
    model.train()
    for i in range(warmup + steps):
        if i == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
        with autocast:
            logits = model(x)
            loss = nn.functional.cross_entropy(logits.float(), y) + 0.1 * kl_loss(model, 50_000).float()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return steps * batch_size / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default=None)
    parser.add_argument("--filters", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    device = pick_device(args.device)
    print(f"All-CNN-96 · {args.filters:.0%} filters · batch {args.batch_size} · {device_name(str(device))}")
    base = None
    for precision in ("fp32", "bf16"):
        for channels_last in (False, True):
            rate = images_per_second(device, precision, channels_last, filters=args.filters,
                                     batch_size=args.batch_size, steps=args.steps)
            base = base or rate
            layout = "channels_last" if channels_last else "contiguous"
            print(f"{precision:>5} {layout:>14}: {rate:9.1f} images/s  ({rate / base:.2f}× fp32 contiguous)")


if __name__ == "__main__":
    main()
