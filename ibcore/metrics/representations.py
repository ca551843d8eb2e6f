"""What a layer outputs, with the noise off or on, and the BatchNorm statistics that go with each.

Noise-off evaluation uses BatchNorm statistics recalibrated with the noise off (what
:func:`ibcore.train.fit` leaves in the model). Noise-on evaluation (Fig. 1, Fig. 4 "N", the TC
of Fig. 5) must use statistics gathered *with the noise on*: after a noisy layer, BatchNorm
normalises ε·f(x), whose variance is about 1.3× that of f(x) at α ≈ 0.35 and up to e^{2α²}
≈ 2.7× at α = 0.7. :func:`noisy_copy` makes a copy of the model with such statistics; the
model itself is left as it is.

Two measures of a trained model's bottlenecks live here too: the information each Information
Dropout layer transmits (Fig. 6, :func:`information_per_layer`) and the total correlation of a
layer's noisy log-activations (Fig. 5, :func:`representation_total_correlation`).
"""
from __future__ import annotations

import copy
from contextlib import nullcontext
from typing import Iterator

import torch
from torch import Tensor, nn


def noisy_copy(model: nn.Module, calibration: Tensor, *, seed: int = 0, batch_size: int = 500) -> nn.Module:
    """A deep copy of ``model`` whose BatchNorm statistics were gathered on ``calibration`` (training
    inputs) with every noise source on; in eval mode. Use it for noise-on evaluation."""
    from ibcore.train import recalibrate_batchnorm

    if len(calibration) == 0:
        raise ValueError("the calibration set is empty")
    twin = copy.deepcopy(model)
    recalibrate_batchnorm(twin, calibration, batch_size, noisy=True, seed=seed)
    return twin


@torch.no_grad()
def layer_outputs(model: nn.Module, x: Tensor, layer_index: int = -1, *, noisy: bool = True,
                  calibration: Tensor | None = None, seed: int = 0, batch_size: int = 1000) -> Tensor:
    """Outputs z of the ``layer_index``-th bottleneck layer of ``model`` on ``x`` (§6, Fig. 1).

    The layer is found among :func:`ibcore.layers.bottlenecks` (``-1`` = the last dropout
    layer) and its output captured with a forward hook. With ``noisy=False`` the model runs in
    eval mode with its own (noise-off) BatchNorm statistics. With ``noisy=True`` every noise
    source is on, so z = ε ⊙ f(x) are the *post-noise* activations, and BatchNorm uses statistics
    gathered with the noise on over ``calibration`` (the training inputs; required), on a copy
    of the model (:func:`noisy_copy`); the noise is sampled from ``seed``. Inputs move to the
    model's device; returns a CPU tensor [N, units...].
    """
    from ibcore.layers import bottlenecks

    if not bottlenecks(model):
        raise ValueError("the model has no bottleneck (Information Dropout, ...) layer")
    n_layers = len(bottlenecks(model))
    if not -n_layers <= layer_index < n_layers:
        raise ValueError(f"layer_index {layer_index} out of range for {n_layers} bottleneck layers")
    if len(x) == 0:
        raise ValueError("x is empty")
    if noisy and calibration is None:
        raise ValueError("noisy=True needs calibration= (training inputs): noise-on evaluation uses "
                         "BatchNorm statistics gathered with the noise on")
    subject = noisy_copy(model, calibration, seed=seed) if noisy else model
    target, captured = bottlenecks(subject)[layer_index], []
    hook = target.register_forward_hook(lambda module, inputs, output: captured.append(output.detach().cpu()))
    try:
        for _ in _forward_batches(subject, x, noisy=noisy, seed=seed, batch_size=batch_size):
            pass
    finally:
        hook.remove()
    return torch.cat(captured)


def _forward_batches(model: nn.Module, x: Tensor, *, noisy: bool, seed: int, batch_size: int) -> Iterator[Tensor]:
    """``model(batch)`` for each batch of ``x``, in eval mode, on the model's device; with every
    noise source on when ``noisy``, the noise drawn from ``seed`` without touching the global
    random state."""
    from ibcore.train import model_device, noise_on

    model.eval()
    device = model_device(model)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        with noise_on(model) if noisy else nullcontext():
            for batch in x.split(batch_size):
                yield model(batch.to(device))



