"""Evaluation helpers of the training loop: batches, BatchNorm recalibration, noise switches,
the test error, the clean training error and the ELBO of the VAEs (§7's, and the hybrid VAE-PixelCNN's).

Two kinds of evaluation, never mixed (``../DESIGN.md``, "Conventions"):

* **noise off** (ε = 1): BatchNorm uses statistics recalibrated on the training set with
  every noise source off, the original code's "dry run" (:func:`recalibrate_batchnorm`);
* **noise on** (Fig. 1, Fig. 4 "N", the TC of Fig. 5): BatchNorm uses statistics gathered
  with the noise on (``recalibrate_batchnorm(..., noisy=True)``, usually on a copy of the model,
  see :func:`ibcore.metrics.representations.noisy_copy`).
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Iterator

import torch
from torch import Tensor, nn

from ibcore.layers import bottlenecks


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def accumulation_dtype(device: torch.device) -> torch.dtype:
    """float64 for sums over a data set, except on MPS, which has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


def batch_indices(n: int, batch_size: int, generator: torch.Generator | None = None, *,
                  drop_last: bool = False) -> list[Tensor]:
    """Index tensors of the batches of an epoch: shuffled by ``generator`` (in order without one).

    ``drop_last`` drops the last partial batch, as the original code does (a remainder of
    one example would also crash BatchNorm1d in training mode).
    """
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    parts = list(order.split(batch_size))
    if drop_last and parts and len(parts[-1]) < batch_size:
        parts.pop()
    return parts


def noise_modules(model: nn.Module) -> list[nn.Module]:
    """Every source of noise in ``model``: its bottleneck layers and its binary dropout layers."""
    noisy = set(bottlenecks(model))
    return [m for m in model.modules() if m in noisy or isinstance(m, nn.Dropout)]


@contextmanager
def noise_on(model: nn.Module, modules: list[nn.Module] | None = None) -> Iterator[None]:
    """Switch the noise of ``modules`` (default: every noise source) on, the rest of ``model`` as it is.

    Only those modules' own ``training`` flag is set (not their children's), so a BatchNorm
    inside an Information Dropout layer keeps using its running statistics.
    """
    modules = noise_modules(model) if modules is None else modules
    flags = [m.training for m in modules]
    for m in modules:
        m.training = True
    try:
        yield
    finally:
        for m, flag in zip(modules, flags):
            m.training = flag


