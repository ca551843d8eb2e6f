"""Where the data lives, and the one error raised when it is not there."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

ENV_VAR = "IBCORE_DATA"


class DataNotFoundError(FileNotFoundError):
    """Data files are missing and could not be downloaded; the message names folder and files."""


class CorruptDataError(ValueError):
    """A data file exists but cannot be read as what it should be; the message names it and the fix."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        super().__init__(
            f"{self.path}: {problem}. The file is corrupt or incomplete (an interrupted download or copy?): "
            "delete it and run again, so that it is downloaded afresh, or re-run whatever prepared this "
            f"data folder ({ENV_VAR}).")


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$IBCORE_DATA``, else ``~/.cache/ibcore/data``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "ibcore" / "data"


def ensure_files(folder: Path, names: Sequence[str], download: Callable[[], None] | None,
                 dataset: str) -> None:
    """Make sure ``folder/name`` exists for every name, downloading once if allowed.

    ``download`` fetches the files (via torchvision); any failure there (no
    torchvision, no network) ends in a :class:`DataNotFoundError` that says
    which files were expected where.
    """
    missing = [n for n in names if not (folder / n).exists()]
    if not missing:
        return
    reason = "downloading was not attempted (download=False)"
    if download is not None:
        try:
            download()
            missing = [n for n in names if not (folder / n).exists()]
            if not missing:
                return
            reason = "the download finished but the files are still missing"
        except ImportError:
            reason = "torchvision is not importable, so it cannot download (pip install 'ibcore[download]')"
        except Exception as err:  # network down, server error, …
            reason = f"the download failed: {type(err).__name__}: {err}"
    raise DataNotFoundError(
        f"{dataset} files missing in {folder}: expected {', '.join(names)} "
        f"(missing: {', '.join(missing)}); {reason}. Put the files there or set "
        f"{ENV_VAR} to the folder that holds them."
    )
