"""The one training loop: loss = CE + β·Lz, SGD with momentum and step drops.

Data are tensors held in memory (no per-sample DataLoader). Before every
evaluation the BatchNorm statistics are recalibrated on the training set with
the noise off (the original code's "dry run"): during training BatchNorm saw
noisy activations whose mean is inflated by E ε = exp(α²/2).

With ``checkpoint=PATH`` the state after every epoch is written atomically;
calling :func:`fit` again with the same arguments resumes after the last
complete epoch and ends bit-identical (on CPU) to an uninterrupted run, since
each epoch's shuffling and noise come from a generator seeded by (seed, epoch).

``objective="reconstruction"`` trains on y = x instead (§7, eq. 7): the
per-example loss is the Bernoulli negative log-likelihood summed over pixels
plus β·KL(q(z|x) ‖ p(z)) per example (no division by N_train: eq. 7 is the
per-sample ELBO), and each epoch reports the test-set negative ELBO in nats.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ibcore.layers import bottlenecks, check_choice, kl_loss

HISTORY_KEYS = ("ce", "lz", "train_error", "test_error", "lr", "seconds")
#: History of ``objective="reconstruction"``: ``ce`` is the Bernoulli NLL and ``lz`` the KL, both
#: per training example in nats; ``test_nelbo = test_ce + test_lz`` is the test-set negative ELBO.
RECONSTRUCTION_KEYS = ("ce", "lz", "test_nelbo", "test_ce", "test_lz", "lr", "seconds")
OBJECTIVES = ("classification", "reconstruction")
OPTIMIZERS = ("sgd", "adam")


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the message says where and suggests remedies."""


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def learning_rate(epoch: int, lr: float, lr_drops: Sequence[int], factor: float = 0.1) -> float:
    """Step schedule of §8: ``lr`` times ``factor`` for every drop epoch ≤ ``epoch`` (0-based)."""
    return lr * factor ** sum(epoch >= d for d in lr_drops)