@contextmanager
def latent_noise(model: nn.Module) -> Iterator[None]:
    """The bottlenecks' noise on, nothing else: how the VAE's ELBO is evaluated (one z ~ q(z|x))."""
    with noise_on(model, bottlenecks(model)):
        yield


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, x: Tensor, batch_size: int = 500, *, noisy: bool = False,
                          seed: int = 0) -> None:
    """Re-estimate every BatchNorm's running statistics on ``x``, noise off (default) or on.

    BatchNorm normalises with batch statistics as in training while hooks accumulate the
    exact mean and unbiased variance of its inputs over all of ``x``; those become the
    running statistics. With ``noisy=False`` every other module is in eval mode (the
    original code's "dry run": the statistics a noise-off test needs). With ``noisy=True``
    the noise sources are on (sampled from ``seed``): the statistics of the distribution
    that noisy evaluation measures. Inputs move to the model's device. Ends in eval mode.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    model.eval()
    if not norms:
        return
    device = model_device(model)
    acc_dtype = accumulation_dtype(device)
    sums: dict[nn.Module, list] = {m: [0.0, 0.0, 0] for m in norms}

    def accumulate(module: nn.Module, inputs: tuple[Tensor]) -> None:
        dims = [d for d in range(inputs[0].dim()) if d != 1]
        values = inputs[0].to(acc_dtype)
        acc = sums[module]
        acc[0] = acc[0] + values.sum(dims)
        acc[1] = acc[1] + values.square().sum(dims)
        acc[2] += values.numel() // values.shape[1]

    hooks = [m.register_forward_pre_hook(accumulate) for m in norms]
    fork = torch.random.fork_rng(devices=[device] if device.type == "cuda" else [])
    try:
        with fork:
            torch.manual_seed(seed)
            for m in norms:
                m.train()
            with noise_on(model) if noisy else nullcontext():
                for idx in batch_indices(len(x), batch_size):
                    model(x[idx].to(device, non_blocking=True))
    finally:
        for hook in hooks:
            hook.remove()
        for m in norms:
            m.eval()
    for m, (total, total_sq, count) in sums.items():
        mean = total / count
        var = (total_sq - count * mean.square()) / max(count - 1, 1)
        m.running_mean.copy_(mean.to(m.running_mean.dtype))
        m.running_var.copy_(var.clamp_min(0).to(m.running_var.dtype))


@contextmanager
def nullcontext() -> Iterator[None]:
    yield


@torch.no_grad()
def error_rate(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000) -> float:
    """Fraction of misclassified examples, model in eval mode (noise off); one host sync."""
    model.eval()
    device = model_device(model)
    wrong = torch.zeros((), dtype=torch.long, device=device)
    for idx in batch_indices(len(x), batch_size):
        logits = model(x[idx].to(device, non_blocking=True))
        wrong += (logits.argmax(1) != y[idx].to(device, non_blocking=True)).sum()
    return int(wrong) / len(x)


#: How many training examples the clean training error reads: the first min(CLEAN_TRAIN_SIZE, N), in
#: the training set's own order (the same images the noise-off BatchNorm recalibration reads first).
CLEAN_TRAIN_SIZE = 10_000


def is_convolutional(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def evaluation_inputs(model: nn.Module, x: Tensor) -> Tensor:
    """``x`` as :func:`ibcore.train.fit` feeds it to ``model``: on the model's device, and in
    ``channels_last`` memory format when ``model`` is convolutional and ``x`` holds images."""
    x = x.to(model_device(model))
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 and is_convolutional(model) else x


@torch.no_grad()
def clean_train_error(model: nn.Module, train_data: tuple[Tensor, Tensor], size: int = CLEAN_TRAIN_SIZE) -> float:
    """The clean training error: the error on the first min(``size``, N) training examples, measured
    exactly as :func:`ibcore.train.fit` measures the test error (noise off, ε = 1; no augmentation;
    BatchNorm with the statistics recalibrated on the training set with the noise off, the original
    code's "dry run", which ``fit`` leaves in the model after its last epoch).

    Unlike the running ``train_error`` of a history (a mean over the epoch's noisy, possibly
    augmented batches while the weights still change), it reads the trained network as it is
    tested, so that ``test_error − clean_train_error`` is the generalisation gap that claims about
    preventing overfitting are about (``../DESIGN.md``, "Verdicts").
    """
    x, y = train_data
    n = min(size, len(x))
    return error_rate(model, evaluation_inputs(model, x[:n]), y[:n])


def reconstruction_terms(model: nn.Module, x: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Per-example terms of eq. 7 in nats: (−log p(x|z), KL(q(z|x) ‖ p(z))), each of shape [batch].

    ``model(x)`` must return Bernoulli logits of the decoder p(x|z) for one sample
    z ~ q(z|x); the NLL is summed over all pixels of ``target`` (binary, same
    number of elements per example). The KL is the sum of the bottlenecks' ``.kl``.
    The ELBO is ``-(nll + kl)``; its expectation over z makes ``-nll`` a Monte
    Carlo estimate of E_q[log p(x|z)] with one sample.
    """
    logits = model(x)
    target = target.reshape(logits.shape).to(logits.dtype)
    nll = nn.functional.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="none")
    nll = nll.flatten(1).sum(1)
    terms = [layer.kl.float() for layer in bottlenecks(model) if hasattr(layer, "kl")]
    kl = torch.stack(terms).sum(0) if terms else torch.zeros_like(nll)
    return nll, kl


@torch.no_grad()
def negative_elbo(model: nn.Module, x: Tensor, target: Tensor | None = None,
                  batch_size: int = 1000) -> tuple[float, float, float]:
    """Mean over examples of (−ELBO, −E_q log p(x|z), KL) in nats, eval mode with the latent noise on.

    One z ~ q(z|x) per example (an unbiased estimate of each example's ELBO;
    averaged over a test set its Monte Carlo error is small). ``target``
    defaults to ``x`` (y = x, §7). Inputs move to the model's device; one host sync.
    """
    target = x if target is None else target
    model.eval()
    device = model_device(model)
    sums = torch.zeros(2, dtype=accumulation_dtype(device), device=device)
    with latent_noise(model):
        for idx in batch_indices(len(x), batch_size):
            nll, kl = reconstruction_terms(model, x[idx].to(device), target[idx].to(device))
            sums += torch.stack([nll.sum(), kl.sum()]).to(sums.dtype)
    nll_mean, kl_mean = (float(v) / len(x) for v in sums.cpu())
    return nll_mean + kl_mean, nll_mean, kl_mean


@torch.no_grad()
def mean_elbo_terms(model: nn.Module, x: Tensor, batch_size: int = 500) -> tuple[float, float, float]:
    """Mean over examples of (−ELBO, −E_q log p(x|z), KL(q(z|x) ‖ p(z))) in nats, for a model whose
    forward returns per-example ELBO terms (:class:`ibcore.models.ElboTerms`).

    Eval mode: one z ~ q(z|x) per example (the model samples it), the decoder's bottleneck
    without noise (Rey & Mnih, App. B). Its Σ_j KL_j is not part of the ELBO and is left out.
    Inputs move to the model's device; one host sync.
    """
    model.eval()
    device = model_device(model)
    sums = torch.zeros(2, dtype=accumulation_dtype(device), device=device)
    for idx in batch_indices(len(x), batch_size):
        terms = model(x[idx].to(device))
        sums += torch.stack([terms.nll.sum(), terms.kl.sum()]).to(sums.dtype)
    nll_mean, kl_mean = (float(v) / len(x) for v in sums.cpu())
    return nll_mean + kl_mean, nll_mean, kl_mean
