"""Experiments, cache keys and the command line."""
import json
import os
import re
import subprocess
import sys

import pytest
import torch

from ibcore import cache, experiments

TINY = dict(widths=[8], dropouts=["information", "binary"], seeds=[0], epochs=1, lr_drops=[], layers=2)


def test_cache_key_depends_on_config_data_and_format():
    config = experiments.get("mnist-mlp").config("quick")
    data = {"dataset": "MNIST", "n_train": 22699, "n_test": 10000, "sha256": "0123456789abcdef"}
    key = cache.cache_key("mnist-mlp", config, data, 2)
    assert key == cache.cache_key("mnist-mlp", dict(reversed(list(config.items()))), data, 2)
    assert key != cache.cache_key("mnist-mlp", {**config, "beta": 2.0}, data, 2)
    assert key != cache.cache_key("mnist-mlp", config, {**data, "n_train": 60000}, 2)
    assert key != cache.cache_key("mnist-mlp", config, {**data, "sha256": "fedcba9876543210"}, 2)
    assert key != cache.cache_key("mnist-mlp", config, data, 3)
    assert key != cache.cache_key("other", config, data, 2)


def test_precision_and_compile_are_part_of_every_config():
    for name in experiments.names():
        for profile in experiments.PROFILES:
            config = experiments.get(name).config(profile)
            assert config["precision"] == "fp32" and config["compile"] is False


def test_every_experiment_has_four_profiles():
    for name in experiments.names():
        assert set(experiments.get(name).profiles) == {"quick", "cpu", "gpu", "full"}


def test_full_profile_is_the_papers_recipe():
    full = experiments.get("mnist-mlp").config("full")
    assert (full["epochs"], full["lr"], full["lr_drops"], full["layers"]) == (80, 0.07, [30, 70], 3)
    assert len(full["seeds"]) == 3  # "average over 3 runs"


