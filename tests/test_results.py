"""Committed cpu results are reproducible: same config and cache key as the code gives now."""
import json
from pathlib import Path

import pytest

from ibcore import cache, experiments

RESULTS = sorted(experiments.RESULTS_DIR.glob("*-cpu.json"))
EXPECTED = ("mnist-width-sweep", "activation-priors", "vae-elbo", "vae-beta")


def test_the_chapters_results_are_committed():
    names = {path.name for path in RESULTS}
    assert {f"{name}-cpu.json" for name in EXPECTED} <= names


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_committed_result_matches_the_current_config(path: Path):
    name = path.name[: -len("-cpu.json")]
    result = json.loads(path.read_text())
    config = experiments.get(name).config("cpu")
    assert result["name"] == name and result["profile"] == "cpu"
    assert result["config"] == config, "the cpu profile changed since the result was committed: rerun it"
    assert result["key"] == cache.cache_key(name, config), (
        f"rerun `python -m ibcore run {name} --profile cpu --output results/{path.name}`")
    assert path.stat().st_size < 400_000  # small files only
