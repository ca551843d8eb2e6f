"""The GPU path (``pytest -m gpu``): every experiment's quick profile, the layers and the training loop
on CUDA, with inputs left on the CPU. Skipped, with the reason, where no CUDA device is present."""
import pytest
import torch

from ibcore import experiments, metrics
from ibcore.layers import InformationDropout
from ibcore.models import MLP, VAE, AllCNN96
from ibcore.train import fit

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")]


@pytest.mark.parametrize("name", experiments.names())
def test_every_quick_profile_runs_on_cuda(name, real_data_root):
    result = experiments.run(name, "quick", progress=False)
    assert result["provenance"]["device"].startswith("cuda")
    assert result["rows"]


def test_kl_is_never_negative_on_cuda_at_the_cap():
    layer = InformationDropout.conv(3, 8, activation="relu", max_alpha=1.0).cuda()
    with torch.no_grad():
        layer.g.bias.fill_(40.0)  # sigmoid saturates: α sits at its cap
    layer(torch.randn(4, 3, 16, 16, device="cuda"))
    assert (layer.kl_map >= 0).all() and (layer.kl >= 0).all()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_fit_learns_on_cuda_with_cpu_inputs(precision):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2048, 20, generator=g)
    y = (x[:, 0] > 0).long()
    model = MLP([32, 32], "information", in_features=20, n_classes=2)
    history = fit(model, (x, y), (x, y), beta=0.1, epochs=3, lr=0.05, batch_size=128, precision=precision,
                  progress=False)
    assert next(model.parameters()).is_cuda and history["test_error"][-1] < 0.1


def test_conv_models_train_channels_last_on_cuda():
    x = torch.rand(64, 1, 96, 96)
    y = torch.randint(0, 10, (64,))
    model = AllCNN96(filter_fraction=0.125, dropout="information")
    fit(model, (x, y), (x, y), beta=0.1, epochs=1, lr=0.01, batch_size=32, progress=False)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    maps = metrics.kl_maps(model, x)  # CPU inputs, CUDA model, CPU maps
    assert all(m.device.type == "cpu" and (m >= 0).all() for m in maps)


def test_metrics_take_cpu_inputs_for_a_cuda_model():
    x = torch.rand(256, 784)
    model = MLP([16, 16], "information").cuda()
    z = metrics.layer_outputs(model, x, noisy=True, calibration=x)
    assert z.device.type == "cpu" and z.shape == (256, 16)
    vae = VAE("information", hidden=32, latent_dim=8).cuda()
    assert vae.sample(4).shape == (4, 784)


def test_run_all_packs_a_queue_onto_the_gpu(real_data_root, tmp_path):
    import json

    from ibcore.runs.run_all import run_all

    outcomes = run_all("quick", ["activation-priors", "vae-beta"], jobs=4, output_dir=tmp_path, progress=False)
    assert [o.result is not None for o in outcomes] == [True, True]
    for outcome in outcomes:
        assert json.loads(outcome.written.read_text())["provenance"]["device"].startswith("cuda")


def test_bf16_matches_fp32_within_the_seed_spread_on_cifar(real_data_root):
    """What a gpu profile needs before it may train in bf16 (issue 22): All-CNN-32 at 25 % of the
    filters on 10,000 CIFAR-10 images, 2 epochs of the budget-aware recipe, 2 seeds per precision."""
    from ibcore.experiments.cifar import BUDGET, RECIPE, all_cnn_32, cifar_split
    from ibcore.train import Recipe

    config = {**RECIPE, **BUDGET, "n_train": 10_000, "n_test": 2_000, "epochs": 2}
    train, test = cifar_split(config)
    errors = {}
    for precision in ("fp32", "bf16"):
        recipe = Recipe.from_config({**config, "precision": precision})
        for seed in (0, 1):
            torch.manual_seed(seed)
            model = all_cnn_32(config, "information", 0.25)
            history = fit(model, train, test, beta=3.0 * 10_000 / 50_000, recipe=recipe, seed=seed, progress=False)
            errors[precision, seed] = history["test_error"][-1]
    fp32, bf16 = ([errors[p, s] for s in (0, 1)] for p in ("fp32", "bf16"))
    seed_spread = max(abs(fp32[0] - fp32[1]), abs(bf16[0] - bf16[1]))
    assert abs(sum(bf16) / 2 - sum(fp32) / 2) <= max(seed_spread, 0.01), errors
