"""Per-epoch checkpoints of :func:`ibcore.train.fit`: written atomically, read back only by the same run."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ibcore.files import digest, write_atomic


class CorruptCheckpointError(ValueError):
    """A checkpoint file cannot be read; the message names it and says to delete it."""


def fingerprint(model: nn.Module, settings: dict) -> str:
    """16 hex digits identifying a model's architecture and a run's settings."""
    return digest(json.dumps({"model": repr(model), **settings}, sort_keys=True, default=str))


def save_atomic(state: dict, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename: never a half-written file."""
    write_atomic(path, lambda tmp: torch.save(state, tmp))


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
