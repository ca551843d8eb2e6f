"""The one training loop: loss = CE + β·Lz (eq. 3), trained by a :class:`~ibcore.train.Recipe`.

The recipe (:mod:`ibcore.train.recipe`) holds every setting: optimiser, schedule (the papers'
step drops or the budget-aware linear warm-up and decay, set every step), batch size,
augmentation, precision. Convolutional models train in ``channels_last`` memory format on every
device (on 2 CPU cores it is 1.3× faster for All-CNN-32: ``benchmarks/cpu_training_efficiency.py``).

Data are tensors held in memory and moved to the model's device once (no per-sample
DataLoader). Per-batch sums stay on the device: the loop synchronises with the host
once per epoch (and every :data:`SYNC_EVERY` steps, to stop a diverged run early), so a
GPU never waits on Python. Before every evaluation BatchNorm is recalibrated on the
training set with the noise off (the original code's "dry run"): during training it saw
noisy activations whose mean is inflated by E ε = exp(α²/2).

With ``checkpoint=PATH`` the state after every epoch is written atomically; calling
:func:`fit` again with the same arguments resumes after the last complete epoch and ends
bit-identical (on CPU) to an uninterrupted run, since each epoch's shuffling, flips and noise
come from a generator seeded by (seed, epoch) and the rate is a function of the global step. A non-finite loss raises
:class:`NonFiniteLossError` before any checkpoint or result holds it.

``objective="reconstruction"`` trains on y = x instead (§7, eq. 7): the per-example loss is
the Bernoulli negative log-likelihood summed over pixels plus β·KL(q(z|x) ‖ p(z)) per
example (no division by N_train: eq. 7 is the per-sample ELBO), and each epoch reports the
test-set negative ELBO in nats.

``objective="elbo"`` trains a model whose forward returns its own per-example ELBO terms
(:class:`ibcore.models.ElboTerms`: −log p(x|z), KL(q(z|x) ‖ p(z)), and Σ_j KL_j of a bottleneck
inside the decoder): the loss is −ELBO + β·Σ_j KL_j (Rey & Mnih, eq. 6 and L_VBL), again per
example; each epoch reports the test-set negative ELBO with the decoder's bottleneck noise off.
"""
from __future__ import annotations

import math
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ibcore.layers import check_choice, kl_loss
from ibcore.train import checkpoint as checkpoints
from ibcore.train.epoch_sums import SYNC_EVERY, EpochSums, NonFiniteLossError
from ibcore.train.recipe import Recipe, learning_rate_at
from ibcore.train.threads import training_threads
from ibcore.train.evaluation import (batch_indices, error_rate, evaluation_inputs, is_convolutional,
                                     mean_elbo_terms, negative_elbo, recalibrate_batchnorm, reconstruction_terms)

#: History of ``objective="classification"``: ``train_error`` is the running training error (noisy, augmented
#: batches); the clean one (noise off, as the test error) is :func:`~ibcore.train.clean_train_error`, after training.
HISTORY_KEYS = ("ce", "lz", "train_error", "test_error", "lr", "seconds")
#: History of ``objective="reconstruction"``: ``ce`` is the Bernoulli NLL and ``lz`` the KL, both
#: per training example in nats; ``test_nelbo = test_ce + test_lz`` is the test-set negative ELBO.
RECONSTRUCTION_KEYS = ("ce", "lz", "test_nelbo", "test_ce", "test_lz", "lr", "seconds")
#: History of ``objective="elbo"`` (nats per training example): ``nelbo`` and ``bottleneck_kl`` (Σ_j KL_j)
#: on the training batches; ``test_nelbo = test_nll + test_kl`` on the test set (``test_kl``: the VAE's KL).
ELBO_KEYS = ("nelbo", "bottleneck_kl", "test_nelbo", "test_nll", "test_kl", "lr", "seconds")
OBJECTIVES = ("classification", "reconstruction", "elbo")
class TrainingStopped(Exception):
    """:func:`fit` with ``stop_after=K`` ends after epoch K of the full run's schedule; ``history``: those K."""

    def __init__(self, history: dict[str, list[float]]) -> None:
        super().__init__(f"training stopped after epoch {len(history['seconds'])} (stop_after)")
        self.history = history


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def learning_rate(epoch: int, lr: float, lr_drops: Sequence[int]) -> float:
    """Step schedule of §8: ``lr`` times 0.1 for every drop epoch ≤ ``epoch`` (0-based)."""
    return learning_rate_at(Recipe(epochs=epoch + 1, lr=lr, lr_drops=tuple(lr_drops)), epoch, 1)


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def _validate(beta: float, recipe: Recipe, train_data, test_data) -> None:
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    for name, (x, y) in (("train_data", train_data), ("test_data", test_data)):
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"{name}: need as many labels as inputs (> 0), got {len(x)} and {len(y)}")
    if recipe.drop_last and len(train_data[0]) < recipe.batch_size:
        raise ValueError(f"{len(train_data[0])} training examples make no full batch of {recipe.batch_size}")
    if recipe.augment == "flip" and train_data[0].dim() != 4:
        raise ValueError(f"augment='flip' mirrors images [N, C, H, W]; got inputs of shape "
                         f"{tuple(train_data[0].shape)}")


