"""Result and trial cache: JSON files keyed by what produced them.

A key hashes the experiment's name, its resolved config, the data's identity (sizes and a
hash of the arrays used) and the experiment's result-format version, so a changed config,
other data or a new output format never reads a stale result. An experiment's result lives
in ``results/NAME/KEY.json``; each of its trials (one training of the sweep) in
``trials/NAME/ID.json`` with its checkpoint in ``checkpoints/NAME/ID.pt`` until it is done.
Location: ``$IBCORE_CACHE`` or ``~/.cache/ibcore``. Writes are atomic; :func:`lock` keeps two
processes from computing the same trial at once.
"""
from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from ibcore import __version__
from ibcore.files import digest, write_atomic

ENV_VAR = "IBCORE_CACHE"


class CorruptCacheError(ValueError):
    """A cache or result file cannot be read; the message names it and says what to do."""


def cache_dir() -> Path:
    """The cache folder: ``$IBCORE_CACHE`` or ``~/.cache/ibcore``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ibcore"


def _digest(payload: Mapping[str, Any]) -> str:
    return digest(json.dumps(payload, sort_keys=True, separators=(",", ":")))


def cache_key(experiment: str, config: Mapping[str, Any], data: Mapping[str, Any] | None = None,
              format_version: int = 1) -> str:
    """16 hex digits of SHA-256 over the experiment, its resolved config, the data's identity and
    the result-format version."""
    return _digest({"experiment": experiment, "config": config, "data": data, "format": format_version})


def trial_key(experiment: str, config: Mapping[str, Any], settings: Mapping[str, Any],
              data: Mapping[str, Any] | None = None, format_version: int = 1) -> str:
    """A trial's stable id: the same hash over the config *without* the grid it was drawn from
    (the caller removes those keys) and the trial's own settings (its width, seed, β, …)."""
    return _digest({"experiment": experiment, "config": config, "trial": settings, "data": data,
                    "format": format_version})


def result_path(experiment: str, key: str) -> Path:
    return cache_dir() / "results" / experiment / f"{key}.json"


def trial_path(experiment: str, trial_id: str) -> Path:
    return cache_dir() / "trials" / experiment / f"{trial_id}.json"


def checkpoint_path(experiment: str, trial_id: str) -> Path:
    """Where a trial keeps its per-epoch checkpoint until its result is saved."""
    return cache_dir() / "checkpoints" / experiment / f"{trial_id}.pt"


def read_json(path: Path) -> dict:
    """A JSON file's content; a :class:`CorruptCacheError` naming the file if it does not parse."""
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CorruptCacheError(f"{path} is not valid JSON ({err}); it was cut short or damaged: delete "
                                "it and run again to recompute it") from None


def write_json(path: Path, content: Mapping[str, Any]) -> Path:
    """Write JSON atomically (a temporary file per process, then a rename) and return the path."""
    def dump(tmp: Path) -> None:
        with open(tmp, "w") as f:
            json.dump(content, f, indent=1, sort_keys=True)

    return write_atomic(path, dump)


def load(experiment: str, key: str) -> dict | None:
    """The cached result of an experiment for this key, or None."""
    path = result_path(experiment, key)
    return read_json(path) if path.exists() else None


def save(experiment: str, key: str, result: Mapping[str, Any]) -> Path:
    """Write an experiment's result atomically and return its path."""
    return write_json(result_path(experiment, key), result)


@contextmanager
def lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` + ``.lock`` (POSIX ``flock``; released if the process dies)."""
    try:
        import fcntl
    except ImportError:  # Windows: no cross-process lock, atomic writes still hold
        yield
        return
    lock_file = path.with_name(path.name + ".lock")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def git_commit() -> str | None:
    """The commit of the checkout ibcore runs from, with ``+dirty`` if its ``ibcore/`` has uncommitted
    changes (the code a result depends on); None outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no",
                                "--", "ibcore"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def source_hash() -> str:
    """16 hex digits over the relative paths and bytes of every ``ibcore/**/*.py``: the code a result was
    computed with. A committed result whose hash differs from today's predates the code that draws it."""
    package = Path(__file__).resolve().parent
    parts: list[bytes | str] = []
    for path in sorted(package.rglob("*.py")):
        parts += [path.relative_to(package).as_posix(), path.read_bytes()]
    return digest(*parts)


def device_name(device: str | None = None) -> str:
    """A readable name of the device a run used, e.g. ``cpu (1 thread)``, ``cpu (2 threads)`` or
    ``cuda: NVIDIA H100``."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and torch.cuda.is_available():
        return f"{device}: {torch.cuda.get_device_name(torch.device(device))}"
    if str(device) == "cpu":
        threads = torch.get_num_threads()
        return f"{device} ({threads} thread{'' if threads == 1 else 's'})"
    return str(device)


def readable_device(recorded: str) -> str:
    """A result's recorded device as a reader sees it: results written before the singular was
    (issue 25) record ``cpu (1 threads)``, shown as ``cpu (1 thread)``."""
    return str(recorded).replace("(1 threads)", "(1 thread)")


def provenance(device: str | None, seconds: float) -> dict:
    """Where and how a result was computed: commit, hash of the ibcore sources, versions, device, wall
    time, finish time (UTC)."""
    import torch

    return {"commit": git_commit(), "source_hash": source_hash(), "ibcore_version": __version__,
            "torch_version": torch.__version__,
            "device": device_name(device), "seconds": round(seconds, 2),
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def encode_array(array) -> dict:
    """A non-negative array for a JSON result: shape, max, and values quantised to 256 levels.

    The levels are stored as base64 bytes (steps of max/255, ≈ 0.4 %), which keeps
    images and KL maps in result files small; :func:`decode_array` inverts it.
    """
    import numpy as np

    values = np.asarray(array, dtype=np.float64)
    if values.size and (not np.isfinite(values).all() or values.min() < 0):
        raise ValueError("encode_array stores finite, non-negative arrays only")
    top = float(values.max()) if values.size else 0.0
    levels = np.zeros(values.shape) if top == 0 else np.rint(values / top * 255)
    return {"shape": list(values.shape), "max": top,
            "uint8_base64": base64.b64encode(levels.astype(np.uint8).tobytes()).decode()}


def decode_array(encoded: Mapping[str, Any]):
    """The float array stored by :func:`encode_array` (to within max/510)."""
    import numpy as np

    levels = np.frombuffer(base64.b64decode(encoded["uint8_base64"]), dtype=np.uint8)
    return levels.reshape(encoded["shape"]) * (encoded["max"] / 255)
