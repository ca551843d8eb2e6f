""".ci/setup as root, as a user with passwordless sudo, as a plain user and without apt-get (issue 25 item 4).

The script runs in a copy of its folder layout with stub ``python``, ``id``, ``sudo`` and ``apt-get`` on
``PATH`` (each records its call and installs nothing): where Chromium cannot be installed it says so in
one line and goes on to prepare the data; under root a failing ``apt-get`` still stops it (``set -e``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NO_CHROMIUM = "no Chromium"
E2E_LINE = "the browser tests (tests/e2e) will skip; they fail under CI=true"


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f'#!{shutil.which("bash")}\necho "{name} $*" >> "$CALLS"\n{body}\n')
    path.chmod(0o755)


def _run_setup(tmp_path: Path, *, uid: int, sudo: bool | None, apt: bool = True,
               apt_status: int = 0) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run a copy of .ci/setup with stubs: ``uid`` for ``id -u``, ``sudo`` None (absent) or whether
    ``sudo -n true`` succeeds, ``apt`` whether apt-get exists and ``apt_status`` its exit code."""
    repo, bin_ = tmp_path / "repo", tmp_path / "bin"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "setup", repo / ".ci" / "setup")
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "prepare_offline.py").write_text("")
    bin_.mkdir()
    for tool in ("dirname", "env"):  # the only other programs the script runs
        (bin_ / tool).symlink_to(shutil.which(tool))
    _stub(bin_, "python", "exit 0")
    _stub(bin_, "id", f'[ "$1" = -u ] && echo {uid}')
    if sudo is not None:
        _stub(bin_, "sudo", f'[ "$1" = -n ] && shift\n[ "$1" = true ] && exit {0 if sudo else 1}\nexec "$@"')
    if apt:
        _stub(bin_, "apt-get", f"exit {apt_status}")
    calls = tmp_path / "calls"
    calls.write_text("")
    done = subprocess.run([shutil.which("bash"), str(repo / ".ci" / "setup")], capture_output=True, text=True,
                          env={"PATH": str(bin_), "CALLS": str(calls), "HOME": str(tmp_path)}, timeout=30)
    return done, calls.read_text().splitlines()


def _prepared_data(calls: list[str]) -> bool:
    return calls[-1] == "python ../shared/data/prepare_offline.py .data"


def test_root_installs_chromium_through_apt_get(tmp_path: Path) -> None:
    done, calls = _run_setup(tmp_path, uid=0, sudo=None)
    assert done.returncode == 0, done.stderr
    assert "apt-get update -qq" in calls
    assert "apt-get install -y -qq chromium" in calls
    assert NO_CHROMIUM not in done.stdout + done.stderr
    assert _prepared_data(calls)


def test_passwordless_sudo_installs_chromium(tmp_path: Path) -> None:
    done, calls = _run_setup(tmp_path, uid=1000, sudo=True)
    assert done.returncode == 0, done.stderr
    assert "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium" in calls
    assert "apt-get install -y -qq chromium" in calls
    assert _prepared_data(calls)


@pytest.mark.parametrize("sudo", [None, False], ids=["no sudo", "sudo asks a password"])
def test_a_plain_user_gets_one_line_and_the_data(tmp_path: Path, sudo: bool | None) -> None:
    done, calls = _run_setup(tmp_path, uid=1000, sudo=sudo)
    assert done.returncode == 0, done.stderr
    assert not any(call.startswith("apt-get") for call in calls)
    said = [line for line in done.stdout.splitlines() if line.startswith(NO_CHROMIUM)]
    assert len(said) == 1 and said[0].endswith(E2E_LINE) and "root" in said[0]
    assert _prepared_data(calls)


def test_no_apt_get_gets_one_line_and_the_data(tmp_path: Path) -> None:
    done, calls = _run_setup(tmp_path, uid=0, sudo=None, apt=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{NO_CHROMIUM} (no apt-get): {E2E_LINE}"
    assert _prepared_data(calls)


def test_a_failing_install_as_root_still_stops_the_script(tmp_path: Path) -> None:
    done, calls = _run_setup(tmp_path, uid=0, sudo=None, apt_status=100)
    assert done.returncode == 100
    assert not _prepared_data(calls)


@pytest.mark.parametrize("ci, outcome", [("", "1 skipped"), ("true", "1 error")])
def test_the_e2e_tests_skip_without_chromium_except_under_ci(tmp_path: Path, ci: str, outcome: str) -> None:
    """What the line promises: without a browser a browser test skips, and fails when CI is set."""
    (tmp_path / "index.html").write_text("<html></html>")
    env = {**os.environ, "CI": ci, "CHROMIUM": str(tmp_path / "no-chromium"), "IBCORE_BOOK_HTML": str(tmp_path)}
    test = "tests/e2e/test_book_pages.py::test_pages_load_nothing_external_and_log_no_errors"
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--noconftest", test]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert outcome in done.stdout, done.stdout[-2000:]
    assert "no Chromium at" in done.stdout
