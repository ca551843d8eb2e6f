"""The named experiments of chapters 11–13: profiles are sane and the full ones are the paper's recipes."""
import pytest

from ibcore import experiments

NEW = ("mnist-width-sweep", "activation-priors", "vae-elbo", "vae-beta")


def test_registered_with_four_profiles():
    for name in NEW:
        assert set(experiments.get(name).profiles) == {"quick", "cpu", "gpu", "full"}


def test_width_sweep_full_is_the_papers_recipe():
    full = experiments.get("mnist-width-sweep").config("full")
    assert (full["epochs"], full["lr"], full["momentum"], full["lr_drops"]) == (80, 0.07, 0.9, [30, 70])
    assert full["layers"] == 3 and len(full["seeds"]) == 3 and max(full["widths"]) == 1024
    assert full["dropouts"] == ["none", "binary", "lognormal", "information"]
    assert (full["p"], full["alpha"], full["max_alpha"]) == (0.5, 0.7, 0.7)  # §8: α < 0.7


@pytest.mark.parametrize("profile", ["quick", "cpu"])
def test_width_sweep_reduced_profiles_keep_the_comparison(profile):
    config = experiments.get("mnist-width-sweep").config(profile)
    full = experiments.get("mnist-width-sweep").config("full")
    assert config["dropouts"] == full["dropouts"] and len(config["seeds"]) >= 2
    assert min(config["widths"]) <= 8 and config["widths"] == sorted(config["widths"])
    # cpu may keep the paper's own schedule (issue 26: 80 epochs at widths 3-128); never more
    assert config["epochs"] <= full["epochs"] and all(d < config["epochs"] for d in config["lr_drops"])


def test_vae_full_is_table_one():
    full = experiments.get("vae-elbo").config("full")
    assert (full["epochs"], full["lr_drops"], full["ks"]) == (300, [30, 120], [3, 2, 1])
    assert full["latents"] == ["gaussian", "information"] and full["betas"] == [1.0]
    assert experiments.get("vae-beta").config("cpu")["betas"] == [0.25, 0.5, 1.0, 2.0, 4.0]
    for profile in ("quick", "cpu", "full"):
        assert experiments.get("vae-elbo").config(profile)["max_alpha"] == 0.7


def test_activation_priors_compares_both_activations():
    for profile in ("quick", "cpu", "full"):
        assert experiments.get("activation-priors").config(profile)["activations"] == ["relu", "softplus"]


def test_quick_profiles_are_smaller_than_cpu():
    for name in NEW:
        quick, cpu = (experiments.get(name).config(p) for p in ("quick", "cpu"))
        assert quick["epochs"] <= cpu["epochs"]
        assert 0 < quick["n_train"] and (cpu["n_train"] == 0 or quick["n_train"] <= cpu["n_train"])


def test_table_one_is_run_at_every_k():
    for profile in ("cpu", "full"):
        config = experiments.get("vae-elbo").config(profile)
        trials = experiments.get("vae-elbo").trials(config)
        assert sorted({t["k"] for t in trials}) == [1, 2, 3]
        assert {t["latent"] for t in trials} == {"gaussian", "information"}