def _batches(n: int, batch_size: int, generator: torch.Generator | None) -> Iterator[Tensor]:
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    yield from order.split(batch_size)


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, x: Tensor, batch_size: int = 500) -> None:
    """Re-estimate BatchNorm running statistics on ``x`` with all noise off (the "dry run").

    Every module is put in eval mode (dropout and bottlenecks deterministic)
    except BatchNorm, which normalises with batch statistics as in training
    while hooks accumulate the exact mean and unbiased variance of its inputs
    over all of ``x``; those become the running statistics. Ends in eval mode.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    model.eval()
    if not norms:
        return
    sums: dict[nn.Module, list] = {m: [0.0, 0.0, 0] for m in norms}

    def accumulate(module: nn.Module, inputs: tuple[Tensor]) -> None:
        dims = [d for d in range(inputs[0].dim()) if d != 1]
        values = inputs[0].double()
        acc = sums[module]
        acc[0] = acc[0] + values.sum(dims)
        acc[1] = acc[1] + values.square().sum(dims)
        acc[2] += values.numel() // values.shape[1]

    hooks = [m.register_forward_pre_hook(accumulate) for m in norms]
    try:
        for m in norms:
            m.train()
        for idx in _batches(len(x), batch_size, None):
            model(x[idx])
    finally:
        for hook in hooks:
            hook.remove()
        for m in norms:
            m.eval()
    for m, (total, total_sq, count) in sums.items():
        mean = total / count
        var = (total_sq - count * mean.square()) / max(count - 1, 1)
        m.running_mean.copy_(mean)
        m.running_var.copy_(var.clamp_min(0))


@torch.no_grad()
def error_rate(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000) -> float:
    """Fraction of misclassified examples, model in eval mode (noise off)."""
    model.eval()
    wrong = sum(int((model(x[i]).argmax(1) != y[i]).sum()) for i in _batches(len(x), batch_size, None))
    return wrong / len(x)


@contextmanager
def latent_noise(model: nn.Module) -> Iterator[None]:
    """Turn the noise of every bottleneck on while the rest of ``model`` stays as it is.

    Only the bottlenecks' own ``training`` flag is set (not their children's), so
    BatchNorm inside an Information Dropout layer keeps its running statistics:
    this is how the ELBO's expectation over q(z|x) is evaluated at test time.
    """
    layers = bottlenecks(model)
    flags = [layer.training for layer in layers]
    for layer in layers:
        layer.training = True
    try:
        yield
    finally:
        for layer, flag in zip(layers, flags):
            layer.training = flag


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
    nll = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    nll = nll.flatten(1).sum(1)
    terms = [layer.kl for layer in bottlenecks(model) if hasattr(layer, "kl")]
    kl = torch.stack(terms).sum(0) if terms else torch.zeros_like(nll)
    return nll, kl


@torch.no_grad()
def negative_elbo(model: nn.Module, x: Tensor, target: Tensor | None = None,
                  batch_size: int = 1000) -> tuple[float, float, float]:
    """Mean over examples of (−ELBO, −E_q log p(x|z), KL) in nats, eval mode with the latent noise on.

    One z ~ q(z|x) per example (an unbiased estimate of each example's ELBO;
    averaged over a test set its Monte Carlo error is small). ``target``
    defaults to ``x`` (y = x, §7).
    """
    target = x if target is None else target
    model.eval()
    nll_sum = kl_sum = 0.0
    with latent_noise(model):
        for idx in _batches(len(x), batch_size, None):
            nll, kl = reconstruction_terms(model, x[idx], target[idx])
            nll_sum += float(nll.double().sum())
            kl_sum += float(kl.double().sum())
    return (nll_sum + kl_sum) / len(x), nll_sum / len(x), kl_sum / len(x)


def _validate(beta: float, epochs: int, lr: float, batch_size: int, train_data, test_data) -> None:
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    for name, (x, y) in (("train_data", train_data), ("test_data", test_data)):
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"{name}: need as many labels as inputs (> 0), got {len(x)} and {len(y)}")


def _fingerprint(model: nn.Module, settings: dict) -> str:
    text = json.dumps({"model": repr(model), **settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _save_atomic(state: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _resume(path: Path | None, fingerprint: str, model: nn.Module,
            optimizer: torch.optim.Optimizer,
            keys: Sequence[str] = HISTORY_KEYS) -> tuple[int, dict]:
    """Load a checkpoint written by the same run; returns (next epoch, history)."""
    if path is None or not path.exists():
        return 0, {k: [] for k in keys}
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("fingerprint") != fingerprint:
        raise ValueError(f"checkpoint {path} was written by a run with other settings or another "
                         "model; delete it or pass another checkpoint path")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["epoch"], state["history"]


def _batch_terms(model: nn.Module, x: Tensor, y: Tensor, objective: str,
                 n_train: int) -> tuple[Tensor, Tensor, int]:
    """(data term, Lz, misclassified count) of one batch; the loss is data term + β·Lz.

    Classification: mean CE and Lz = Σ_layers mean_batch KL / N_train (eq. 3).
    Reconstruction: mean Bernoulli NLL and mean KL per example (eq. 7); count 0.
    """
    if objective == "reconstruction":
        nll, kl = reconstruction_terms(model, x, y)
        return nll.mean(), kl.mean(), 0
    logits = model(x)
    ce = nn.functional.cross_entropy(logits, y)
    return ce, kl_loss(model, n_train).to(ce.device), int((logits.argmax(1) != y).sum())


def _train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, *,
                 beta: float, n_train: int, batch_size: int, generator: torch.Generator,
                 epoch: int, progress: bool,
                 objective: str = "classification") -> tuple[float, float, float]:
    """One pass over the shuffled training set; returns mean CE (or NLL), mean Lz, train error."""
    model.train()
    ce_sum = lz_sum = wrong = 0.0
    batches = list(_batches(len(x), batch_size, generator))
    bar = tqdm(batches, desc=f"epoch {epoch + 1}", leave=False, disable=not progress, unit="batch")
    for step, idx in enumerate(bar):
        ce, lz, batch_wrong = _batch_terms(model, x[idx], y[idx], objective, n_train)
        loss = ce + beta * lz
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"non-finite loss at epoch {epoch + 1}, batch {step + 1}: CE={ce.item():.4g}, "
                f"Lz={lz.item():.4g}, beta={beta}. Lower the learning rate or beta (the original "
                "code warns beta <= 0.5 on Cluttered MNIST) and check the inputs for NaN.")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        n = len(idx)
        ce_sum += ce.item() * n
        lz_sum += lz.item() * n
        wrong += batch_wrong
    return ce_sum / len(x), lz_sum / len(x), wrong / len(x)


def fit(model: nn.Module, train_data: tuple[Tensor, Tensor], test_data: tuple[Tensor, Tensor], *,
        beta: float, epochs: int, lr: float, momentum: float = 0.9,
        lr_drops: Sequence[int] = (), weight_decay: float = 0.0, batch_size: int = 100,
        seed: int = 0, device: str | torch.device | None = None,
        checkpoint: str | os.PathLike | None = None, progress: bool = True,
        recalibration_size: int | None = None, objective: str = "classification",
        optimizer: str = "sgd") -> dict[str, list[float]]:
    """Train ``model`` on CE + β·Lz (eq. 3) and return its per-epoch history.

    Lz = Σ_layers mean_batch(KL) / N_train (see :func:`ibcore.layers.kl_loss`);
    the optimiser is SGD with momentum, its rate multiplied by 0.1 at each
    epoch in ``lr_drops``. After each epoch BatchNorm is recalibrated with the
    noise off (on the first ``recalibration_size`` training examples, all by
    default) and the test error measured with the noise off.

    Returns a dict of lists, one entry per epoch: ``ce``, ``lz`` (means over
    the epoch's training batches), ``train_error`` (on the noisy training
    batches), ``test_error``, ``lr`` and ``seconds`` (wall time of the epoch).
    Raises :class:`NonFiniteLossError` if the loss becomes NaN/inf.

    ``objective="reconstruction"`` (§7, eq. 7): ``train_data``/``test_data``
    are ``(x, x)`` pairs (y = x, binary targets) and ``model(x)`` returns
    Bernoulli logits; the loss per example is NLL + β·KL (no division by
    N_train), and the history has :data:`RECONSTRUCTION_KEYS`, with the test
    negative ELBO (noise on, one sample per example) in place of the error.
    ``optimizer="adam"`` uses Adam (``momentum`` ignored) instead of SGD.
    """
    check_choice("objective", objective, OBJECTIVES)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    _validate(beta, epochs, lr, batch_size, train_data, test_data)
    device = pick_device(device)
    torch.manual_seed(seed)  # only matters for lazily initialised state; epochs reseed below
    model.to(device)
    x, y = (t.to(device) for t in train_data)
    x_test, y_test = (t.to(device) for t in test_data)
    optimizer_name = optimizer
    if optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    settings = dict(beta=beta, epochs=epochs, lr=lr, momentum=momentum, lr_drops=list(lr_drops),
                    weight_decay=weight_decay, batch_size=batch_size, seed=seed, n_train=len(x),
                    recalibration_size=recalibration_size, objective=objective, optimizer=optimizer_name)
    path = Path(checkpoint) if checkpoint is not None else None
    fingerprint = _fingerprint(model, settings)
    keys = RECONSTRUCTION_KEYS if objective == "reconstruction" else HISTORY_KEYS
    start, history = _resume(path, fingerprint, model, optimizer, keys)
    recal_x = x if recalibration_size is None else x[:recalibration_size]
    for epoch in tqdm(range(start, epochs), desc="training", disable=not progress, unit="epoch",
                      initial=start, total=epochs):
        t0 = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(epoch, lr, lr_drops)
        generator = _epoch_generator(seed, epoch)
        torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))  # the noise
        ce, lz, train_err = _train_epoch(model, optimizer, x, y, beta=beta, n_train=len(x),
                                         batch_size=batch_size, generator=generator,
                                         epoch=epoch, progress=progress, objective=objective)
        recalibrate_batchnorm(model, recal_x)
        if objective == "reconstruction":
            metrics = (ce, lz, *negative_elbo(model, x_test, y_test))
        else:
            metrics = (ce, lz, train_err, error_rate(model, x_test, y_test))
        for key, value in zip(keys, (*metrics, learning_rate(epoch, lr, lr_drops),
                                     time.perf_counter() - t0)):
            history[key].append(value)
        if path is not None:
            _save_atomic({"epoch": epoch + 1, "model": model.state_dict(),
                          "optimizer": optimizer.state_dict(), "history": history,
                          "fingerprint": fingerprint}, path)
    model.eval()
    return history


def total_seconds(history: dict[str, list[float]]) -> float:
    """Wall time of all epochs of a history."""
    return math.fsum(history["seconds"])
