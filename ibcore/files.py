"""Two small file conventions every writer of ibcore shares: atomic writes and 16-digit digests.

A result, a checkpoint or a fitted transform is written to a temporary file beside its
destination and renamed over it, so a killed process never leaves half a file that a later
run would read. Cache keys, trial ids, checkpoint fingerprints and data identities are the
first 16 hex digits of a SHA-256.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

#: Hex digits kept of a SHA-256 (64 bits: no collision among the few thousand keys a cache holds).
DIGEST_DIGITS = 16


def digest(*parts: bytes | str) -> str:
    """The first :data:`DIGEST_DIGITS` hex digits of SHA-256 over ``parts`` in order (str: UTF-8)."""
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
    return sha.hexdigest()[:DIGEST_DIGITS]


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path`` (one per process), then rename it to
    ``path``: readers see the old file or the whole new one, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
