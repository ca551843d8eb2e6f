"""How long a training epoch takes, per model and size, on each kind of device, and where each figure came from.

Two device kinds, the two the profiles are sized for:

* ``cpu``: the project's 2-core machine, one thread per trial, two trials at once (``--jobs 2``): a
  figure is one trial's epoch in that setting, so two trials take the time of one.
* ``gpu``: one H100 or H200 (the figures were measured on an H100): a figure is one trial alone.

A figure is one epoch of ``images`` training images *with* the per-epoch BatchNorm dry run and
test. :data:`MEASURED` holds the measured ones. Every other figure is derived, and says how:

* cpu: from the measured figure of the same model and variant at the nearest size, by the ratio of
  multiply-accumulates per image (the 2-core CPU is bound by arithmetic at these sizes);
* gpu: an H100 step costs the larger of *dispatching* its operations (18.4 µs an aten operation:
  the MLP's measured epoch, 1.41 s for 226 steps of 338 operations each) and *computing* them
  (All-CNN-96's measured 10.7k images/s at 512 M multiply-accumulates an image: 33 TFLOP/s
  effective), plus the dry run and the test at one forward pass per image. Most of the book's
  networks are small: their steps are bound by dispatch, which packed trials share (eight MLP
  processes gave 6.6× the throughput of one); arithmetic does not pack (``gpu_busy``).

Operations per step are counted by ``benchmarks/model_costs.py`` (TorchDispatchMode through
:func:`ibcore.train.fit`, each with its profiles' optimiser); it also checks the multiply-accumulate
counts below against forward hooks. Run it after changing a model and update :data:`OPS_PER_STEP`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NamedTuple

KINDS = ("cpu", "gpu")
#: Measured on the 2-core machine on 2026-12-01: one thread per trial, two trials at once.
_CPU_TODAY = "measured on the 2-core CPU (2026-12-01), one thread per trial, two trials at once"
_H100 = "measured on an H100 with ibcore's own code (issue 22)"


class Work(NamedTuple):
    """What one training costs: the model, its variant (dropout kind, latent, …), its size, and the
    epoch's shape."""

    model: str          # "mlp", "all-cnn-32", "all-cnn-96", "vae", "vae-pixelcnn", "nuisance-head"
    variant: str        # dropout kind (with the activation where it changes the step), latent, bottleneck
    size: float | str   # width, filter fraction, k, input channels; a label for vae-pixelcnn
    epochs: int
    n_train: int
    n_eval: int         # images of the per-epoch dry run and test together
    batch_size: int


@dataclass(frozen=True)
class Figure:
    """Seconds of one epoch of ``images`` training images (dry run and test included), and their source.
    ``gpu_busy``: the seconds of it the GPU spends computing (0 on a CPU). ``basis``: the measured
    figures a derived one rests on (empty for a measured figure, whose ``source`` says where it was measured)."""

    seconds: float
    images: int
    source: str
    gpu_busy: float = 0.0
    basis: tuple[str, ...] = ()

    @property
    def measured(self) -> bool:
        return not self.basis


def _mlp(seconds: float, source: str) -> Figure:
    return Figure(seconds, 22_699, source)


_SWEEP = "measured on the 2-core CPU in results/mnist-width-sweep-cpu.json (one thread, two trials at once)"
#: (kind, model, variant, size) → measured figure.
MEASURED: dict[tuple[str, str, str, float | str], Figure] = {
    ("gpu", "mlp", "information", 1024): _mlp(1.41, f"{_H100}: 1.41 s an epoch through fit (a tight loop: 1.08 s)"),
    ("gpu", "all-cnn-96", "information", 1.0): Figure(
        50_000 / 10_700 + 20_000 / 10_700 / 3, 50_000,
        f"{_H100}: 10.7k images/s in channels_last (4.4k NCHW); dry run and test at a third of that per image",
        gpu_busy=50_000 / 10_700 + 20_000 / 10_700 / 3),
    **{("cpu", "all-cnn-32", variant, fraction): Figure(seconds, 50_000, f"{_CPU_TODAY}, batch 128, with the test")
       for (fraction, variant), seconds in {
           (0.1, "none"): 37, (0.1, "binary"): 40, (0.1, "information softplus"): 45,
           (0.25, "none"): 83, (0.25, "binary"): 90, (0.25, "information softplus"): 115}.items()},
    **{("cpu", "vae", latent, k): _mlp(seconds * 1.3, f"{_CPU_TODAY}: {seconds} s training + ~30 % for the test")
       for k, seconds in ((1, 2.4), (2, 9.0), (3, 17.8)) for latent in ("gaussian", "information")},
    **{("cpu", "vae-pixelcnn", bottleneck, "binarized-mnist 32/16x5"): _mlp(
        227 + 17, f"{_CPU_TODAY}: ~100 images/s training (310-333 ms a step of 32 for every bottleneck), "
                  "the test on 5,000 images 17 s") for bottleneck in ("none", "gaussian", "variational")},
    ("cpu", "all-cnn-96", "information", 0.25): Figure(
        124, 6_000, "measured on the 2-core CPU in results/cluttered-mnist-cpu.json (batch 32, one thread)"),
    ("cpu", "mlp", "information", 256): _mlp(3.3, "measured on the 2-core CPU in results/activation-priors-cpu.json"),
    ("cpu", "nuisance-head", "relu", 48): Figure(
        2.9, 5_000, "measured on the 2-core CPU in results/occluded-cifar-cpu.json (48 channels in, batch 100)"),
    **{("cpu", "mlp", variant, width): _mlp(seconds, _SWEEP) for (width, variant), seconds in {
        (3, "none"): 0.83, (3, "binary"): 1.0, (3, "lognormal"): 0.93, (3, "information"): 1.32,
        (8, "none"): 0.79, (8, "binary"): 1.08, (8, "lognormal"): 0.89, (8, "information"): 1.67,
        (32, "none"): 1.0, (32, "binary"): 1.17, (32, "lognormal"): 1.19, (32, "information"): 1.84,
        (128, "none"): 1.55, (128, "binary"): 1.97, (128, "lognormal"): 1.68, (128, "information"): 3.88,
        (512, "none"): 6.78, (512, "binary"): 8.3, (512, "lognormal"): 7.35, (512, "information"): 20.8}.items()},
}

