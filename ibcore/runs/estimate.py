"""Estimated run times: each trial's trainings as :class:`~.throughput.Work`, summed per experiment with packing.

An experiment's estimate on a device kind with ``jobs`` packed trials is the largest of three
bounds: the GPU's arithmetic, which packing cannot share (Σ ``gpu_busy``); the trials' wall time
shared out over the packed gain (:func:`~.throughput.packed_gain`); its longest trial. Plus the
data preparation each worker does once per experiment (:data:`SETUP_SECONDS`). A queue's estimate
is the sum over its experiments (they overlap at their edges only: a safe bound).
Not included: starting the worker processes (a few seconds each, once) and what a trial measures
after training (KL maps, information, TC, samples other than the VAE-PixelCNN's).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ibcore.runs import throughput
from ibcore.experiments.registry import Config, get
from ibcore.runs.throughput import Figure, Work

#: Data preparation in each worker, once per experiment (measured on the 2-core CPU, one thread).
SETUP_SECONDS: dict[str, tuple[float, str]] = {
    "cifar": (30.0, "reading CIFAR-10 and applying the ZCA: 30 s measured on one thread of the 2-core CPU"),
    "occluded": (31.0, "occluding CIFAR-10 and applying the ZCA: 31 s measured on one thread of the 2-core CPU"),
}
#: Generating one Cluttered MNIST image (2,000 in 0.95 s on one thread of the 2-core CPU), per trial.
CLUTTERED_SECONDS_PER_IMAGE = 0.95 / 2000
#: aten operations of drawing 16 VAE-PixelCNN samples (benchmarks/model_costs.py), per dataset.
SAMPLE_OPS = {"binarized-mnist": 121_531, "cifar10": 249_863}
CPU_SAMPLE_SECONDS = (20.0, "16 samples of the cpu profile's VAE-PixelCNN: ~20 s measured on the 2-core CPU")


def mnist_train_size() -> int:
    """Training images in the data root's MNIST (the project's mirror has 22,699), else the official 60,000."""
    from ibcore.data import data_root

    path = Path(data_root()) / "MNIST" / "raw" / "train-images-idx3-ubyte"
    try:
        with open(path, "rb") as f:
            return int.from_bytes(f.read(8)[4:8], "big")
    except OSError:
        return 60_000


def _mnist_work(model: str, variant: str, size: float, config: Config, n_test: int = 10_000) -> Work:
    n_train = config.get("n_train") or mnist_train_size()
    return Work(model, variant, size, config["epochs"], n_train, n_train + (config.get("n_test") or n_test),
                config["batch_size"])


def _cifar_work(config: Config, variant: str, fraction: float, n_train: int = 50_000) -> Work:
    n_train = config.get("n_train") or n_train
    recalibration = min(config.get("recalibration_size") or n_train, n_train)
    return Work("all-cnn-32", variant, fraction, config["epochs"], n_train,
                recalibration + (config.get("n_test") or 10_000), config["batch_size"])


def _information(activation: str) -> str:
    return f"information {activation}"


def _mlp(config: Config, settings: dict) -> list[Work]:
    return [_mnist_work("mlp", settings["dropout"], settings["width"], config)]


def _priors(config: Config, settings: dict) -> list[Work]:
    variant = "information" if settings["activation"] == "relu" else "information softplus"
    return [_mnist_work("mlp", variant, config["width"], config)]


def _cifar_priors(config: Config, settings: dict) -> list[Work]:
    return [_cifar_work(config, _information(settings["activation"]), config["filter_fraction"])]


def _filters(config: Config, settings: dict) -> list[Work]:
    dropout = settings["dropout"]
    return [_cifar_work(config, _information("softplus") if dropout == "information" else dropout,
                        settings["filter_fraction"])]


def _beta(config: Config, settings: dict) -> list[Work]:
    return [_cifar_work(config, _information("softplus"), config["filter_fraction"])]


def _occluded(config: Config, settings: dict) -> list[Work]:
    main = _cifar_work(config, _information(config["activation"]), config["filter_fraction"])
    channels = max(1, round(192 * config["filter_fraction"]))
    head = main._replace(model="nuisance-head", variant="relu", size=channels, epochs=config["head_epochs"],
                         n_eval=config.get("n_test") or 10_000)
    return [main, head]


def _cluttered(config: Config, settings: dict) -> list[Work]:
    return [Work("all-cnn-96", "information", config["filter_fraction"], config["epochs"], config["n_train"],
                 min(config.get("recalibration_size") or config["n_train"], config["n_train"]) + config["n_test"],
                 config["batch_size"])]


def _vae(config: Config, settings: dict) -> list[Work]:
    return [_mnist_work("vae", settings["latent"], settings.get("k", config.get("k")), config)]


def pixelcnn_label(config: Config) -> str:
    return f"{config['dataset']} {config['vae_width']}/{config['pixelcnn_channels']}x{config['pixelcnn_layers']}"


def _pixelcnn(config: Config, settings: dict) -> list[Work]:
    if config["dataset"] == "cifar10":
        n_train, n_test = config["n_train"] or 50_000, config["n_test"] or 10_000
    else:
        n_train, n_test = config["n_train"] or mnist_train_size(), config["n_test"] or 10_000
    return [Work("vae-pixelcnn", settings["bottleneck"], pixelcnn_label(config), config["epochs"], n_train, n_test,
                 config["batch_size"])]


#: Experiment → its trials' trainings; an experiment missing here gets no estimate.
WORKLOADS: dict[str, Callable[[Config, dict], list[Work]]] = {
    "mnist-mlp": _mlp, "mnist-width-sweep": _mlp, "activation-priors": _priors,
    "cifar-activation-priors": _cifar_priors, "cifar-filters": _filters, "cifar-filters-seeds": _filters,
    "cifar-beta": _beta, "cifar-beta-overfit": _beta,
    "occluded-cifar": _occluded, "occluded-cifar-overfit": _occluded, "cluttered-mnist": _cluttered, "cluttered-mnist-seeds": _cluttered, "vae-elbo": _vae, "vae-elbo-k1": _vae, "vae-elbo-k2": _vae, "vae-beta": _vae,
    "pixelcnn-bottleneck": _pixelcnn,
}
_SETUP = {"cifar-filters": "cifar", "cifar-filters-seeds": "cifar", "cifar-beta": "cifar", "cifar-beta-overfit": "cifar", "cifar-activation-priors": "cifar",
          "occluded-cifar": "occluded", "occluded-cifar-overfit": "occluded"}


@dataclass
class Estimate:
    """An experiment's estimated seconds (None: no figure for some training), the figures it used
    (one line each), what they rest on (measured figures and derivations), and what had no figure."""

    name: str
    trials: int
    seconds: float | None
    figures: list[tuple[Work, Figure]] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def figure_lines(self) -> list[str]:
        """The figures used, one line per model and variant (sizes and seconds as ranges)."""
        groups: dict[tuple[str, str], list[tuple[Work, Figure]]] = {}
        for work, figure in self.figures:
            groups.setdefault((work.model, work.variant), []).append((work, figure))
        lines = []
        for (model, variant), items in groups.items():
            ordered = sorted({w.size for w, _ in items}, key=lambda v: (isinstance(v, str), str(v) if isinstance(v, str)
                                                                        else v))
            sizes = [throughput._size_text(model, size) for size in ordered]
            if len(sizes) > 3:
                sizes = [f"{sizes[0]} … {sizes[-1]} ({len(sizes)} sizes)"]
            seconds = sorted(f.seconds for _, f in items)
            span = f"{seconds[0]:.3g}" if seconds[0] == seconds[-1] else f"{seconds[0]:.3g}-{seconds[-1]:.3g}"
            lines.append(f"{model} {variant} at {', '.join(sizes)}: {span} s an epoch of "
                         f"{items[0][0].n_train:,} images ({_sources_text([f for _, f in items])})")
        return lines


def _sources_text(figures: list[Figure]) -> str:
    """One figure's source, or for several: measured, derived, and what bounds the derived ones."""
    sources = list(dict.fromkeys(f.source for f in figures))
    if len(sources) == 1:
        return sources[0]
    bounds = sorted({bound for f in figures for bound in ("dispatch", "arithmetic") if f"bound by {bound}" in f.source})
    kinds = sorted({"measured" if f.measured else "derived" for f in figures})
    return " and ".join(kinds) + (f"; bound by {' or '.join(bounds)}" if bounds else "")


