"""pyproject.toml is the pip truth; environment.yml (conda/Binder) must agree with it."""
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    specs = project["dependencies"] + extras["download"] + extras["book"] + extras["test"]
    return {re.split(r"[<>=!~\[ ]", s, maxsplit=1)[0].lower(): s.replace(" ", "") for s in specs}


def _environment_pip() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    lines = re.findall(r"^\s+-\s+([A-Za-z][^\s#]*)", text, flags=re.M)
    return {re.split(r"[<>=!~\[ ]", s, maxsplit=1)[0].lower(): s for s in lines
            if s not in ("pip",) and not s.startswith("python=")}


def test_environment_yml_lists_every_dependency_with_the_same_bounds():
    env = _environment_pip()
    for name, spec in _requirements().items():
        assert env.get(name) == spec, f"{name}: pyproject says {spec!r}, environment.yml {env.get(name)!r}"


def test_lower_bounds_only_except_jupyter_book():
    for name, spec in _requirements().items():
        if name == "jupyter-book":
            assert spec == "jupyter-book>=1.0.4,<2"
        else:
            assert "==" not in spec and "<" not in spec, f"{spec}: exact pins or caps break Colab"


def test_torchvision_is_only_an_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("torchvision") for d in project["dependencies"])
    assert any(d.startswith("torchvision") for d in project["optional-dependencies"]["download"])


@pytest.mark.parametrize("path", sorted((ROOT / "ibcore").rglob("*.py")), ids=lambda p: p.name)
def test_ibcore_never_imports_torchvision_at_module_level(path):
    assert not re.search(r"^(import|from) torchvision", path.read_text(), flags=re.M)


def test_setuptools_packages_list_every_subpackage():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT).parent.parts) for p in (ROOT / "ibcore").rglob("__init__.py")}
    assert found | {"ibcore.results"} == listed


@pytest.mark.slow
def test_an_installed_wheel_finds_the_committed_results(tmp_path):
    """Build the wheel from a copy of the sources, install it into a folder outside the checkout
    and ask it, from there, for every committed result (what a Colab install sees)."""
    import shutil
    import subprocess
    import sys

    source = tmp_path / "source"
    for name in ("ibcore", "results"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"),
                          str(source)], check=True, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("ibcore-*.whl")
    subprocess.run(pip + ["install", "--no-deps", "--target", str(tmp_path / "site"), str(wheel)], check=True)
    names = sorted(p.stem.rsplit("-", 1)[0] for p in (ROOT / "results").glob("*.json"))
    probe = ("import sys, ibcore; from ibcore import experiments as e; "
             "assert 'site' in ibcore.__file__, ibcore.__file__; "
             f"missing = [n for n in {names!r} if e.committed(n) is None]; "
             "assert not missing, missing; print(e.RESULTS_DIR)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(tmp_path / "site")})
    assert out.stdout.strip().endswith("site/ibcore/results")
