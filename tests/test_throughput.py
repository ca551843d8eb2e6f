"""The throughput table and the estimates: sources, formulas checked against the models, the gpu budget."""
import importlib.util
from pathlib import Path

import pytest
import torch

from ibcore import experiments
from ibcore.runs import estimate as estimates
from ibcore.runs import throughput
from ibcore.runs.throughput import Work

ROOT = Path(__file__).resolve().parents[1]


def _model_costs():
    spec = importlib.util.spec_from_file_location("model_costs", ROOT / "benchmarks" / "model_costs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_figure_says_where_it_came_from():
    for key, figure in throughput.MEASURED.items():
        assert key[0] in throughput.KINDS and figure.seconds > 0 and figure.images > 0
        assert figure.source.startswith("measured") and figure.measured, key
    derived = throughput.epoch("gpu", Work("all-cnn-32", "binary", 0.5, 1, 50_000, 20_000, 128))
    assert not derived.measured and derived.source.startswith("derived")
    assert throughput.GPU_DERIVATION in derived.basis and "bound by" in derived.source


@pytest.mark.parametrize("model, variant, size, build, shape", [
    ("mlp", "information", 64, "MLP([64] * 3, 'information')", (784,)),
    ("mlp", "binary", 64, "MLP([64] * 3, 'binary')", (784,)),
    ("all-cnn-32", "information softplus", 0.25, "AllCNN32(filter_fraction=0.25, dropout='information')", (3, 32, 32)),
    ("all-cnn-32", "none", 0.1, "AllCNN32(filter_fraction=0.1)", (3, 32, 32)),
    ("all-cnn-96", "information", 0.25, "AllCNN96(filter_fraction=0.25, dropout='information')", (1, 96, 96)),
    ("vae", "information", 1, "VAE('information', k=1)", (784,)),
    ("nuisance-head", "relu", 48, "NuisanceHead(48, 64)", (48, 8, 8)),
])
def test_multiply_accumulate_formulas_match_the_models(model, variant, size, build, shape):
    from ibcore import models  # noqa: F401  (the names in ``build``)
    from ibcore.models import MLP, VAE, AllCNN32, AllCNN96, NuisanceHead  # noqa: F401

    counted = _model_costs().forward_macs(eval(build), torch.rand(2, *shape))
    assert throughput.macs_per_image(model, variant, size) == pytest.approx(counted, rel=0.01)


def test_operation_counts_of_the_table_match_a_count():
    costs = _model_costs()
    for key in (("mlp", "information"), ("all-cnn-32", "binary"), ("vae", "gaussian")):
        make, shape, objective, recipe = costs.builders()[key]
        assert costs.ops_per_step(make, shape, objective, **recipe) == pytest.approx(
            throughput.OPS_PER_STEP[key], rel=0.05), key


def test_the_derived_gpu_figure_reproduces_its_measured_anchor():
    anchor = throughput.MEASURED[("gpu", "mlp", "information", 1024)]
    steps = 22_699 // 100
    assert steps * throughput.ANCHOR_OPS * throughput.SECONDS_PER_OP == pytest.approx(anchor.seconds)
    cnn = throughput.MEASURED[("gpu", "all-cnn-96", "information", 1.0)]
    arithmetic = 3 * 50_000 * throughput.macs_per_image("all-cnn-96", "information", 1.0) / throughput.MACS_PER_SECOND
    assert arithmetic == pytest.approx(50_000 / 10_700, rel=0.01) and cnn.gpu_busy > 0


def test_cpu_figures_scale_by_flops_between_measured_sizes():
    small = throughput.epoch("cpu", Work("all-cnn-32", "none", 0.05, 1, 50_000, 20_000, 128))
    measured = throughput.epoch("cpu", Work("all-cnn-32", "none", 0.1, 1, 50_000, 20_000, 128))
    assert measured.measured and not small.measured and 0 < small.seconds < measured.seconds
    half = throughput.epoch("cpu", Work("all-cnn-32", "none", 0.1, 1, 25_000, 20_000, 128))
    assert half.seconds == pytest.approx(measured.seconds / 2)
    assert throughput.epoch("cpu", Work("unknown-net", "none", 1, 1, 10, 10, 1)) is None


def test_packing_shares_dispatch_not_arithmetic():
    assert throughput.packed_gain("gpu", 1) == 1 and throughput.packed_gain("gpu", 8) == pytest.approx(6.6)
    assert throughput.packed_gain("gpu", 32) == throughput.packed_gain("gpu", 8)  # not claimed beyond 8
    config = experiments.get("cluttered-mnist").config("gpu")
    one, eight = (estimates.estimate("cluttered-mnist", config, "gpu", jobs) for jobs in (1, 8))
    assert eight.seconds < one.seconds
    assert eight.seconds >= 4 * config["epochs"] * throughput.MEASURED[("gpu", "all-cnn-96", "information", 1.0)].gpu_busy


def test_every_experiment_has_a_workload_and_the_gpu_profiles_fit_their_budget():
    total = 0.0
    for name in experiments.names():
        found = estimates.estimate(name, experiments.get(name).config("gpu"), "gpu", 8)
        assert not found.missing and found.seconds is not None, name
        assert found.seconds <= 150, f"{name}: {found.seconds:.0f} s"  # issue 22: each ≤ 150 s on one H100/H200
        total += found.seconds
    assert total <= 20 * 60, f"{total / 60:.1f} min"


def test_the_cpu_profiles_have_cpu_estimates():
    for name in experiments.names():
        found = estimates.estimate(name, experiments.get(name).config("cpu"), "cpu", 2)
        assert found.seconds is not None and found.seconds > 0, (name, found.missing)