def steps_per_epoch(n_train: int, recipe: Recipe) -> int:
    """Optimiser steps in one epoch of ``n_train`` examples (the last partial batch counts unless dropped)."""
    return n_train // recipe.batch_size if recipe.drop_last else -(-n_train // recipe.batch_size)


def _make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    if recipe.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                           weight_decay=recipe.weight_decay, nesterov=recipe.nesterov and recipe.momentum > 0)


def _batch_terms(model: nn.Module, x: Tensor, y: Tensor, objective: str,
                 n_train: int) -> tuple[Tensor, Tensor, Tensor]:
    """(data term, Lz, misclassified count) of one batch, all on the device; loss = data + β·Lz.

    Classification: mean CE and Lz = Σ_layers mean_batch KL / N_train (eq. 3).
    Reconstruction: mean Bernoulli NLL and mean KL per example (eq. 7); count 0.
    ELBO: mean −ELBO and mean Σ_j KL_j of the decoder's bottleneck per example; count 0.
    """
    if objective == "elbo":
        terms = model(x)
        return (terms.nll + terms.kl).mean(), terms.bottleneck_kl.mean(), torch.zeros((), device=x.device)
    if objective == "reconstruction":
        nll, kl = reconstruction_terms(model, x, y)
        return nll.mean(), kl.mean(), torch.zeros((), device=nll.device)
    logits = model(x)
    ce = nn.functional.cross_entropy(logits.float(), y)
    return ce, kl_loss(model, n_train).to(ce.device, ce.dtype), (logits.argmax(1) != y).sum()


def _train_epoch(model: nn.Module, step_model: nn.Module, optimizer: torch.optim.Optimizer,
                 x: Tensor, y: Tensor, *, beta: float, recipe: Recipe, generator: torch.Generator,
                 epoch: int, progress: bool, objective: str) -> tuple[float, float, float]:
    """One pass over the shuffled (and, with ``augment="flip"``, randomly mirrored) training set,
    the rate set every step by the recipe's schedule; returns mean CE (or NLL), mean Lz, train error.

    ``step_model`` is ``model`` or its ``torch.compile`` wrapper (whose layers are ``model``'s).
    """
    model.train()
    device = x.device
    sums = EpochSums(device)
    batches = batch_indices(len(x), recipe.batch_size, generator, drop_last=recipe.drop_last)
    flips = (torch.rand(len(x), generator=generator) < 0.5).to(device) if recipe.augment == "flip" else None
    channels_last = x.dim() == 4 and is_convolutional(model)
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if recipe.precision == "bf16"
                else nullcontext())
    per_epoch = steps_per_epoch(len(x), recipe)
    first_step = epoch * per_epoch
    seen = 0
    bar = tqdm(batches, desc=f"epoch {epoch + 1}", leave=False, disable=not progress, unit="batch")
    for step, idx in enumerate(bar):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(recipe, first_step + step, per_epoch)
        idx = idx.to(device, non_blocking=True)
        xb, yb = x[idx], y[idx]
        if flips is not None:
            xb = torch.where(flips[idx].view(-1, 1, 1, 1), xb.flip(-1), xb)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with autocast:
            ce, lz, wrong = _batch_terms(step_model, xb, yb, objective, len(x))
        loss = ce + beta * lz
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sums.add(step, ce, lz, wrong, len(idx))
        seen += len(idx)
        if (step + 1) % SYNC_EVERY == 0:
            sums.raise_if_not_finite(epoch, beta)
    sums.raise_if_not_finite(epoch, beta)
    ce_sum, lz_sum, wrong = sums.values.tolist()
    return ce_sum / seen, lz_sum / seen, wrong / seen