def _extra_seconds(name: str, kind: str, config: Config) -> tuple[float, str | None]:
    """Seconds a trial spends outside its epochs that the estimate counts, and their source."""
    if name.startswith("cluttered-mnist"):
        return ((config["n_train"] + config["n_test"]) * CLUTTERED_SECONDS_PER_IMAGE,
                "generating Cluttered MNIST: 0.95 s per 2,000 images, measured on one thread of the 2-core CPU")
    if name == "pixelcnn-bottleneck":
        samples = config["latent_draws"] * config["samples_per_z"]
        if kind == "cpu":
            return CPU_SAMPLE_SECONDS[0] * samples / 16, CPU_SAMPLE_SECONDS[1]
        ops = SAMPLE_OPS[config["dataset"]]
        return ops * throughput.SECONDS_PER_OP, f"sampling: {ops:,} operations for 16 samples, at the dispatch rate"
    return 0.0, None


def _setup_seconds(name: str, config: Config) -> tuple[float, str | None]:
    """A worker's data preparation for the experiment: the measured figure for all 60,000 CIFAR-10 images,
    scaled to the images the config uses (at least 3 s: reading the files)."""
    if name not in _SETUP:
        return 0.0, None
    seconds, source = SETUP_SECONDS[_SETUP[name]]
    images = (config.get("n_train") or 50_000) + (config.get("n_test") or 10_000)
    return max(3.0, seconds * min(1.0, images / 60_000)), source


