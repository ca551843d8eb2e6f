"""Rey & Mnih Fig. 2 on Pareto fronts (issue 27 item 1): a model beaten on both axes by one of its own
kind is off its front, and the two sides are compared front against front at equal VAE KL."""
from __future__ import annotations

import pytest

from ibcore import claims
from ibcore.claims.tradeoff import dominates, pareto_front, tradeoff_comparison

#: The committed cpu run (binarised MNIST, one seed): (VAE KL nats, −ELBO bits/dim) per model.
GD = {0.5: (6.0511, 0.1266), 0.7: (5.2507, 0.1386), 0.8: (4.7271, 0.1551), 0.9: (4.6754, 0.1879)}
VB = {0.003: (0.02, 0.1242), 0.01: (1.7828, 0.1257), 0.03: (7.8352, 0.1291), 0.1: (21.5687, 0.1458),
      0.3: (39.1115, 0.2033)}
NATS_PER_BPD = 543.4


def result(gd=GD, vb=VB, seeds=(0,)):
    rows = [dict(bottleneck="none", p=None, beta=None, seed=s, test_kl=0.01, test_kl_bpd=0.01 / NATS_PER_BPD,
                 test_nelbo_bpd=0.1202) for s in seeds]
    for s in seeds:
        rows += [dict(bottleneck="gaussian", p=p, beta=None, seed=s, test_kl=kl, test_kl_bpd=kl / NATS_PER_BPD,
                      test_nelbo_bpd=nelbo) for p, (kl, nelbo) in gd.items()]
        rows += [dict(bottleneck="variational", p=None, beta=b, seed=s, test_kl=kl, test_kl_bpd=kl / NATS_PER_BPD,
                      test_nelbo_bpd=nelbo) for b, (kl, nelbo) in vb.items()]
    return {"rows": rows, "data": {"dataset": "binarised MNIST"}}


def test_pareto_front_keeps_the_non_dominated_points_sorted_by_kl():
    assert claims.pareto_front is pareto_front
    # more KL and a lower −ELBO beats; the front rises in −ELBO as KL grows
    points = [(3.0, 0.20), (1.0, 0.10), (2.0, 0.15), (2.5, 0.30), (0.5, 0.12), (3.0, 0.25), (1.0, 0.10)]
    assert pareto_front(points) == [(1.0, 0.10), (2.0, 0.15), (3.0, 0.20)]
    assert dominates((1.0, 0.10), (0.5, 0.12)) and not dominates((1.0, 0.10), (1.0, 0.10))
    assert dominates((3.0, 0.20), (3.0, 0.25))            # equal KL, lower −ELBO
    assert pareto_front([]) == [] and pareto_front([(1, 2)]) == [(1.0, 2.0)]
    # a proper trade-off is its own front
    assert pareto_front(VB.values()) == sorted(VB.values())


def test_gaussian_dropout_at_p_half_beats_the_rest_of_its_sweep():
    # the example: p = 0.5 has more KL and a lower −ELBO than p = 0.7, 0.8 and 0.9
    assert pareto_front(GD.values()) == [GD[0.5]]


def test_the_fronts_are_compared_over_their_common_kl():
    found = tradeoff_comparison(result())
    assert found["fronts"]["gaussian"] == [(GD[0.5][0] / NATS_PER_BPD, GD[0.5][1])]
    assert len(found["fronts"]["variational"]) == 5 and found["gd_off_front"] == [0.7, 0.8, 0.9]
    assert found["vb_off_front"] == []
    low, high = found["kl_range_bpd"]
    assert low == high == pytest.approx(6.0511 / NATS_PER_BPD)  # the GD front is one model: one common KL
    # the VB front interpolated at 6.05 nats: 0.1281 bits/dim, so Gaussian dropout is ahead by 0.0015
    vb_there = 0.1257 + (6.0511 - 1.7828) / (7.8352 - 1.7828) * (0.1291 - 0.1257)
    assert vb_there == pytest.approx(0.1281, abs=5e-5)
    assert found["gap_bpd"] == pytest.approx(vb_there - 0.1266) and found["gap_bpd"] == pytest.approx(0.0015, abs=1e-4)
    assert found["gd_better_share"] == 1.0