def fit(model: nn.Module, train_data: tuple[Tensor, Tensor], test_data: tuple[Tensor, Tensor], *,
        beta: float, recipe: Recipe | None = None, seed: int = 0, device: str | torch.device | None = None,
        checkpoint: str | os.PathLike | None = None, progress: bool = True,
        objective: str = "classification", stop_after: int | None = None,
        **recipe_settings: Any) -> dict[str, list[float]]:
    """Train ``model`` on CE + β·Lz (eq. 3) with ``recipe`` and return its per-epoch history.

    ``recipe``: a :class:`~ibcore.train.Recipe`, or its fields as keyword arguments
    (``fit(..., epochs=3, lr=0.05)``), not both. Lz = Σ_layers mean_batch(KL) / N_train (see
    :func:`ibcore.layers.kl_loss`). The rate is set every step by the recipe's schedule. After
    each epoch BatchNorm is recalibrated with the noise off (on the first ``recalibration_size``
    training examples, all by default) and the test error measured with the noise off.

    ``device``: CUDA when available by default; the data move there once. Convolutional
    models run in ``channels_last`` memory format. ``precision="bf16"`` runs the forward pass
    and loss under bfloat16 autocast (weights and optimiser stay fp32); ``compile=True`` trains
    through ``torch.compile(model)``.

    Returns a dict of lists, one entry per epoch: ``ce``, ``lz`` (means over the epoch's
    training batches), ``train_error`` (the *running* training error: the mean over the epoch's
    noisy, possibly augmented batches while the weights change; not a measure of overfitting),
    ``test_error`` (noise off), ``lr`` (the rate of the epoch's first step) and ``seconds`` (wall time
    of the epoch). The *clean* training error, measured as the test error, is
    :func:`ibcore.train.clean_train_error` of the returned model (once, after training: on
    :data:`~ibcore.train.evaluation.CLEAN_TRAIN_SIZE` images it would cost up to a third of a small
    run's epoch).
    Raises :class:`NonFiniteLossError` if the loss becomes NaN/inf.

    ``stop_after=K`` (1 ≤ K ≤ epochs; not a recipe setting) raises :class:`TrainingStopped` with the
    history after epoch K: the first K epochs of the full run's schedule (the linear one decays to 0
    at the last step of all ``epochs``), and a caller's later measurements are skipped (``verify``).

    ``objective="reconstruction"`` (§7, eq. 7): ``train_data``/``test_data``
    are ``(x, x)`` pairs (y = x, binary targets) and ``model(x)`` returns
    Bernoulli logits; the loss per example is NLL + β·KL (no division by
    N_train), and the history has :data:`RECONSTRUCTION_KEYS`, with the test
    negative ELBO (noise on, one sample per example) in place of the error.
    ``objective="elbo"``: the data are ``(x, x)`` pairs and ``model(x)`` returns per-example
    :class:`ibcore.models.ElboTerms`; the loss per example is −ELBO + β·Σ_j KL_j (Rey & Mnih,
    eq. 6 and L_VBL), and the history has :data:`ELBO_KEYS` (test: bottleneck noise off).
    """
    if recipe is None:
        recipe = Recipe(**recipe_settings)
    elif recipe_settings:
        raise TypeError(f"pass a recipe or its settings, not both (got {', '.join(sorted(recipe_settings))})")
    check_choice("objective", objective, OBJECTIVES)
    _validate(beta, recipe, train_data, test_data)
    if stop_after is not None and not (isinstance(stop_after, int) and 1 <= stop_after <= recipe.epochs):
        raise ValueError(f"stop_after must be an integer in [1, epochs={recipe.epochs}], got {stop_after!r}")
    device = pick_device(device)
    with training_threads(device):  # one CPU thread unless IBCORE_THREADS says more (ibcore.train.threads)
        return _fit_on(model, train_data, test_data, beta=beta, recipe=recipe, seed=seed, device=device,
                       checkpoint=checkpoint, progress=progress, objective=objective, stop_after=stop_after)