def _label(work: Work) -> str:
    return f"{work.model} {work.variant} at {throughput._size_text(work.model, work.size)}"


def estimate(name: str, config: Config, kind: str, jobs: int, trials: list[dict] | None = None) -> Estimate:
    """The estimate of experiment ``name`` with ``config`` on ``kind`` with ``jobs`` packed trials, for
    ``trials`` (default: all of the config's; pass the pending ones of a resumed run)."""
    trials = get(name).trials(config) if trials is None else trials
    result = Estimate(name, len(trials), None)
    workload = WORKLOADS.get(name)
    if workload is None:
        result.missing.append(f"{name}: no workload model in ibcore.runs.estimate")
        return result
    extra, extra_source = _extra_seconds(name, kind, config)
    walls, busy = [], 0.0
    for settings in trials:
        wall = extra
        for work in workload(config, settings):
            figure = throughput.epoch(kind, work)
            if figure is None:
                _add(result.missing, _label(work))
                continue
            wall += work.epochs * figure.seconds
            busy += work.epochs * figure.gpu_busy
            if (work, figure) not in result.figures:
                result.figures.append((work, figure))
            for basis in figure.basis or (figure.source,):
                _add(result.bases, basis)
        walls.append(wall)
    setup, setup_source = _setup_seconds(name, config)
    for source in (extra_source, setup_source):
        if source:
            _add(result.bases, source)
    if kind == "gpu" and jobs > 1:
        _add(result.bases, throughput.PACKING_SOURCE)
    if not result.missing and walls:
        gain = throughput.packed_gain(kind, min(jobs, len(trials)))
        result.seconds = setup + max(busy, sum(walls) / gain, max(walls))
    elif not walls:
        result.seconds = 0.0
    return result


def _add(items: list[str], text: str) -> None:
    if text not in items:
        items.append(text)


def device_kind(profile: str) -> str:
    """The kind a profile's estimate is for: a visible GPU, and the gpu and full profiles, mean ``gpu``."""
    import torch

    return "gpu" if profile in ("gpu", "full") or torch.cuda.is_available() else "cpu"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "no estimate"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