#: aten operations dispatched per training step through fit (benchmarks/model_costs.py), per (model, variant).
OPS_PER_STEP: dict[tuple[str, str], int] = {
    ("mlp", "none"): 139, ("mlp", "binary"): 154, ("mlp", "lognormal"): 168, ("mlp", "information"): 321,
    ("mlp", "information softplus"): 495,
    ("all-cnn-32", "none"): 307, ("all-cnn-32", "binary"): 317, ("all-cnn-32", "information relu"): 452,
    ("all-cnn-32", "information softplus"): 562, ("all-cnn-96", "information"): 679,
    ("nuisance-head", "relu"): 121, ("vae", "gaussian"): 239, ("vae", "information"): 335,
    ("vae-pixelcnn", "none"): 1913, ("vae-pixelcnn", "gaussian"): 1921, ("vae-pixelcnn", "variational"): 2023,
}
#: Multiply-accumulates per image of the VAE-PixelCNN models of the profiles (forward hooks), by label.
PIXELCNN_MACS: dict[str, float] = {"binarized-mnist 8/8x3": 4.25e6, "binarized-mnist 32/16x5": 53.8e6,
                                   "cifar10 32/16x5": 79.7e6, "cifar10 256/128x12": 9.95e9}
#: Operations of a step of the measured MLP (Information Dropout, SGD with Nesterov: fit_vs_tight_loop.py).
ANCHOR_OPS = 338
#: Seconds an aten operation takes to dispatch on the H100 (MLP width 1024: 1.41 s / (226 steps × 338)).
SECONDS_PER_OP = 1.41 / (22_699 // 100 * ANCHOR_OPS)
#: Effective H100 rate in multiply-accumulates per second (All-CNN-96: 10.7k images/s × 3 passes × 512 M).
MACS_PER_SECOND = 10_700 * 3 * 512.3e6
#: Throughput of J packed trials on one GPU relative to one: 6.6× at 8 (measured with MLPs); not claimed beyond.
PACKED_GAIN_AT_8 = 6.6
PACKING_SOURCE = (f"{_H100}: eight MLP trials in parallel processes, 6.6× the throughput of one (dispatch-bound "
                  "work packs so, linearly in between; arithmetic does not pack; not claimed beyond eight)")
GPU_DERIVATION = (f"gpu figures not measured are derived: a step's dispatch at {1e6 * SECONDS_PER_OP:.1f} µs an "
                  "operation (the MLP's measured epoch; operations per step counted by benchmarks/model_costs.py), "
                  "its arithmetic at All-CNN-96's measured rate (FLOP ratio), the larger of the two, plus the "
                  "dry run and test at one forward pass an image")
CPU_DERIVATION = ("cpu figures not measured are derived from the same model at the nearest measured size "
                  "(and dropout kind) by FLOP ratio")
_GPU_ANCHORS = (MEASURED[("gpu", "mlp", "information", 1024)].source,
                MEASURED[("gpu", "all-cnn-96", "information", 1.0)].source)


def macs_per_image(model: str, variant: str, size: float | str) -> float | None:
    """Multiply-accumulates of one forward pass of one image (None: not known for this model)."""
    from ibcore.models.classifiers import ALL_CNN_32, ALL_CNN_96

    information = variant.startswith("information")
    if model == "mlp":
        w = size
        return (2 if information else 1) * (784 * w + 2 * w * w) + 10 * w
    if model in ("all-cnn-32", "all-cnn-96"):
        table, side, channels = (ALL_CNN_32, 32, 3) if model == "all-cnn-32" else (ALL_CNN_96, 96, 1)
        total = 0.0
        for filters, kernel, stride, noisy in table:
            width = max(1, round(filters * size))
            side = -(-side // stride)
            total += side * side * width * channels * kernel * kernel * (2 if noisy and information else 1)
            channels = width
        return total + side * side * 10 * channels + 100
    if model == "vae":
        hidden, latent = 512 * size, 256 * size
        return 784 * hidden + 2 * hidden * latent + latent * hidden + hidden * 784
    if model == "nuisance-head":
        return 8 * 8 * 64 * size * 9 + 4 * 4 * 64 * 64 * 9 + 640
    if model == "vae-pixelcnn":
        return PIXELCNN_MACS.get(str(size))
    return None


def epoch(kind: str, work: Work) -> Figure | None:
    """The figure for one epoch of ``work`` on ``kind``: measured if :data:`MEASURED` has it, else derived
    (see the module's docstring); None if nothing to derive it from."""
    if kind not in KINDS:
        raise ValueError(f"unknown device kind {kind!r}; known: {', '.join(KINDS)}")
    return _cpu_epoch(work) if kind == "cpu" else _gpu_epoch(work)


def _cpu_epoch(work: Work) -> Figure | None:
    """The measured cpu figure of the same model and variant (else of the same dropout kind, e.g. the
    Softplus variant for the ReLU one) at the nearest size, scaled by images and FLOP ratio."""
    def measured(match) -> list[tuple[str, float | str, Figure]]:
        return [(variant, size, figure) for (kind, model, variant, size), figure in MEASURED.items()
                if kind == "cpu" and model == work.model and match(variant)]

    same = (measured(lambda v: v == work.variant)
            or measured(lambda v: v.split()[0] == work.variant.split()[0]))
    if not same:
        return None
    variant, size, figure = min(same, key=lambda item: _distance(item[1], work.size))
    scale = work.n_train / figure.images
    if (variant, size) == (work.variant, work.size):
        if figure.images == work.n_train:
            return figure
        return Figure(figure.seconds * scale, work.n_train, f"scaled to {work.n_train:,} images",
                      basis=(figure.source,))
    mine, theirs = macs_per_image(work.model, work.variant, work.size), macs_per_image(work.model, variant, size)
    if not (mine and theirs):
        return None
    return Figure(figure.seconds * scale * mine / theirs, work.n_train,
                  f"derived from {variant} at {_size_text(work.model, size)} by FLOP ratio ({mine / theirs:.2g}×)",
                  basis=(CPU_DERIVATION, figure.source))


def _distance(a: float | str, b: float | str) -> float:
    if isinstance(a, str) or isinstance(b, str):
        return 0.0 if a == b else 1.0
    return abs(a - b)


def _gpu_epoch(work: Work) -> Figure | None:
    measured = MEASURED.get(("gpu", work.model, work.variant, work.size))
    if measured is not None:
        scale = work.n_train / measured.images
        if measured.images != work.n_train:  # the same per-image cost, other images
            return Figure(measured.seconds * scale, work.n_train, f"scaled to {work.n_train:,} images",
                          measured.gpu_busy * scale, basis=(measured.source,))
        return measured
    ops, macs = OPS_PER_STEP.get((work.model, work.variant)), macs_per_image(work.model, work.variant, work.size)
    if ops is None or macs is None:
        return None
    steps = work.n_train // work.batch_size
    dispatch = steps * ops * SECONDS_PER_OP
    compute = 3 * work.n_train * macs / MACS_PER_SECOND
    evaluation = work.n_eval * macs / MACS_PER_SECOND
    bound = "dispatch" if dispatch >= compute else "arithmetic"
    return Figure(max(dispatch, compute) + evaluation, work.n_train,
                  f"derived: {steps} steps × {ops} operations, {macs / 1e6:.3g} M MACs an image; bound by {bound}",
                  gpu_busy=compute + evaluation, basis=(GPU_DERIVATION, *_GPU_ANCHORS))


def _size_text(model: str, size: float | str) -> str:
    if isinstance(size, str):
        return size
    if model.startswith("all-cnn"):
        return f"{100 * size:g} % of the filters"
    return {"mlp": f"width {size:g}", "vae": f"k = {size:g}",
            "nuisance-head": f"{size:g} channels in"}.get(model, f"size {size:g}")


def packed_gain(kind: str, jobs: int) -> float:
    """How many trials' worth of dispatch-bound work ``jobs`` packed trials get through at once."""
    if kind == "cpu":
        return float(max(1, min(jobs, os.cpu_count() or 1)))
    return 1 + (PACKED_GAIN_AT_8 - 1) * (min(jobs, 8) - 1) / 7
