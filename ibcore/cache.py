"""Result cache: one JSON file per (experiment, resolved config, ibcore version).

The key hashes all three, so a changed config or a new ibcore version never
reads a stale result. Location: ``$IBCORE_CACHE`` or ``~/.cache/ibcore``.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

from ibcore import __version__

ENV_VAR = "IBCORE_CACHE"


def cache_dir() -> Path:
    """The cache folder: ``$IBCORE_CACHE`` or ``~/.cache/ibcore``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ibcore"


def cache_key(experiment: str, config: Mapping[str, Any], version: str = __version__) -> str:
    """16 hex digits of SHA-256 over the experiment name, its resolved config and ibcore's version."""
    text = json.dumps({"experiment": experiment, "config": config, "version": version},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def result_path(experiment: str, key: str) -> Path:
    return cache_dir() / "results" / experiment / f"{key}.json"


def checkpoint_dir(experiment: str, key: str) -> Path:
    """Where a run keeps its per-model checkpoints until its result is saved."""
    return cache_dir() / "checkpoints" / experiment / key


def load(experiment: str, key: str) -> dict | None:
    """The cached result for this key, or None."""
    path = result_path(experiment, key)
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


def save(experiment: str, key: str, result: Mapping[str, Any]) -> Path:
    """Write a result atomically and return its path."""
    path = result_path(experiment, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    os.replace(tmp, path)
    return path


def encode_array(array) -> dict:
    """A non-negative array for a JSON result: shape, max, and values quantised to 256 levels.

    The levels are stored as base64 bytes (steps of max/255, ≈ 0.4 %), which keeps
    images and KL maps in result files small; :func:`decode_array` inverts it.
    """
    import base64

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
    import base64

    import numpy as np

    levels = np.frombuffer(base64.b64decode(encoded["uint8_base64"]), dtype=np.uint8)
    return levels.reshape(encoded["shape"]) * (encoded["max"] / 255)
