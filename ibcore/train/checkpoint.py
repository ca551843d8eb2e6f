"""Per-epoch checkpoints of :func:`ibcore.train.fit`: written atomically, read back only by the same run."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from torch import nn


class CorruptCheckpointError(ValueError):
    """A checkpoint file cannot be read; the message names it and says to delete it."""


def fingerprint(model: nn.Module, settings: dict) -> str:
    """16 hex digits identifying a model's architecture and a run's settings."""
    text = json.dumps({"model": repr(model), **settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_atomic(state: dict, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load(path: Path, expected_fingerprint: str) -> dict:
    """A checkpoint's state dict; clear errors for an unreadable file or one of another run."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, garbage bytes, …: torch raises many kinds
        raise CorruptCheckpointError(
            f"checkpoint {path} is unreadable ({type(err).__name__}: {err}); delete it to restart "
            "this training from epoch 0") from None
    if not isinstance(state, dict) or not {"epoch", "model", "optimizer", "history"} <= set(state):
        raise CorruptCheckpointError(f"checkpoint {path} is not a checkpoint of ibcore.train.fit; delete it")
    if state.get("fingerprint") != expected_fingerprint:
        raise ValueError(f"checkpoint {path} was written by a run with other settings or another "
                         "model; delete it or pass another checkpoint path")
    return state
