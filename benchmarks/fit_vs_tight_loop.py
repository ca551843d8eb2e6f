"""Epoch time of ibcore.train.fit vs a plain DataLoader loop on MNIST (issue goal: ≥ 2× faster).

Both train the same MLP with Information Dropout on CE + β·Lz with the same
optimiser, and both measure the test error once per epoch; fit additionally
recalibrates BatchNorm on the training set (its "dry run"), so it does more
work per epoch. Usage: ``IBCORE_DATA=... python benchmarks/fit_vs_dataloader.py``.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ibcore.data import mnist
from ibcore.layers import kl_loss
from ibcore.models import MLP
from ibcore.train import fit


def dataloader_epoch(model: nn.Module, train, test, *, beta: float, lr: float, batch_size: int) -> float:
    """The loop most tutorials write: DataLoader over a TensorDataset, shuffle, then evaluate."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(TensorDataset(*train), batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(TensorDataset(*test), batch_size=1000)
    t0 = time.perf_counter()
    model.train()
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y) + beta * kl_loss(model, len(train[0]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        wrong = sum(int((model(x).argmax(1) != y).sum()) for x, y in test_loader)
    assert wrong < len(test[0])
    return time.perf_counter() - t0


def fit_epoch(width: int, train, test, *, batch_size: int) -> float:
    """Wall time of one epoch of :func:`ibcore.train.fit` (training pass, BN recalibration, test error)."""
    torch.manual_seed(0)
    history = fit(MLP([width] * 3, "information"), train, test, beta=1.0, epochs=1, lr=0.07,
                  batch_size=batch_size, progress=False)
    return history["seconds"][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 64, 512])
    parser.add_argument("--rounds", type=int, default=3, help="alternate the two loops this many times")
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    train, test = mnist(train=True), mnist(train=False)
    print(f"MNIST {len(train[0]):,} train / {len(test[0]):,} test · batch {args.batch_size} · "
          f"{torch.get_num_threads()} threads · best of {args.rounds} alternating epochs")
    print(f"{'width':>6} {'fit s/epoch':>12} {'DataLoader s/epoch':>19} {'speed-up':>9}")
    for width in args.widths:
        fit_s = loop_s = float("inf")
        for _ in range(args.rounds):  # alternate, keep each loop's best: robust to machine noise
            fit_s = min(fit_s, fit_epoch(width, train, test, batch_size=args.batch_size))
            torch.manual_seed(0)
            loop_s = min(loop_s, dataloader_epoch(MLP([width] * 3, "information"), train, test, beta=1.0,
                                                  lr=0.07, batch_size=args.batch_size))
        print(f"{width:>6} {fit_s:>12.2f} {loop_s:>19.2f} {loop_s / fit_s:>8.2f}×")


if __name__ == "__main__":
    main()
