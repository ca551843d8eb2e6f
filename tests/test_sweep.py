"""Sweeps: trials with stable ids, cached one by one; parallel, killed and resumed, and through submitit."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ibcore import cache, experiments, sweep

TINY = dict(widths=[8], dropouts=["information", "binary"], seeds=[0], epochs=2, lr_drops=[], layers=2)


def _rows_without_timing(result: dict) -> list[dict]:
    rows = []
    for row in result["rows"]:
        row = {k: v for k, v in row.items() if k != "seconds"}
        row["history"] = {k: v for k, v in row["history"].items() if k != "seconds"}
        rows.append(row)
    return rows


def test_trial_ids_are_stable_and_independent_of_the_rest_of_the_grid():
    exp = experiments.get("mnist-mlp")
    data = {"dataset": "MNIST", "sha256": "x"}
    small = experiments.sweep_trials(exp, exp.config("quick", {"widths": [8]}), data)
    large = experiments.sweep_trials(exp, exp.config("quick", {"widths": [8, 16]}), data)
    assert [t.id for t in small] == [t.id for t in large[:len(small)]]
    assert len({t.id for t in large}) == len(large)
    other_lr = experiments.sweep_trials(exp, exp.config("quick", {"widths": [8], "lr": 0.01}), data)
    assert not {t.id for t in other_lr} & {t.id for t in small}


def test_done_trials_are_skipped_and_bad_arguments_refused():
    computed = []
    trials = [sweep.Trial("a", "a"), sweep.Trial("b", "b")]
    ran = sweep.run(lambda trial, device, progress: computed.append(trial.id), trials,
                    done=lambda trial: trial.id == "a", progress=False)
    assert computed == ["b"] and [t.id for t in ran] == ["b"]
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        sweep.run(lambda *a: None, trials, done=lambda t: False, jobs=0)
    with pytest.raises(ValueError, match="unknown executor"):
        sweep.run(lambda *a: None, trials, done=lambda t: False, executor="cloud")


@pytest.mark.slow
def test_two_jobs_match_one_job_trial_for_trial(fake_mnist_root, monkeypatch, tmp_path):
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    monkeypatch.setenv("IBCORE_CACHE", str(tmp_path / "one"))
    one = experiments.run("mnist-mlp", "quick", progress=False, jobs=1, threads=1, **TINY)
    monkeypatch.setenv("IBCORE_CACHE", str(tmp_path / "two"))
    two = experiments.run("mnist-mlp", "quick", progress=False, jobs=2, threads=1, **TINY)
    assert one["key"] == two["key"] and one["trials"] == two["trials"]
    assert _rows_without_timing(one) == _rows_without_timing(two)  # bit-identical at equal threads


def _cli(*args: str, env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ibcore", "run", "mnist-mlp", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


@pytest.mark.slow
def test_a_killed_sweep_recomputes_only_its_unfinished_trials(fake_mnist_root, tmp_path):
    env = {**os.environ, "IBCORE_DATA": str(fake_mnist_root), "IBCORE_CACHE": str(tmp_path)}
    settings = ["--set", "widths=[8]", "--set", 'dropouts=["none", "binary"]', "--set", "seeds=[0]",
                "--set", "epochs=150", "--set", "lr_drops=[]", "--set", "layers=1", "--quiet"]
    trials = tmp_path / "trials" / "mnist-mlp"
    checkpoint_dir = tmp_path / "checkpoints" / "mnist-mlp"
    first = _cli(*settings, env=env, start_new_session=True)
    deadline = time.time() + 240
    # Kill once the first trial is done and the second has written a checkpoint: mid-way.
    while (not list(trials.glob("*.json")) or not list(checkpoint_dir.glob("*.pt"))) \
            and time.time() < deadline and first.poll() is None:
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGKILL)  # the whole process group, mid-sweep
    first.wait()
    finished = list(trials.glob("*.json"))
    assert len(finished) == 1, "the first trial should have finished before the kill, the second not"
    stamp = finished[0].stat().st_mtime_ns
    checkpoints = list(checkpoint_dir.glob("*.pt"))
    assert checkpoints, "the unfinished trial keeps its per-epoch checkpoint"
    second = _cli(*settings, env=env)
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0, out
    assert "2 trials, 1 cached, computing 1" in out
    assert finished[0].stat().st_mtime_ns == stamp  # the finished trial was not recomputed
    assert len(list(trials.glob("*.json"))) == 2


@pytest.mark.slow
def test_submitit_local_executor_runs_a_two_trial_sweep(fake_mnist_root, monkeypatch):
    pytest.importorskip("submitit", reason="pip install -e '.[test]' installs submitit")
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    result = experiments.run("mnist-mlp", "quick", progress=False, executor="submitit-local", jobs=2, **TINY)
    assert [r["dropout"] for r in result["rows"]] == ["information", "binary"]
    records = [json.loads(cache.trial_path("mnist-mlp", t).read_text()) for t in result["trials"]]
    assert all(r["row"]["epochs"] == 2 for r in records)
    assert list(Path(cache.cache_dir(), "submitit").iterdir()), "submitit's logs are kept in the cache"


_SLEEPY_SWEEP = '''
import sys, time
from pathlib import Path
from ibcore import sweep

def task(trial, device, progress):
    Path(sys.argv[1], trial.id).write_text("started")
    time.sleep(600)

if __name__ == "__main__":
    sweep.run(task, [sweep.Trial("a", "a"), sweep.Trial("b", "b")], done=lambda t: False, jobs=2,
              progress=False, threads=1)
'''


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker processes from /proc")
@pytest.mark.parametrize("kill", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_parallel_sweep_leaves_no_worker_running(tmp_path, kill):
    """A sweep killed mid-trial (Ctrl-C, kill, a scheduler's time limit, even SIGKILL) stops its
    workers: orphans would keep training and hold the cores."""
    script = tmp_path / "sleepy.py"
    script.write_text(_SLEEPY_SWEEP)
    package_root = str(Path(sweep.__file__).resolve().parents[1])  # the ibcore under test, not another install
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while len(list(tmp_path.glob("[ab]"))) < 2 and time.time() < deadline and parent.poll() is None:
        time.sleep(0.1)
    assert len(list(tmp_path.glob("[ab]"))) == 2, "both trials should have started"
    workers = [pid for pid in _children(parent.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(workers) == 2
    parent.send_signal(kill)
    parent.wait(timeout=30)
    deadline = time.time() + 15
    while any(_alive(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.2)
    alive = [pid for pid in workers if _alive(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers still running {kill.name} after the sweep was killed"
    assert parent.returncode != 0
