"""(e) How much of the CPU the All-CNN-32 training step uses, and what ``fit`` adds (issue 19).

Three measurements, each in this one run:

1. **Achieved GFLOP/s of a training step** (forward, backward, SGD step on a batch of 128
   CIFAR-sized images) at 10 / 25 / 100 % of the filters, without dropout and with Information
   Dropout (Softplus, β = 3 as the cpu profiles), in contiguous (NCHW) and channels_last memory
   format. FLOPs are counted once per configuration with ``torch.utils.flop_counter.FlopCounterMode``
   (it counts the matmuls and convolutions, 2 FLOPs per multiply-add, and none of the elementwise
   work), and compared with the fp32 matmul rate of this machine, measured in the same run on
   square 2048 × 2048 products. Goal: ≥ 40 % of the matmul rate at 25 % of the filters for both kinds.
2. **fit vs a tight loop at equal work**: one epoch of :func:`ibcore.train.fit` (the budget-aware
   recipe of the cpu profiles: per-step rate, flips, NaN guard, BatchNorm dry run, test error) against
   a hand-written loop that does the same training steps, the same dry run and the same test, with
   nothing else. Goal: fit ≤ 1.1× the tight loop.
3. **The cost of Information Dropout** (issue 26 item 4): its training step over the no-dropout step,
   channels_last as ``fit`` trains, with f and g computed by one convolution of stacked weights
   (``fused``, the layer's default) and by two (``unfused``, the layer before item 4), interleaved
   over ``--ratio-rounds`` rounds; the median of the per-round ratios. Goal: fused ≤ 1.2×. Beside
   them, ``no tail``: the fused layer without its elementwise tail (no α, no KL formula, no noise; g's
   output summed into the loss so that its convolution still trains), the part of the cost that is
   the convolutions and the split; the rest of the fused ratio is the tail's.

Usage: ``python benchmarks/cpu_training_efficiency.py [--threads 2] [--steps 6] [--fractions 0.1 0.25 1.0]
[--only-ratio]``. Synthetic images (no data needed); run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import statistics
import time
import types

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ibcore.cache import device_name
from ibcore.layers import bottlenecks, kl_loss
from ibcore.models import AllCNN32
from ibcore.train import Recipe, error_rate, fit, learning_rate_at, recalibrate_batchnorm

BATCH = 128
BETA = 3.0
#: The cpu profiles' recipe (ibcore.experiments.cifar.BUDGET), for the fit-vs-tight-loop comparison.
RECIPE = Recipe(epochs=1, lr=0.2, schedule="linear", warmup=0.1, batch_size=BATCH, weight_decay=5e-4,
                augment="flip", recalibration_size=1000)


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """The best fp32 matmul rate of ``repeats`` square products, GFLOP/s."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * size ** 3 / best / 1e9


def _without_tail(layer: nn.Module, x: torch.Tensor, noisy: bool | None = None) -> torch.Tensor:
    """An Information Dropout layer's forward with its elementwise tail cut: f's and g's fused
    convolution, f's BatchNorm and activation; g's output summed as the "KL", so that it still trains."""
    f_out, g_out = layer.branches(x)
    layer.kl_map = g_out.sum(1)
    layer.kl = layer.kl_map.flatten(1).sum(1)
    return layer.act(layer.norm(f_out))


def _model(fraction: float, dropout: str, channels_last: bool) -> nn.Module:
    """All-CNN-32 as the cpu profiles build it; ``dropout="information-unfused"``: f and g as two convs;
    ``"information-no-tail"``: fused, without the elementwise tail (:func:`_without_tail`)."""
    torch.manual_seed(0)
    kind = "information" if dropout.startswith("information") else dropout
    model = AllCNN32(filter_fraction=fraction, dropout=kind, activation="softplus", input_dropout=0.2)
    for layer in bottlenecks(model):
        layer.fused = dropout != "information-unfused"
        if dropout == "information-no-tail":
            layer.forward = types.MethodType(_without_tail, layer)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def _step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    loss = nn.functional.cross_entropy(model(x), y) + BETA * kl_loss(model, 50_000)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def step_rate(fraction: float, dropout: str, channels_last: bool, steps: int,
              clock=time.perf_counter) -> tuple[float, float]:
    """(GFLOP per step, seconds per step: the best of ``steps`` after two warm-up steps).

    ``clock``: wall time, or ``time.process_time`` (the process's CPU time, which a busy shared core
    disturbs far less: on one thread it is the step's own work)."""
    model = _model(fraction, dropout, channels_last).train()
    x, y = torch.randn(BATCH, 3, 32, 32), torch.randint(0, 10, (BATCH,))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    with FlopCounterMode(display=False) as counter:
        _step(model, optimizer, x, y)
    _step(model, optimizer, x, y)
    best = float("inf")
    for _ in range(steps):
        t0 = clock()
        _step(model, optimizer, x, y)
        best = min(best, clock() - t0)
    return counter.get_total_flops() / 1e9, best


def _images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


