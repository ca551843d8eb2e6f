"""``python -m ibcore verify`` and what it rests on: fit(stop_after=K) gives the full run's first K epochs."""
import json
import shutil

import pytest
import torch

from ibcore import cli, experiments
from ibcore.train import fit
from ibcore.train.loop import TrainingStopped


def _tiny(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    return x, (x[:, 0] > 0).long()


def _mlp():
    from ibcore.models import MLP

    torch.manual_seed(0)
    return MLP([16, 16], "information", in_features=10, n_classes=2)


def test_stop_after_gives_the_first_epochs_of_the_full_schedule():
    x, y = _tiny()
    recipe = dict(epochs=4, lr=0.1, schedule="linear", warmup=0.25, batch_size=32, lr_drops=[])
    full = fit(_mlp(), (x, y), (x, y), beta=0.1, progress=False, **recipe)
    with pytest.raises(TrainingStopped) as stopped:
        fit(_mlp(), (x, y), (x, y), beta=0.1, progress=False, stop_after=2, **recipe)
    part = stopped.value.history
    assert len(part["seconds"]) == 2
    for key in ("ce", "lz", "train_error", "test_error", "lr"):
        assert part[key] == full[key][:2], key  # bit-identical on CPU, the 4-epoch schedule's rates
    short = fit(_mlp(), (x, y), (x, y), beta=0.1, progress=False, **dict(recipe, epochs=2))
    assert short["lr"][1] != full["lr"][1]  # a 2-epoch run is another schedule: why verify needs stop_after


@pytest.mark.parametrize("bad", [0, 5, 1.5])
def test_stop_after_outside_the_run_is_refused(bad):
    x, y = _tiny(64)
    with pytest.raises(ValueError, match="stop_after"):
        fit(_mlp(), (x, y), (x, y), beta=0.0, epochs=4, batch_size=32, progress=False, stop_after=bad)


def test_verify_passes_on_the_committed_result_and_writes_nothing(real_data_root, tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv("IBCORE_CACHE", str(cache))
    results = sorted(p.name for p in experiments.RESULTS_DIR.iterdir())
    assert cli.main(["verify", "mnist-mlp"]) == 0
    out = capsys.readouterr().out
    assert "reproduced" in out and "test_error" in out and "MISMATCH" not in out
    assert "1 thread(s)" in out  # the thread count of the committed provenance: cpu (1 threads)
    assert not cache.exists() or not any(cache.rglob("*"))
    assert sorted(p.name for p in experiments.RESULTS_DIR.iterdir()) == results


def test_verify_fails_on_altered_first_epoch_numbers(real_data_root, tmp_path, capsys):
    result = json.loads((experiments.RESULTS_DIR / "mnist-mlp-cpu.json").read_text())
    history = result["rows"][0]["history"]
    history["ce"][0] *= 1.05
    history["test_error"][0] += 0.01
    (tmp_path / "mnist-mlp-cpu.json").write_text(json.dumps(result))
    assert cli.main(["verify", "mnist-mlp", "--results", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    mismatched = {line.split()[1] for line in out.splitlines() if line.rstrip().endswith("MISMATCH")}
    assert mismatched == {"ce", "test_error"}


def test_verify_unknown_name_or_missing_result(tmp_path, capsys):
    with pytest.raises(SystemExit) as unknown:
        cli.main(["verify", "no-such-experiment"])
    assert unknown.value.code == 2 and "unknown experiment 'no-such-experiment'" in capsys.readouterr().err
    assert cli.main(["verify", "mnist-mlp", "--results", str(tmp_path)]) == 2
    assert "no committed result of mnist-mlp" in capsys.readouterr().err


def test_verify_refuses_a_result_of_an_older_format(tmp_path, capsys):
    result = json.loads((experiments.RESULTS_DIR / "mnist-mlp-cpu.json").read_text())
    result["format_version"] = 1
    (tmp_path / "mnist-mlp-cpu.json").write_text(json.dumps(result))
    assert cli.main(["verify", "mnist-mlp", "--results", str(tmp_path)]) == 2
    assert "format version 1" in capsys.readouterr().err


def test_verify_prefers_the_best_committed_profile(tmp_path):
    from ibcore.runs.verify import recorded_threads

    shutil.copy(experiments.RESULTS_DIR / "mnist-mlp-cpu.json", tmp_path / "mnist-mlp-cpu.json")
    gpu = json.loads((tmp_path / "mnist-mlp-cpu.json").read_text())
    gpu.update(profile="gpu", provenance=dict(gpu["provenance"], device="cuda:0: NVIDIA H100"))
    (tmp_path / "mnist-mlp-gpu.json").write_text(json.dumps(gpu))
    best = experiments.committed("mnist-mlp", results_dir=tmp_path)
    assert best["profile"] == "gpu" and recorded_threads(best) is None
    assert recorded_threads(json.loads((tmp_path / "mnist-mlp-cpu.json").read_text())) == 1
