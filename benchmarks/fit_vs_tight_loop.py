"""(a) Epoch time of ibcore.train.fit vs a tight on-device loop and vs a DataLoader loop (issue 8).

All three train the same 3-layer MLP with Information Dropout on CE + β·Lz with the same
optimiser and measure the test error once per epoch. The tight loop keeps the data on the
device, shuffles with randperm and synchronises once per epoch: the best a hand-written
loop does. ``fit`` also recalibrates BatchNorm on the training set (its "dry run") and checks
the loss is finite. Goal: fit ≤ 1.1× the tight loop on a GPU; on a CPU no slower than before.
Usage: ``IBCORE_DATA=... python benchmarks/fit_vs_tight_loop.py [--device cuda] [--widths 1024]``;
``--short`` (width 1024, 2 rounds: ~20 s on a GPU) for ``benchmarks/gpu_run.sh``.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ibcore.cache import device_name
from ibcore.data import mnist
from ibcore.layers import kl_loss
from ibcore.models import MLP
from ibcore.train import fit, pick_device


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def tight_epoch(width: int, train, test, *, device: torch.device, batch_size: int) -> float:
    """Data on the device, randperm batches, no host sync until the epoch's test error."""
    torch.manual_seed(0)
    model = MLP([width] * 3, "information").to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.07, momentum=0.9, nesterov=True)
    x, y = (t.to(device) for t in train)
    x_test, y_test = (t.to(device) for t in test)
    _sync(device)
    t0 = time.perf_counter()
    model.train()
    order = torch.randperm(len(x), device=device)
    for idx in order.split(batch_size):
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx]) + kl_loss(model, len(x))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        wrong = (model(x_test).argmax(1) != y_test).sum()
    int(wrong)
    return time.perf_counter() - t0


def dataloader_epoch(width: int, train, test, *, device: torch.device, batch_size: int) -> float:
    """The loop most tutorials write: DataLoader over CPU tensors, a copy to the device per batch."""
    torch.manual_seed(0)
    model = MLP([width] * 3, "information").to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.07, momentum=0.9)
    loader = DataLoader(TensorDataset(*train), batch_size=batch_size, shuffle=True)
    t0 = time.perf_counter()
    model.train()
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = nn.functional.cross_entropy(model(xb), yb) + kl_loss(model, len(train[0])).to(device)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        int((model(test[0].to(device)).argmax(1) != test[1].to(device)).sum())
    return time.perf_counter() - t0


def fit_epoch(width: int, train, test, *, device: torch.device, batch_size: int) -> float:
    """Wall time of one epoch of :func:`ibcore.train.fit` (training pass, BN recalibration, test error)."""
    torch.manual_seed(0)
    history = fit(MLP([width] * 3, "information"), train, test, beta=1.0, epochs=1, lr=0.07,
                  batch_size=batch_size, progress=False, device=device)
    return history["seconds"][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 512, 1024])
    parser.add_argument("--rounds", type=int, default=3, help="alternate the loops this many times")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--device", default=None)
    parser.add_argument("--short", action="store_true", help="width 1024 only, 2 rounds")
    parser.add_argument("--goal", type=float, default=1.1, help="fit / tight loop at most this on a GPU")
    args = parser.parse_args()
    if args.short:
        args.widths, args.rounds = [1024], 2
    device = pick_device(args.device)
    train, test = mnist(train=True), mnist(train=False)
    print(f"device {device_name(str(device))} · MNIST {len(train[0]):,} train / {len(test[0]):,} test · "
          f"batch {args.batch_size} · best of {args.rounds} alternating epochs")
    print(f"{'width':>6} {'fit s':>8} {'tight s':>8} {'DataLoader s':>13} {'fit/tight':>10} {'fit/DataLoader':>15}")
    for width in args.widths:
        best = {"fit": float("inf"), "tight": float("inf"), "loader": float("inf")}
        for _ in range(args.rounds):  # alternate, keep each loop's best: robust to machine noise
            for name, epoch in (("fit", fit_epoch), ("tight", tight_epoch), ("loader", dataloader_epoch)):
                best[name] = min(best[name], epoch(width, train, test, device=device, batch_size=args.batch_size))
        ratio = best["fit"] / best["tight"]
        print(f"{width:>6} {best['fit']:>8.2f} {best['tight']:>8.2f} {best['loader']:>13.2f} "
              f"{ratio:>9.2f}× {best['fit'] / best['loader']:>14.2f}×"
              + (f"  goal ≤ {args.goal}×: {'met' if ratio <= args.goal else 'MISSED'}" if device.type == "cuda" else ""))


if __name__ == "__main__":
    main()