def _fit_on(model: nn.Module, train_data: tuple[Tensor, Tensor], test_data: tuple[Tensor, Tensor], *, beta: float,
            recipe: Recipe, seed: int, device: torch.device, checkpoint: str | os.PathLike | None, progress: bool,
            objective: str, stop_after: int | None) -> dict[str, list[float]]:
    """:func:`fit` after its checks, on ``device`` (its threads already set)."""
    torch.manual_seed(seed)  # only matters for lazily initialised state; epochs reseed below
    model.to(device)
    if is_convolutional(model):  # model and images in channels_last (indexing keeps the format)
        model.to(memory_format=torch.channels_last)
    x, x_test = (evaluation_inputs(model, t) for t in (train_data[0], test_data[0]))
    y, y_test = (t.to(device) for t in (train_data[1], test_data[1]))
    opt = _make_optimizer(model, recipe)
    settings = dict(recipe.settings(), beta=beta, seed=seed, n_train=len(x), objective=objective)
    path = Path(checkpoint) if checkpoint is not None else None
    fingerprint = checkpoints.fingerprint(model, settings)
    keys = {"reconstruction": RECONSTRUCTION_KEYS, "elbo": ELBO_KEYS}.get(objective, HISTORY_KEYS)
    start, history = 0, {k: [] for k in keys}
    if path is not None and path.exists():
        state = checkpoints.load(path, fingerprint)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start, history = state["epoch"], state["history"]
    step_model = torch.compile(model) if recipe.compile else model
    recal_x = x if recipe.recalibration_size is None else x[:recipe.recalibration_size]
    per_epoch = steps_per_epoch(len(x), recipe)
    if stop_after is not None and start >= stop_after:  # resumed past the stop: nothing to train
        raise TrainingStopped({k: v[:stop_after] for k, v in history.items()})
    bar = tqdm(total=recipe.epochs, initial=start, desc="training", disable=not progress, unit="epoch")
    for epoch in range(start, recipe.epochs):
        t0 = time.perf_counter()
        generator = _epoch_generator(seed, epoch)
        torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))  # the noise
        ce, lz, train_err = _train_epoch(model, step_model, opt, x, y, beta=beta, recipe=recipe,
                                         generator=generator, epoch=epoch, progress=progress,
                                         objective=objective)
        recalibrate_batchnorm(model, recal_x)
        if objective == "elbo":
            metrics = (ce, lz, *mean_elbo_terms(model, x_test))
        elif objective == "reconstruction":
            metrics = (ce, lz, *negative_elbo(model, x_test, y_test))
        else:
            metrics = (ce, lz, train_err, error_rate(model, x_test, y_test))
        for key, value in zip(keys, (*metrics, learning_rate_at(recipe, epoch * per_epoch, per_epoch),
                                     time.perf_counter() - t0)):
            history[key].append(value)
        if path is not None:
            checkpoints.save_atomic({"epoch": epoch + 1, "model": model.state_dict(),
                                     "optimizer": opt.state_dict(), "history": history,
                                     "fingerprint": fingerprint}, path)
        bar.set_postfix(_epoch_summary(history), refresh=False)
        bar.update()
        if epoch + 1 == stop_after:
            bar.close()
            raise TrainingStopped(history)
    bar.close()
    model.eval()
    return history


def _epoch_summary(history: dict[str, list[float]]) -> dict[str, str]:
    """The last epoch's numbers for the progress bar (already on the host: no extra sync)."""
    if "test_error" in history:
        return {"ce": f"{history['ce'][-1]:.3f}", "running train err": f"{100 * history['train_error'][-1]:.1f}%",
                "test err": f"{100 * history['test_error'][-1]:.1f}%"}
    return {"test -ELBO": f"{history['test_nelbo'][-1]:.2f}"}


def total_seconds(history: dict[str, list[float]]) -> float:
    """Wall time of all epochs of a history."""
    return math.fsum(history["seconds"])
