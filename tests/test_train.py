"""The training loop: loss terms, schedule, BatchNorm recalibration, NaN guard, resume."""
import pytest
import torch
from torch import nn

from ibcore.layers import InformationDropout
from ibcore.models import MLP
from ibcore.train import NonFiniteLossError, fit, learning_rate, recalibrate_batchnorm
from tests.conftest import interrupt_at


def tiny_data(n=256, d=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return x, y


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return MLP([16, 16], "information", in_features=20, n_classes=2)


SETTINGS = dict(beta=1.0, epochs=3, lr=0.05, lr_drops=[2], batch_size=32, seed=7, progress=False)


def test_learning_rate_drops_by_ten_at_each_step():
    assert [learning_rate(e, 0.07, [30, 70]) for e in (0, 29, 30, 69, 70, 79)] == pytest.approx(
        [0.07, 0.07, 0.007, 0.007, 0.0007, 0.0007])


def test_history_has_one_entry_per_epoch_and_learns():
    data = tiny_data()
    history = fit(tiny_model(), data, tiny_data(seed=1), **SETTINGS)
    assert set(history) == {"ce", "lz", "train_error", "test_error", "lr", "seconds"}
    assert all(len(v) == 3 for v in history.values())
    assert history["lr"] == pytest.approx([0.05, 0.05, 0.005])
    assert history["test_error"][-1] < 0.2  # a linearly separable task
    assert all(lz > 0 for lz in history["lz"])


def test_resume_after_interruption_is_bit_identical(tmp_path):
    train, test = tiny_data(), tiny_data(seed=1)
    reference = tiny_model()
    expected = fit(reference, train, test, **SETTINGS)

    model = tiny_model()
    interrupt_at(model, 8 + 3)  # epoch 2, batch 3 (8 training batches per epoch)
    with pytest.raises(KeyboardInterrupt):
        fit(model, train, test, checkpoint=tmp_path / "run.pt", **SETTINGS)
    assert torch.load(tmp_path / "run.pt", weights_only=True)["epoch"] == 1

    resumed_model = tiny_model(seed=123)  # fresh process: weights come from the checkpoint
    resumed = fit(resumed_model, train, test, checkpoint=tmp_path / "run.pt", **SETTINGS)
    for key in ("ce", "lz", "train_error", "test_error", "lr"):
        assert resumed[key] == expected[key]
    for (name, a), (_, b) in zip(reference.state_dict().items(), resumed_model.state_dict().items()):
        assert torch.equal(a, b), name


def test_checkpoint_of_another_run_is_refused(tmp_path):
    train = tiny_data()
    fit(tiny_model(), train, train, checkpoint=tmp_path / "c.pt", **{**SETTINGS, "epochs": 1})
    with pytest.raises(ValueError, match="other settings"):
        fit(tiny_model(), train, train, checkpoint=tmp_path / "c.pt", **{**SETTINGS, "beta": 2.0})


def test_non_finite_loss_stops_with_a_clear_error():
    x, y = tiny_data()
    x[5, 3] = float("nan")
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at epoch 1, batch \d+: CE=nan"):
        fit(tiny_model(), (x, y), (x, y), **SETTINGS)


@pytest.mark.parametrize("override, message", [
    (dict(beta=-0.1), "beta must be >= 0"), (dict(epochs=0), "epochs must be an integer >= 1"),
    (dict(lr=0.0), "lr must be > 0")])
def test_bad_training_settings(override, message):
    data = tiny_data()
    with pytest.raises(ValueError, match=message):
        fit(tiny_model(), data, data, **{**SETTINGS, **override})


def test_larger_beta_means_more_noise():
    """β weighs Lz = Σ -log(α/α_max): a larger β must drive α up (less information)."""
    train = tiny_data(512)
    alphas = []
    for beta in (0.0, 200.0):
        model = tiny_model()
        fit(model, train, train, **{**SETTINGS, "beta": beta, "lr_drops": []})
        layer = next(m for m in model.modules() if isinstance(m, InformationDropout))
        alphas.append(layer.alpha(train[0].to(layer.g.weight.device)).mean().item())
    assert alphas[1] > alphas[0] + 0.1


def test_recalibration_gives_exact_noise_free_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Dropout(0.5), nn.Linear(3, 2))
    x = torch.randn(1000, 4) * 3 + 1
    model.train()
    for _ in range(3):
        model(torch.randn(50, 4))  # stale statistics from other data
    recalibrate_batchnorm(model, x, batch_size=128)
    pre = model[0](x).detach().double()
    assert torch.allclose(model[1].running_mean.double(), pre.mean(0), atol=1e-5)
    assert torch.allclose(model[1].running_var.double(), pre.var(0), rtol=1e-5)
    assert not model.training and model[1].momentum == 0.1


