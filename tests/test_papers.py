"""The "Results vs the papers" page: one row per figure/table, built from the committed results."""
from __future__ import annotations

from pathlib import Path

import pytest

from ibcore import experiments

ROOT = Path(__file__).resolve().parents[1]
VERDICTS = {"reproduced", "partly", "not yet", "not attempted"}
COMMITTED = sorted(p.stem.rsplit("-", 1)[0] for p in (ROOT / "results").glob("*.json"))


@pytest.mark.parametrize("name", COMMITTED)
def test_every_committed_result_has_a_row_with_a_verdict(name):
    table = experiments.paper_comparison()
    covered = {item.experiment for item in experiments.PAPER_ITEMS}
    assert name in covered, f"results/{name}-*.json has no row on the results-vs-papers page"
    rows = [i for i, item in enumerate(experiments.PAPER_ITEMS) if item.experiment == name]
    for i in rows:
        assert table.loc[i, "cpu: verdict"] != "not attempted" or not (ROOT / f"results/{name}-cpu.json").exists()


def test_every_experiment_has_a_row_and_every_row_a_chapter():
    covered = {item.experiment for item in experiments.PAPER_ITEMS}
    assert set(experiments.names()) <= covered, set(experiments.names()) - covered
    for item in experiments.PAPER_ITEMS:
        assert (ROOT / "notebooks" / f"{item.chapter}.ipynb").exists() or item.experiment not in experiments.names()


def test_verdicts_come_from_one_vocabulary():
    table = experiments.paper_comparison()
    assert set(table["cpu: verdict"]) | set(table["full: verdict"]) <= VERDICTS


def test_a_claim_that_fails_is_not_called_reproduced():
    """The VAE claim of eq. 7: the KL must fall as β grows."""
    item = next(i for i in experiments.PAPER_ITEMS if i.experiment == "vae-beta")
    rows = [dict(beta=b, test_kl=kl) for b, kl in ((0.5, 50.0), (1.0, 30.0), (2.0, 10.0))]
    assert item.measure({"rows": rows})[1] == "reproduced"
    rows[2]["test_kl"] = 40.0
    assert item.measure({"rows": rows})[1] == "not yet"
