"""What ibcore.runs.throughput's derived figures rest on, counted on the CPU in seconds: the aten
operations one training step dispatches through ``ibcore.train.fit`` (TorchDispatchMode, with the
profiles' optimiser), and multiply-accumulates per image (forward hooks) against the table's formulas.

Usage: ``python benchmarks/model_costs.py``; prints each entry, the table's value and the count,
and exits 1 if one is more than 5 % off (then update OPS_PER_STEP / PIXELCNN_MACS).
"""
from __future__ import annotations

import sys

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from ibcore.runs import throughput
from ibcore.train import fit


class _Count(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.n += 1
        return func(*args, **(kwargs or {}))


def forward_macs(model: nn.Module, x: torch.Tensor) -> float:
    """Multiply-accumulates of one forward pass per image (convolutions and linear layers)."""
    total = [0]

    def hook(module, inputs, output):
        per_image = output.numel() // output.shape[0]
        if isinstance(module, nn.Conv2d):
            total[0] += per_image * module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, nn.Linear):
            total[0] += per_image * module.in_features

    for module in model.modules():  # f and g as two calls, so that the hooks see both (the MACs are the same)
        if hasattr(module, "fused"):
            module.fused = False
    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return float(total[0])


def ops_per_step(make_model, shape: tuple, objective: str = "classification", **recipe) -> float:
    """aten operations of one training step through fit: (ops of 4 steps − ops of 2 steps) / 2, so the
    per-epoch dry run and test cancel out."""
    counts = []
    batch = 8
    for steps in (2, 4):
        torch.manual_seed(0)
        model = make_model()
        x = torch.rand(batch * steps, *shape)
        if objective == "classification":
            y = torch.randint(0, 10, (batch * steps,))
        else:
            x = x.round() if shape[0] in (1, 784) else 2 * x - 1
            y = x
        counter = _Count()
        with counter:
            fit(model, (x, y), (x[:batch], y[:batch]), beta=0.1, epochs=1, batch_size=batch, progress=False,
                objective=objective, recalibration_size=batch, **recipe)
        counts.append(counter.n)
    return (counts[1] - counts[0]) / 2


SGD = dict(lr=0.01, momentum=0.9, nesterov=True)
MNIST_SGD = dict(SGD, nesterov=False)              # the MLP profiles (§8: plain momentum)
CIFAR_SGD = dict(SGD, weight_decay=5e-4, augment="flip")   # the budget-aware CIFAR recipe
HEAD_SGD = dict(SGD, weight_decay=5e-4)                     # the nuisance head: the same without flips
ADAM = dict(optimizer="adam", lr=1e-3)


def builders() -> dict:
    """(model, variant) → (make_model, input shape, objective, recipe) of a small model of that kind."""
    from ibcore.experiments.pixelcnn import _GPU, MODEL_KEYS
    from ibcore.likelihoods import DiscretizedLogisticMixture
    from ibcore.models import MLP, VAE, AllCNN32, AllCNN96, NuisanceHead, VAEPixelCNN

    def pixelcnn(bottleneck):
        return lambda: VAEPixelCNN(DiscretizedLogisticMixture(3, 10), image_size=32, bottleneck=bottleneck, p=0.1,
                                   **{k: _GPU[k] for k in MODEL_KEYS})

    table = {("mlp", d): (lambda d=d: MLP([64] * 3, d), (784,), "classification", MNIST_SGD)
             for d in ("none", "binary", "lognormal", "information")}
    table[("mlp", "information softplus")] = (lambda: MLP([64] * 3, "information", activation="softplus"), (784,),
                                              "classification", MNIST_SGD)
    for variant in ("none", "binary", "information relu", "information softplus"):
        dropout, _, activation = variant.partition(" ")
        table[("all-cnn-32", variant)] = (
            lambda d=dropout, a=activation or "softplus": AllCNN32(filter_fraction=0.1, dropout=d, activation=a,
                                                                   input_dropout=0.2),
            (3, 32, 32), "classification", CIFAR_SGD)
    table[("all-cnn-96", "information")] = (lambda: AllCNN96(filter_fraction=0.1, dropout="information"),
                                            (1, 96, 96), "classification", SGD)
    table[("nuisance-head", "relu")] = (lambda: NuisanceHead(8, 16), (8, 8, 8), "classification", HEAD_SGD)
    for latent in ("gaussian", "information"):
        table[("vae", latent)] = (lambda l=latent: VAE(l, k=1), (784,), "reconstruction", ADAM)
    for bottleneck in ("none", "gaussian", "variational"):
        table[("vae-pixelcnn", bottleneck)] = (pixelcnn(bottleneck), (3, 32, 32), "elbo", ADAM)
    return table


def main() -> int:
    from ibcore.models import MLP

    torch.set_num_threads(1)
    anchor = ops_per_step(lambda: MLP([64] * 3, "information"), (784,), **SGD)  # benchmarks/fit_vs_tight_loop.py
    off = int(anchor != throughput.ANCHOR_OPS)
    print(f"the dispatch anchor (MLP, Information Dropout, SGD with Nesterov as fit_vs_tight_loop.py): "
          f"table {throughput.ANCHOR_OPS}, counted {anchor:.0f}" + ("  OFF" if off else ""))
    print(f"{'model':14s} {'variant':22s} {'table':>8s} {'counted':>8s}  (aten operations per training step)")
    for (model, variant), (make, shape, objective, recipe) in builders().items():
        counted = ops_per_step(make, shape, objective, **recipe)
        table = throughput.OPS_PER_STEP.get((model, variant))
        bad = table is None or abs(counted - table) > 0.05 * counted
        off += bad
        print(f"{model:14s} {variant:22s} {table or '-':>8} {counted:>8.0f}" + ("  OFF" if bad else ""))
    return 1 if off else 0


if __name__ == "__main__":
    sys.exit(main())