@pytest.mark.slow
def test_bf16_reaches_the_fp32_error_within_the_seed_spread(real_data_root):
    """Issue 8: precision="bf16" (autocast) trains as well as fp32, on 6,000 real MNIST images."""
    from ibcore.data import mnist
    from ibcore.models import MLP

    train = tuple(t[:6000] for t in mnist(real_data_root, train=True))
    test = tuple(t[:2000] for t in mnist(real_data_root, train=False))
    errors = {}
    for precision in ("fp32", "bf16"):
        for seed in (0, 1, 2):
            torch.manual_seed(seed)
            history = fit(MLP([64] * 3, "information"), train, test, beta=0.1, epochs=2, lr=0.07,
                          batch_size=100, seed=seed, precision=precision, progress=False)
            errors.setdefault(precision, []).append(history["test_error"][-1])
    spread = max(errors["fp32"]) - min(errors["fp32"])
    gap = abs(sum(errors["bf16"]) / 3 - sum(errors["fp32"]) / 3)
    assert gap <= max(spread, 0.005), errors


def test_clean_train_error_is_the_test_error_measured_on_the_first_training_examples():
    """The clean training error is the test-error evaluation applied to the training subset: with that
    subset as the test set, the two agree exactly (noise off, BatchNorm recalibrated with the noise off)."""
    from ibcore.train import CLEAN_TRAIN_SIZE, clean_train_error, error_rate

    x, y = tiny_data()
    model = tiny_model()
    history = fit(model, (x, y), (x[:100], y[:100]), **SETTINGS)
    assert clean_train_error(model, (x, y), size=100) == history["test_error"][-1]
    assert clean_train_error(model, (x, y)) == error_rate(model, x, y)  # N = 256 < CLEAN_TRAIN_SIZE: all of them
    assert CLEAN_TRAIN_SIZE == 10_000


def test_clean_train_error_of_a_conv_net_reads_unflipped_images_with_the_noise_off():
    """All-CNN-32 with input dropout, Information Dropout and flips: the clean error equals the
    channels_last test evaluation of the same images, and is deterministic while the noise is not."""
    from ibcore.models import AllCNN32
    from ibcore.train import clean_train_error, noise_on

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 3, 32, 32, generator=g), torch.randint(0, 10, (64,), generator=g)
    torch.manual_seed(0)
    model = AllCNN32(filter_fraction=0.03, dropout="information", input_dropout=0.2)
    history = fit(model, (x, y), (x[:40], y[:40]), beta=1.0, epochs=1, lr=0.05, batch_size=16, augment="flip",
                  seed=0, progress=False)
    torch.manual_seed(1)
    first = clean_train_error(model, (x, y), size=40)
    torch.manual_seed(2)
    assert clean_train_error(model, (x, y), size=40) == first == history["test_error"][-1]
    with torch.no_grad(), noise_on(model):  # the control: with the noise on, two passes differ
        assert not torch.equal(model(x[:8]), model(x[:8]))


@pytest.mark.parametrize("convolutional, env, expected", [(False, None, 1), (True, None, 1), (True, "2", 2)])
def test_the_thread_rule_trains_on_one_thread_and_restores_the_count(convolutional, env, expected, monkeypatch):
    """Issue 25 item 2: fit trains on one CPU thread (a busy second core then costs it nothing), on
    IBCORE_THREADS when set, and gives the caller's count back after."""
    from torch import nn

    from ibcore.models import MLP
    from ibcore.train import fit

    if env is None:
        monkeypatch.delenv("IBCORE_THREADS", raising=False)
    else:
        monkeypatch.setenv("IBCORE_THREADS", env)
    torch.manual_seed(0)
    if convolutional:
        model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 10))
    else:
        model = MLP([8], "none")
    seen = []
    model.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    x, y = torch.rand(40, 1, 28, 28), torch.randint(0, 10, (40,))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fit(model, (x, y), (x, y), beta=0.0, epochs=1, batch_size=20, progress=False, device="cpu")
        assert set(seen) == {expected} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_bad_thread_setting_is_refused(monkeypatch):
    from ibcore.train import cpu_threads

    monkeypatch.setenv("IBCORE_THREADS", "0")
    with pytest.raises(ValueError, match="IBCORE_THREADS must be an integer >= 1"):
        cpu_threads()
