"""What a layer outputs, with the noise off or on, and the BatchNorm statistics that go with each.

Noise-off evaluation uses BatchNorm statistics recalibrated with the noise off (what
:func:`ibcore.train.fit` leaves in the model). Noise-on evaluation (Fig. 1, Fig. 4 "N", the TC
of Fig. 5) must use statistics gathered *with the noise on*: after a noisy layer, BatchNorm
normalises ε·f(x), whose variance is about 1.3× that of f(x) at α ≈ 0.35 and up to e^{2α²}
≈ 2.7× at α = 0.7. :func:`noisy_copy` makes a copy of the model with such statistics; the
model itself is left as it is.
"""
from __future__ import annotations

import copy
from contextlib import nullcontext

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
    from ibcore.train import model_device, noise_on

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
    subject.eval()
    target, captured = bottlenecks(subject)[layer_index], []
    hook = target.register_forward_hook(lambda module, inputs, output: captured.append(output.detach().cpu()))
    device = model_device(subject)
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            with noise_on(subject) if noisy else nullcontext():
                for batch in x.split(batch_size):
                    subject(batch.to(device))
    finally:
        hook.remove()
    return torch.cat(captured)

