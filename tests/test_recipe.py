"""The training recipe: one validated object, the budget-aware linear schedule, flips, and resume."""
import inspect

import pytest
import torch

from ibcore import experiments
from ibcore.models import AllCNN32
from ibcore.train import RECIPE_KEYS, Recipe, beta_used, fit, learning_rate_at, steps_per_epoch
from ibcore.train.recipe import PAPER_N_TRAIN
from tests.conftest import interrupt_at


def test_every_field_is_a_documented_setting():
    source = inspect.getsource(Recipe)
    for name in RECIPE_KEYS:
        line = next(l for l in source.splitlines() if l.strip().startswith(f"{name}:"))
        assert "#" in line, f"Recipe.{name} has no comment"


@pytest.mark.parametrize("settings, message", [
    (dict(schedule="cosine"), "unknown schedule"), (dict(optimizer="rmsprop"), "unknown optimizer"),
    (dict(augment="crop"), "unknown augment"), (dict(precision="fp16"), "unknown precision"),
    (dict(epochs=0), "epochs must be an integer"), (dict(lr=-1.0), "lr must be > 0"),
    (dict(schedule="linear", lr_drops=[3]), "lr_drops belong to the 'steps'"),
    (dict(warmup=0.1), "warmup belongs to the 'linear'"), (dict(schedule="linear", warmup=1.0), "warmup is a share"),
    (dict(recalibration_size=0), "recalibration_size")])
def test_bad_recipes_are_refused_with_a_clear_message(settings, message):
    with pytest.raises(ValueError, match=message):
        Recipe(**settings)


def test_steps_schedule_is_the_papers():
    recipe = Recipe(epochs=200, lr=0.05, lr_drops=(80, 120, 160))
    rates = [learning_rate_at(recipe, epoch * 10, 10) for epoch in (0, 79, 80, 119, 120, 160, 199)]
    assert rates == pytest.approx([0.05, 0.05, 0.005, 0.005, 0.0005, 0.00005, 0.00005])


def test_linear_schedule_warms_up_then_decays_to_zero_every_step():
    recipe = Recipe(epochs=4, lr=0.2, schedule="linear", warmup=0.1)
    per_epoch = 25                                             # T = 100 steps, W = 10
    rates = [learning_rate_at(recipe, t, per_epoch) for t in range(100)]
    assert rates[:10] == pytest.approx([0.02 * (t + 1) for t in range(10)])
    assert rates[9] == pytest.approx(0.2) and max(rates) == pytest.approx(0.2)
    decay = rates[10:]
    assert all(b < a for a, b in zip(decay, decay[1:]))      # falls at every step, not per epoch
    steps = [a - b for a, b in zip(decay, decay[1:])]
    assert max(steps) - min(steps) < 1e-12                    # by the same amount each step
    assert rates[-1] == pytest.approx(0.2 / 90)              # one step before reaching 0
    no_warmup = Recipe(epochs=1, lr=1.0, schedule="linear")
    assert learning_rate_at(no_warmup, 0, 4) == 1.0 and learning_rate_at(no_warmup, 3, 4) == 0.25


def test_steps_per_epoch_counts_the_partial_batch_unless_dropped():
    assert steps_per_epoch(250, Recipe(batch_size=100)) == 2
    assert steps_per_epoch(250, Recipe(batch_size=100, drop_last=False)) == 3


def tiny_images(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 32, 32, generator=g)
    return x, (x[:, 0, :, :16].mean((1, 2)) > 0).long()  # the label depends on the left half


LINEAR = dict(epochs=3, lr=0.05, schedule="linear", warmup=0.2, batch_size=32, augment="flip",
              weight_decay=5e-4)


def tiny_cnn(seed=0):
    torch.manual_seed(seed)
    return AllCNN32(filter_fraction=0.05, dropout="information", activation="softplus", input_dropout=0.2)


