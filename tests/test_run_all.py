"""``run-all``: one queue in the order of value, resumable, results written as they finish, a summary."""
import json
import re

import pytest

from ibcore import cache, cli, experiments
from ibcore.experiments import registry
from ibcore.runs.run_all import VALUE_ORDER, queue_names, run_all


def test_the_queue_runs_in_the_order_of_value():
    names = queue_names()
    assert names[:len(VALUE_ORDER)] == list(VALUE_ORDER) and sorted(names) == experiments.names()
    assert names[len(VALUE_ORDER):] == sorted(names[len(VALUE_ORDER):])
    assert queue_names(["vae-elbo", "mnist-mlp", "cifar-filters"]) == ["cifar-filters", "vae-elbo", "mnist-mlp"]
    with pytest.raises(ValueError, match="unknown experiment.*'cifar-filter'"):
        queue_names(["cifar-filter"])


def test_dry_run_prints_the_queue_and_the_estimate_and_runs_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(tmp_path / "no-data"))  # a dry run reads no data
    assert cli.main(["run-all", "--profile", "gpu", "--dry-run"]) == 0
    out = capsys.readouterr().out
    queue = re.findall(r"^\s+\d+\. ([\w-]+): (\d+) trials", out, flags=re.M)
    estimated = re.findall(r"^\s+\d+\. ([\w-]+) +(\d+) trials", out, flags=re.M)
    assert [name for name, _ in queue] == [name for name, _ in estimated] == queue_names()
    assert queue == estimated
    assert "8 trials at a time" in out and "total:" in out and "the estimates rest on:" in out
    assert "measured on an H100" in out and "derived" in out and "no estimate" not in out
    assert not any(cache.cache_dir().rglob("*.json"))


def _toy(name: str, fail: set, calls: list) -> registry.Experiment:
    """An experiment of three instant trials x = 0, 1, 2; those in ``fail`` raise what they hold."""
    def run_trial(config, settings, run):
        calls.append((name, settings["x"]))
        if settings["x"] in fail:
            raise fail[settings["x"]]
        return {"x": settings["x"], "value": settings["x"] ** 2}

    profile = {"xs": [0, 1, 2]}
    return registry.Experiment(name=name, reproduces="a test", profiles={p: profile for p in registry.PROFILES},
                               trials=lambda config: [dict(x=x) for x in config["xs"]], run_trial=run_trial,
                               data=lambda config: {"dataset": "toy"}, grid=("xs",))


def test_a_failed_trial_stops_neither_the_queue_nor_the_rest_of_its_experiment(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setitem(registry.REGISTRY, "toy-a", _toy("toy-a", {1: RuntimeError("boom")}, calls))
    monkeypatch.setitem(registry.REGISTRY, "toy-b", _toy("toy-b", {}, calls))
    outcomes = {o.name: o for o in run_all("quick", ["toy-a", "toy-b"], jobs=1, output_dir=tmp_path,
                                           progress=False)}
    assert calls == [("toy-a", 0), ("toy-a", 1), ("toy-a", 2), ("toy-b", 0), ("toy-b", 1), ("toy-b", 2)]
    assert outcomes["toy-a"].result is None and outcomes["toy-a"].done == 2
    assert len(outcomes["toy-a"].failed) == 1 and "boom" in outcomes["toy-a"].failed[0]
    assert outcomes["toy-b"].written == tmp_path / "toy-b-quick.json"
    assert [r["value"] for r in json.loads((tmp_path / "toy-b-quick.json").read_text())["rows"]] == [0, 1, 4]


def test_an_interrupted_queue_resumes_without_recomputing(monkeypatch, tmp_path, capsys):
    calls, fail = [], {1: KeyboardInterrupt()}
    monkeypatch.setitem(registry.REGISTRY, "toy-a", _toy("toy-a", fail, calls))
    first = run_all("quick", ["toy-a"], jobs=1, output_dir=tmp_path, progress=False)
    assert first[0].result is None and first[0].done == 1 and "interrupted" in capsys.readouterr().out
    fail.clear()
    second = run_all("quick", ["toy-a"], jobs=1, output_dir=tmp_path, progress=False)
    assert second[0].result is not None and calls == [("toy-a", 0), ("toy-a", 1), ("toy-a", 1), ("toy-a", 2)]
    run_all("quick", ["toy-a"], jobs=1, progress=False)  # all cached: nothing runs
    assert len(calls) == 4


def test_run_all_in_miniature_writes_each_result_and_resumes(fake_mnist_root, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    args = ["run-all", "--profile", "quick", "--only", "vae-beta,activation-priors", "--jobs", "1",
            "--output-dir", str(tmp_path), "--quiet"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert out.index("activation-priors finished") < out.index("vae-beta finished")  # in the queue's order
    assert "2 of 2 experiments finished" in out and "estimate for cpu" in out
    for name in ("activation-priors", "vae-beta"):
        result = json.loads((tmp_path / f"{name}-quick.json").read_text())
        assert result == experiments.run(name, "quick", progress=False)  # the cached result, not retrained
    trial = next(cache.cache_dir().glob("trials/vae-beta/*.json"))
    trial.unlink()
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "activation-priors: 2 trials, 2 cached" in out and "vae-beta: 5 trials, 4 cached" in out


def test_bad_profile_or_names_run_nothing(capsys):
    with pytest.raises(SystemExit) as bad:
        cli.main(["run-all", "--profile", "huge"])
    assert bad.value.code == 2 and "invalid choice: 'huge'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as unknown:
        cli.main(["run-all", "--profile", "quick", "--only", "mnist-mlp,nope"])
    assert unknown.value.code == 2 and "unknown experiment(s) 'nope'" in capsys.readouterr().err
    assert not any(cache.cache_dir().rglob("*.json"))