def test_run_caches_and_reuses(fake_mnist_root, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    first = experiments.run("mnist-mlp", "quick", progress=False, **TINY)
    assert {k: first["data"][k] for k in ("dataset", "n_train", "n_test")} == {
        "dataset": "MNIST", "n_train": 600, "n_test": 200}
    assert len(first["data"]["sha256"]) == 16
    assert [r["dropout"] for r in first["rows"]] == ["information", "binary"]
    assert all(0 <= r["clean_train_error"] <= 1 for r in first["rows"])  # noise off, on 600 training images
    assert cache.result_path("mnist-mlp", first["key"]).exists()
    assert all(cache.trial_path("mnist-mlp", t).exists() for t in first["trials"])
    assert not any(cache.checkpoint_path("mnist-mlp", t).exists() for t in first["trials"])
    prov = first["provenance"]
    assert prov["device"].startswith(("cpu", "cuda")) and prov["torch_version"] and prov["seconds"] >= 0
    assert "commit" in prov and first["format_version"] == 2

    def must_not_train(*args, **kwargs):
        raise AssertionError("a cached result was recomputed")

    import dataclasses

    original = experiments.get("mnist-mlp")
    monkeypatch.setitem(experiments.REGISTRY, "mnist-mlp", dataclasses.replace(original, run_trial=must_not_train))
    assert experiments.run("mnist-mlp", "quick", **TINY) == first
    table = experiments.summary_table(first)
    assert list(table.index) == ["information", "binary"]
    assert table.loc["information", "test_error_pct"] == pytest.approx(100 * first["rows"][0]["test_error"])
    assert table.loc["information", "clean_train_error_pct"] == pytest.approx(
        100 * first["rows"][0]["clean_train_error"], abs=1e-3)


def test_a_whole_trial_runs_under_the_thread_rule_not_only_fit(fake_mnist_root, monkeypatch):
    """Issue 25 item 2, found again by CI on a busy core: a trial's evaluation and sampling ran on torch's
    default threads (chapter 21's quick PixelCNN crawled). compute_trial applies the rule to the whole
    trial and restores the caller's count."""
    from dataclasses import replace

    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    monkeypatch.delenv("IBCORE_THREADS", raising=False)
    seen, experiment = [], experiments.get("mnist-mlp")
    monkeypatch.setitem(experiments.REGISTRY, "mnist-mlp", replace(
        experiment, run_trial=lambda config, settings, run: seen.append(torch.get_num_threads()) or {
            "dropout": settings["dropout"], "seed": settings["seed"], "width": 512, "test_error": 0.5}))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        experiments.run("mnist-mlp", "quick", progress=False, **TINY)
        assert seen and set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_width_sweep_rows_record_the_clean_training_error(fake_mnist_root, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    result = experiments.run("mnist-width-sweep", "quick", progress=False, **{**TINY, "n_train": 300})
    assert all(0 <= r["clean_train_error"] <= 1 for r in result["rows"])


def test_tables_of_results_older_than_the_clean_training_error_say_not_recorded():
    """Committed results predate ``clean_train_error``: their tables show "–" (a summary too), a
    group mixing old and new rows shows no mean of a part, and nothing else changes."""
    rows = [dict(dropout=d, seed=s, epochs=1, seconds=1.0, test_error=0.1, train_error=0.2,
                 **({"clean_train_error": 0.05} if d == "new" or s == 0 else {}))
            for d in ("old", "new", "mixed") for s in (0, 1) if d != "old" or s == 1]
    table = experiments.summary_table({"rows": rows})
    assert table["clean_train_error_pct"].tolist() == ["–", 5.0, "–"]
    assert table["test_error_pct"].tolist() == [10.0] * 3 and table["train_error_pct"].tolist() == [20.0] * 3
    old = dict(summary=[dict(activation="relu", test_error=0.02)])
    assert experiments.summary_table(old)["clean_train_error_pct"].tolist() == ["–"]
    new = dict(summary=[dict(activation="relu", test_error=0.02, clean_train_error=0.01)])
    assert experiments.summary_table(new)["clean_train_error_pct"].tolist() == [1.0]


@pytest.mark.parametrize("overrides, message", [
    (dict(nonsense=1), "has no setting 'nonsense'"),
    (dict(epochs="3"), "must be like"),
    (dict(beta=True), "must be like"),
])
def test_bad_overrides(overrides, message):
    with pytest.raises(ValueError, match=message):
        experiments.get("mnist-mlp").config("quick", overrides)


def test_bad_profile_and_name():
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        experiments.run("mnist-mlp", "huge")
    with pytest.raises(ValueError, match="unknown experiment 'nope'"):
        experiments.run("nope")


def test_negative_beta_is_refused_before_training(fake_mnist_root, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    with pytest.raises(ValueError, match="beta must be >= 0"):
        experiments.run("mnist-mlp", "quick", progress=False, **{**TINY, "beta": -1.0})


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ibcore", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_cli_list_and_errors():
    out = run_cli("list")
    assert out.returncode == 0 and "mnist-mlp" in out.stdout and "Fig. 3a" in out.stdout
    bad = run_cli("run", "mnist-mlp", "--set", "beta=-1", "--set", "widths=[4]", "--quiet")
    assert bad.returncode == 2 and "beta must be >= 0" in bad.stderr


@pytest.mark.slow
def test_quick_profile_reaches_the_issue_target(real_data_root, tmp_path):
    """`python -m ibcore run mnist-mlp --profile quick`: information dropout ≤ 3.0 % test error."""
    out = run_cli("run", "mnist-mlp", "--profile", "quick", "--no-cache", "--quiet",
                  "--output", str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr
    print(out.stdout)
    assert re.search(r"MNIST: 22,699 train / 10,000 test images", out.stdout)
    result = json.loads((tmp_path / "r.json").read_text())
    errors = {row["dropout"]: row["test_error"] for row in result["rows"]}
    assert set(errors) == {"none", "binary", "lognormal", "information"}
    assert errors["information"] <= 0.030
    line = next(l for l in out.stdout.splitlines() if l.startswith("information"))
    assert f"{100 * errors['information']:.2f}"[:3] in line


def test_span_seconds_runs_from_the_first_trials_start_to_the_last_ones_end():
    from ibcore.experiments.registry import span_seconds

    records = [{"provenance": {"finished": "2026-12-01T10:00:00+00:00", "seconds": 600.0}},   # 09:50 → 10:00
               {"provenance": {"finished": "2026-12-01T11:00:00+00:00", "seconds": 300.0}}]   # 10:55 → 11:00
    assert span_seconds(records) == 70 * 60
    assert span_seconds(records[:1]) == 600.0


@pytest.mark.parametrize("name", experiments.names())
def test_every_experiment_refuses_a_bad_setting_before_loading_data(name, tmp_path, monkeypatch):
    """Issue 25 item 3: one path (Experiment.config) checks every trial's values before anything loads or
    trains: with no data at all, a negative β is a ValueError, not a missing-data error or a trained trial."""
    monkeypatch.setenv("IBCORE_DATA", str(tmp_path))  # empty: loading anything would raise DataNotFoundError
    experiment = experiments.get(name)
    config = experiment.config("quick")
    key = "betas" if "betas" in config else "beta" if "beta" in config else None
    bad = {key: [-1.0] if key == "betas" else -1.0} if key else {"seeds": [-1]}
    from dataclasses import replace

    monkeypatch.setitem(experiments.REGISTRY, name, replace(
        experiment, run_trial=lambda *a: pytest.fail("a trial ran before the check")))
    with pytest.raises(ValueError, match="must be"):
        experiments.run(name, "quick", progress=False, **bad)


def test_summary_table_keeps_each_filter_fraction_apart():
    """A cifar-filters result sweeps the filter fraction: its table has one row per (dropout, fraction)."""
    rows = [dict(dropout=d, filter_fraction=f, seed=s, test_error=e, train_error=e, epochs=1, seconds=1.0)
            for d, f, s, e in [("none", 0.1, 0, 0.3), ("none", 0.25, 0, 0.2), ("binary", 0.1, 0, 0.4),
                               ("binary", 0.1, 1, 0.42), ("binary", 0.25, 0, 0.33)]]
    table = experiments.summary_table({"rows": rows})
    assert table.loc[("none", 0.1), "test_error_pct"] == pytest.approx(30.0)
    assert table.loc[("binary", 0.1), "seeds"] == 2 and len(table) == 4


@pytest.mark.parametrize("name", ["pixelcnn-bottleneck"])
def test_repeat_seeds_add_trials_and_keep_the_first_trials_ids(name):
    """Issue 26: seeds added where a comparison needs its spread re-run only the chosen trials, at their own
    seed, and leave the ids (so the cached rows) of the trials run before them unchanged."""
    from ibcore.experiments.registry import sweep_trials

    experiment = experiments.get(name)
    config = experiment.config("cpu")
    before = dict(config, repeat_seeds=[])
    first = sweep_trials(experiment, before, {})
    now = sweep_trials(experiment, config, {})
    assert [t.id for t in now[:len(first)]] == [t.id for t in first]
    repeats = [t.settings for t in now[len(first):]]
    assert repeats and {r["seed"] for r in repeats} == set(config["repeat_seeds"])
    assert all({k: v for k, v in r.items() if k != "seed"} in [t.settings for t in first] for r in repeats)
    assert len({t.id for t in now}) == len(now)


def test_with_repeats_refuses_the_profiles_own_seed_and_a_model_outside_the_sweep():
    from ibcore.experiments.common import trial_config, with_repeats

    trials = [dict(beta=0.0), dict(beta=1.0)]
    assert with_repeats(trials, {"seed": 0, "repeat_seeds": [1, 2]}, lambda t: t["beta"] > 0) == [
        *trials, dict(beta=1.0, seed=1), dict(beta=1.0, seed=2)]
    assert trial_config({"seed": 0, "lr": 1}, dict(beta=1.0, seed=2)) == {"seed": 2, "lr": 1}
    assert trial_config({"seed": 0}, dict(beta=1.0)) == {"seed": 0}
    with pytest.raises(ValueError, match="must not repeat"):
        with_repeats(trials, {"seed": 0, "repeat_seeds": [0]}, lambda t: True)
    # a sweep overridden to fewer models repeats those it still has
    narrow = experiments.get("pixelcnn-bottleneck").config("cpu", {"ps": [0.5], "betas": [0.03]})
    assert [t for t in experiments.get("pixelcnn-bottleneck").trials(narrow) if "seed" in t] == [
        dict(bottleneck="gaussian", p=0.5, seed=1), dict(bottleneck="variational", beta=0.03, seed=1),
        dict(bottleneck="gaussian", p=0.5, seed=2), dict(bottleneck="variational", beta=0.03, seed=2)]