@torch.no_grad()
def information_per_layer(model: nn.Module, x: Tensor, *, batch_size: int = 1000) -> list[dict[str, float]]:
    """Fig. 6: what each Information Dropout layer of ``model`` transmits about ``x``, in nats.

    For each such layer (input to output): ``total`` = mean over the examples of Σ_units
    KL(p(z|x) ‖ q(z)), the layer's Lz term before the division by N_train (Fig. 6a), its
    ``units`` (channels × positions of one example's output) and ``per_unit`` = total / units
    (Fig. 6b). The KL depends on x only through f(x) and α(x), not on the noise sample; the
    model runs in eval mode (noise off, its own BatchNorm statistics), as the original code's test.
    """
    from ibcore.layers import InformationDropout
    from ibcore.train import model_device

    layers = [m for m in model.modules() if isinstance(m, InformationDropout)]
    if not layers:
        raise ValueError("the model has no Information Dropout layer")
    if len(x) == 0:
        raise ValueError("x is empty")
    model.eval()
    device = model_device(model)
    totals = [0.0] * len(layers)
    units = [0] * len(layers)

    def hook(k: int):
        def record(module: nn.Module, inputs, output: Tensor) -> None:
            totals[k] += float(module.kl.double().sum())
            units[k] = output[0].numel()
        return record

    handles = [layer.register_forward_hook(hook(k)) for k, layer in enumerate(layers)]
    try:
        for batch in x.split(batch_size):
            model(batch.to(device))
    finally:
        for handle in handles:
            handle.remove()
    return [dict(total=t / len(x), units=u, per_unit=t / len(x) / u) for t, u in zip(totals, units)]


def representation_total_correlation(model: nn.Module, x: Tensor, calibration: Tensor | None = None, *,
                                     layer_index: int = -1, seed: int = 0, noisy: bool = True) -> dict[str, float]:
    """Fig. 5: TC of the log-activations log z of a bottleneck layer, taken as Gaussian (§8).

    ``noisy=True`` (the paper's quantity): z = ε ⊙ f(x) is the post-noise output of the
    ``layer_index``-th bottleneck (last by default) on ``x``, every noise source on (input dropout
    included, as the original code's ``correlation``) and BatchNorm statistics gathered with the
    noise on over ``calibration`` (:func:`layer_outputs`). ``noisy=False`` is its control: z = f(x)
    with the noise off and the model's own (noise-off) statistics. Independent noise added to
    log f(x) lowers the TC by itself (it adds to the variances, not the covariances), so a fall of
    the noisy TC with β says more than the noise when the noise-off TC falls too. Each example's
    output, flattened, is one sample; needs more examples than units. Returns a
    :class:`~ibcore.metrics.gaussian_tc.GaussianTC`: ``total`` (the plug-in, nats), ``total_debiased``
    (less the plug-in's bias on independent units, 264.6 nats for 3,072 units on 10,000 images) and
    ``per_dimension`` (:func:`ibcore.metrics.gaussian_tc.gaussian_total_correlation_of_samples`).
    """
    from ibcore.metrics.gaussian_tc import gaussian_total_correlation_of_samples

    z = layer_outputs(model, x, layer_index, noisy=noisy, calibration=calibration, seed=seed)
    log_z = torch.log(z.double().clamp_min(torch.finfo(torch.float32).tiny)).flatten(1)
    return gaussian_total_correlation_of_samples(log_z.numpy())


@torch.no_grad()
def noisy_error_rate(model: nn.Module, x: Tensor, y: Tensor, calibration: Tensor, *, seed: int = 0,
                     batch_size: int = 1000) -> float:
    """Fig. 4 "N": the classification error with every noise source on (one noise sample per
    example, from ``seed``) and BatchNorm statistics gathered with the noise on over
    ``calibration`` (:func:`noisy_copy`); the noise-off error "D" is
    :func:`ibcore.train.error_rate`."""
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"need as many labels as inputs (and at least one), got {len(x)} and {len(y)}")
    outputs = _forward_batches(noisy_copy(model, calibration, seed=seed), x, noisy=True, seed=seed,
                               batch_size=batch_size)
    wrong = sum(int((out.argmax(1).cpu() != yb).sum()) for out, yb in zip(outputs, y.split(batch_size)))
    return wrong / len(x)