def test_the_verdict_reads_the_fronts_per_seed():
    fig2 = next(c for c in claims.PAPER_CLAIMS if c.item == "Fig. 2" and c.part == "equal KL")
    from ibcore.claims import papers

    one = papers.judge(fig2, result())
    assert one.verdict == claims.verdicts.PARTLY          # GD ahead on one seed, at one KL
    assert "common KL 6.05 nats" in one.measured and "+0.0015 bits/dim" in one.measured
    assert one.note == "off their own side's front: GD p 0.7, 0.8, 0.9"
    # a gap straddling zero over three seeds is not shown
    shifted = result(seeds=(0, 1, 2))
    for row in shifted["rows"]:
        if row["bottleneck"] == "gaussian":
            row["test_nelbo_bpd"] += (-0.001, 0.0025, 0.0005)[row["seed"]]
    assert papers.judge(fig2, shifted).verdict == claims.verdicts.NOT_SHOWN


def test_the_chapter_glues_the_fronts_numbers_and_the_common_kl_in_words():
    numbers, texts = claims.tradeoff_prose(result())
    assert numbers["gd-models"] == 4 and numbers["gd-front"] == 1 and numbers["gd-off-front"] == 3
    assert numbers["vb-front"] == numbers["vb-models"] == 5 and numbers["gd-beaten"] == 3
    assert numbers["equal-kl-gap"] == pytest.approx(0.0015, abs=1e-4) and numbers["equal-kl-gd-better"] == 100
    assert texts == {"equal-kl-span": "a single VAE KL, 6.05 nats", "equal-kl-gaps": "+0.0015 (seed 0)"}
    assert numbers["seeds"] == numbers["equal-kl-seeds"] == 1 and "equal-kl-gap-sd" not in numbers
    apart = result(gd={0.5: (0.5, 0.2)}, vb={0.1: (3.0, 0.19)})    # no common KL: no gap, no span
    numbers, texts = claims.tradeoff_prose(apart)
    assert "equal-kl-gap" not in numbers and "equal-kl-seeds" not in numbers and texts == {}


def test_repeated_seeds_compare_their_own_models_and_the_first_seed_gives_the_sweeps_counts():
    """Issue 26: seeds 1 and 2 repeat each side's best trade-off only (p 0.5, 0.7; β 0.01, 0.03): each seed
    is compared on its own fronts, the counts of models and fronts are the first seed's whole sweep."""
    repeated = result()
    for seed, shift in ((1, 0.001), (2, -0.002)):
        repeated["rows"] += [dict(r, seed=seed, test_nelbo_bpd=r["test_nelbo_bpd"] + shift * (r["bottleneck"] == "gaussian"))
                             for r in result()["rows"] if r.get("p") in (0.5, 0.7) or r.get("beta") in (0.01, 0.03)]
    by_seed = claims.tradeoff_by_seed(repeated)
    assert list(by_seed) == [0, 1, 2] and by_seed[1]["fronts"]["variational"] == [
        pytest.approx((VB[b][0] / NATS_PER_BPD, VB[b][1])) for b in (0.01, 0.03)]
    numbers, texts = claims.tradeoff_prose(repeated)
    assert numbers["gd-models"] == 4 and numbers["vb-models"] == 5 and numbers["seeds"] == 3
    gaps = [by_seed[s]["gap_bpd"] for s in (0, 1, 2)]
    assert gaps[1] == pytest.approx(gaps[0] - 0.001) and gaps[2] == pytest.approx(gaps[0] + 0.002)
    assert numbers["equal-kl-seeds"] == 3 and numbers["equal-kl-gap-mean"] == pytest.approx(sum(gaps) / 3)
    assert numbers["equal-kl-gap-sd"] > 0 and texts["equal-kl-gaps"].count("(seed") == 3
    low, high = (float(v.replace("−", "-")) for v in texts["equal-kl-interval"].split("[")[1].rstrip("]").split(", "))
    assert low < numbers["equal-kl-gap-mean"] < high