def tight_epoch(fraction: float, train, test) -> float:
    """The same work as one epoch of fit, written as plainly as possible: seconds."""
    model = _model(fraction, "information", channels_last=True)
    x, y = (t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t for t in train)
    x_test = test[0].contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=RECIPE.lr, momentum=0.9, nesterov=True,
                                weight_decay=RECIPE.weight_decay)
    per_epoch = len(x) // BATCH
    t0 = time.perf_counter()
    model.train()
    generator = torch.Generator().manual_seed(0)
    order, flips = torch.randperm(len(x), generator=generator), torch.rand(len(x), generator=generator) < 0.5
    for step in range(per_epoch):
        idx = order[step * BATCH:(step + 1) * BATCH]
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(RECIPE, step, per_epoch)
        xb = torch.where(flips[idx].view(-1, 1, 1, 1), x[idx].flip(-1), x[idx])
        _step(model, optimizer, xb, y[idx])
    recalibrate_batchnorm(model, x[:RECIPE.recalibration_size])
    error_rate(model, x_test, test[1])
    return time.perf_counter() - t0


def fit_epoch(fraction: float, train, test) -> float:
    model = _model(fraction, "information", channels_last=False)  # fit converts the layout itself
    history = fit(model, train, test, beta=BETA * len(train[0]) / 50_000, recipe=RECIPE, progress=False)
    return history["seconds"][0]


def dropout_cost(fractions: list[float], steps: int, rounds: int) -> None:
    """Print the Information Dropout step over the no-dropout step, fused and unfused (section 3), beside the
    ratio of their FLOPs: g's convolution, as large as f's, sets a floor no fusion removes."""
    variants = ("none", "information", "information-unfused", "information-no-tail")
    for fraction in fractions:
        seconds: dict[str, list[float]] = {v: [] for v in variants}
        gflop: dict[str, float] = {}
        for _ in range(rounds):
            for variant in variants:
                gflop[variant], step = step_rate(fraction, variant, True, steps, time.process_time)
                seconds[variant].append(step)
        ratios = {v: [t / n for t, n in zip(seconds[v], seconds["none"])] for v in variants[1:]}
        names = {"information": "fused", "information-unfused": "unfused", "information-no-tail": "no tail"}
        cells = [f"{names.get(v, v)} {1000 * statistics.median(seconds[v]):.0f} ms" for v in variants]
        print(f"{100 * fraction:>7.0f}% " + " · ".join(cells) + " · ratio to none: " + " · ".join(
            f"{names[v]} {statistics.median(r):.2f}× [{min(r):.2f}–{max(r):.2f}]" for v, r in ratios.items())
            + f" · FLOPs {gflop['information'] / gflop['none']:.2f}× (g's convolution)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--steps", type=int, default=6, help="timed training steps per configuration (best kept)")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.25, 1.0])
    parser.add_argument("--fit-images", type=int, default=6400, help="training images of the fit-vs-loop epoch")
    parser.add_argument("--rounds", type=int, default=2, help="alternate fit and the tight loop this many times")
    parser.add_argument("--ratio-rounds", type=int, default=5,
                        help="interleaved rounds of the Information-Dropout-over-none ratio (median kept)")
    parser.add_argument("--only-ratio", action="store_true", help="measure the dropout ratio only (section 3)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"Information Dropout step / no-dropout step, channels_last, batch {BATCH}, {args.threads} thread(s), "
          f"process CPU time, best of {args.steps} steps per build, median [range] of {args.ratio_rounds} interleaved rounds")
    dropout_cost([f for f in args.fractions if f < 1] or args.fractions, args.steps, args.ratio_rounds)
    if args.only_ratio:
        return
    peak = matmul_gflops()
    print(f"{device_name('cpu')} · fp32 matmul rate {peak:.0f} GFLOP/s (2048², best of 5) · batch {BATCH}")
    print(f"{'filters':>8} {'dropout':>12} {'layout':>14} {'GFLOP/step':>11} {'ms/step':>8} {'GFLOP/s':>8} "
          f"{'of matmul':>10}")
    for fraction in args.fractions:
        for dropout in ("none", "information"):
            for channels_last in (False, True):
                flops, seconds = step_rate(fraction, dropout, channels_last, args.steps)
                rate = flops / seconds
                print(f"{100 * fraction:>7.0f}% {dropout:>12} {'channels_last' if channels_last else 'contiguous':>14} "
                      f"{flops:>11.2f} {1000 * seconds:>8.0f} {rate:>8.1f} {100 * rate / peak:>9.1f}%", flush=True)
    train, test = _images(args.fit_images, 0), _images(1000, 1)
    best = {"fit": float("inf"), "tight": float("inf")}
    for _ in range(args.rounds):
        best["fit"] = min(best["fit"], fit_epoch(0.25, train, test))
        best["tight"] = min(best["tight"], tight_epoch(0.25, train, test))
    print(f"one epoch at 25 % of the filters, Information Dropout, {args.fit_images:,} images + dry run + test: "
          f"fit {best['fit']:.1f} s, tight loop {best['tight']:.1f} s, fit/tight {best['fit'] / best['tight']:.2f}×")


if __name__ == "__main__":
    main()