def test_history_records_the_rate_each_epoch_starts_with():
    history = fit(tiny_cnn(), tiny_images(), tiny_images(seed=1), beta=1.0, progress=False, **LINEAR)
    recipe = Recipe(**LINEAR)
    assert history["lr"] == pytest.approx([learning_rate_at(recipe, 3 * e, 3) for e in range(3)])


def test_resume_mid_run_continues_the_per_step_schedule_bit_identically(tmp_path):
    train, test = tiny_images(), tiny_images(seed=1)
    reference = tiny_cnn()
    expected = fit(reference, train, test, beta=1.0, seed=3, progress=False, **LINEAR)

    model = tiny_cnn()
    interrupt_at(model, 3 + 2)  # epoch 2, batch 2 (3 training batches per epoch)
    with pytest.raises(KeyboardInterrupt):
        fit(model, train, test, beta=1.0, seed=3, progress=False, checkpoint=tmp_path / "run.pt", **LINEAR)
    resumed_model = tiny_cnn(seed=99)
    resumed = fit(resumed_model, train, test, beta=1.0, seed=3, progress=False, checkpoint=tmp_path / "run.pt",
                  **LINEAR)
    for key in ("ce", "lz", "train_error", "test_error", "lr"):
        assert resumed[key] == expected[key], key
    for (name, a), (_, b) in zip(reference.state_dict().items(), resumed_model.state_dict().items()):
        assert torch.equal(a, b), name


def test_flips_change_the_training_and_are_reproducible():
    train, test = tiny_images(), tiny_images(seed=1)
    run = lambda augment: fit(tiny_cnn(), train, test, beta=1.0, progress=False,
                              **{**LINEAR, "augment": augment})["ce"]
    assert run("flip") == run("flip")
    assert run("flip") != run("none")


def test_flips_need_images():
    x = torch.randn(64, 20)
    from ibcore.models import MLP
    with pytest.raises(ValueError, match="augment='flip' mirrors images"):
        fit(MLP([8], in_features=20, n_classes=2), (x, (x[:, 0] > 0).long()), (x, (x[:, 0] > 0).long()),
            beta=0.0, epochs=1, lr=0.1, batch_size=32, augment="flip", progress=False)


def test_recipe_or_its_settings_not_both():
    x, y = tiny_images()
    with pytest.raises(TypeError, match="not both"):
        fit(tiny_cnn(), (x, y), (x, y), beta=0.0, recipe=Recipe(), epochs=2)


def test_every_profile_holds_a_valid_recipe_and_overrides_are_checked():
    for name in experiments.names():
        for profile in experiments.PROFILES:
            Recipe.from_config(experiments.get(name).config(profile))
    config = experiments.get("mnist-mlp").config("quick", {"schedule": "linear", "warmup": 0.1, "lr_drops": []})
    assert Recipe.from_config(config).schedule == "linear"
    with pytest.raises(ValueError, match="unknown schedule"):
        experiments.get("mnist-mlp").config("quick", {"schedule": "cosine"})
    with pytest.raises(ValueError, match="has no setting 'shedule'"):
        experiments.get("mnist-mlp").config("quick", {"shedule": "linear"})


def test_augmentation_is_part_of_the_cache_key():
    from ibcore import cache

    exp = experiments.get("cifar-filters")
    plain, flipped = (exp.config("quick", {"augment": a}) for a in ("none", "flip"))
    data = {"dataset": "x"}
    assert cache.cache_key(exp.name, plain, data) != cache.cache_key(exp.name, flipped, data)


def test_beta_keeps_the_papers_weight_per_example():
    assert beta_used(3.0, 5_000, "CIFAR-10") == pytest.approx(0.3)
    assert beta_used(1.0, 22_699, "MNIST") == pytest.approx(22_699 / 60_000)
    assert set(PAPER_N_TRAIN) == {"MNIST", "CIFAR-10", "Cluttered MNIST"}
    with pytest.raises(ValueError, match="no paper training-set size"):
        beta_used(1.0, 10, "SVHN")
