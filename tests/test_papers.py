"""The results-vs-papers page and the chapters' claims tables: one row per claim part, built from the
committed results, every verdict from the one vocabulary, the trained-regime guard, seeds."""
from __future__ import annotations

import json
import re
import shutil
from html import escape
from pathlib import Path

import pytest

from ibcore import claims, experiments
from ibcore.claims import papers, tables
from ibcore.claims.verdicts import (CONTRADICTED, NOT_ATTEMPTED, NOT_SHOWN, PARTLY, POINTS_AGAINST, REPRODUCED,
                                    UNDERTRAINED, VERDICTS)
from ibcore.experiments import registry

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = sorted(p.stem.rsplit("-", 1)[0] for p in (ROOT / "results").glob("*.json"))


def claim(experiment: str, item: str, part: str = "") -> papers.Claim:
    return next(c for c in papers.CLAIMS if c.experiment == experiment and c.item == item and c.part == part)


def mlp_result(errors: dict[str, list[float]], width: int = 512) -> dict:
    """A mnist-width-sweep result at one width in the new shape: a ``seed`` per row, several seeds."""
    rows = [dict(dropout=d, width=width, seed=s, test_error=e) for d, es in errors.items() for s, e in enumerate(es)]
    return {"name": "mnist-width-sweep", "rows": rows, "data": {"dataset": "MNIST"}}


@pytest.fixture(scope="module")
def table():
    return claims.paper_comparison()


@pytest.mark.parametrize("name", COMMITTED)
def test_every_committed_result_has_a_row_with_a_verdict(name, table):
    if name in papers.UNSCORED:
        pytest.skip(f"no claim of the papers is scored on {name}: {papers.UNSCORED[name]}")
    rows = [i for i, c in enumerate(papers.CLAIMS) if c.experiment == name]
    assert rows, f"results/{name}-*.json has no row on the results-vs-papers page"
    assert any(table.loc[i, "cpu: verdict"] != NOT_ATTEMPTED for i in rows)


def test_every_experiment_has_a_claim_or_a_reason_a_chapter_and_a_declared_baseline():
    covered = {c.experiment for c in papers.CLAIMS}
    assert set(experiments.names()) <= covered | set(papers.UNSCORED), set(experiments.names()) - covered
    assert not covered & set(papers.UNSCORED) and all(len(why) > 20 for why in papers.UNSCORED.values())
    for c in papers.CLAIMS:
        assert (ROOT / "notebooks" / f"{c.chapter}.ipynb").exists(), c.chapter
        assert (c.exact is None) == (c.experiment is not None), c.label
    for name in experiments.names():
        guard = experiments.get(name).baseline
        assert guard is not None and guard.why, f"{name} declares no trained regime"


def test_verdicts_come_from_one_vocabulary(table):
    verdict_columns = [c for c in table if c.endswith(": verdict")]
    assert verdict_columns and set(table[verdict_columns].stack()) <= set(VERDICTS)
    sources = [*(ROOT / "ibcore").rglob("*.py"), *(ROOT / "notebooks").glob("99-*.ipynb")]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"[\"'](not yet|holds here)[\"']", text), f"a second vocabulary in {path.name}"


def test_no_training_row_is_reproduced_on_an_undertrained_baseline_or_one_seed(table):
    for profile in [c.split(":")[0] for c in table if c.endswith(": verdict")]:
        for _, row in table[~table["exact"]].iterrows():
            if row[f"{profile}: verdict"] == REPRODUCED:
                assert row[f"{profile}: seeds"] != "1" or row["item"] == "Fig. 1", row["item"]


def test_only_the_papers_claims_are_scored():
    labels = {c.label for c in papers.CLAIMS}
    assert "Fig. 3a · vs none" not in labels and "Fig. 3a · one width" not in labels
    assert "mnist-mlp" in papers.UNSCORED and not [c for c in papers.CLAIMS if c.experiment == "mnist-mlp"]
    note = claims.claims_table("mnist-mlp")            # chapter 10 still calls it: it says why there is no row
    assert note.frame.empty and "No claim of the papers is scored here" in note.html


def test_a_general_claim_shown_at_some_widths_only_is_partly():
    vs_lognormal = claim("mnist-width-sweep", "Fig. 3a", "vs log-normal")
    rows = []
    for width, (info, lognormal) in {3: (0.24, 0.40), 32: (0.034, 0.055), 512: (0.0214, 0.0246)}.items():
        spread = (0.0, 0.004) if width == 512 else (0.0, 0.001)   # at 512 the seeds' spread swallows the gap
        rows += mlp_result({"information": [info + d for d in spread], "lognormal": [lognormal - d for d in spread],
                            "none": [0.021, 0.0211]}, width)["rows"]
    found = papers.judge(vs_lognormal, {"rows": rows, "data": {"dataset": "MNIST"}})
    assert found.verdict == PARTLY and "width 512: not shown" in found.note
    assert "less beyond the seeds' spread at width 3, 32 of 3, 32, 512" in found.measured


def test_a_difference_inside_the_seed_spread_is_not_shown_and_beyond_it_reproduced():
    vs_binary = claim("mnist-width-sweep", "Fig. 3a", "vs binary")
    inside = mlp_result({"information": [0.0202, 0.0197], "none": [0.0206, 0.0207], "binary": [0.0205, 0.0255]})
    assert papers.judge(vs_binary, inside).verdict == NOT_SHOWN
    beyond = mlp_result({"information": [0.015, 0.0151, 0.0149], "none": [0.020, 0.0201, 0.0199],
                         "binary": [0.025, 0.0251, 0.0249]})
    found = papers.judge(vs_binary, beyond)
    assert found.verdict == REPRODUCED and found.seeds_text == "3" and "1.50 ± 0.01" in found.measured
    worse = mlp_result({"information": [0.030, 0.0301, 0.0299], "none": [0.020, 0.0201, 0.0199],
                        "binary": [0.025, 0.0251, 0.0249]})
    assert papers.judge(vs_binary, worse).verdict == CONTRADICTED


def test_an_undertrained_baseline_gives_no_verdict_and_names_it():
    one_width = claim("mnist-width-sweep", "Fig. 3a", "vs binary")
    result = mlp_result({"information": [0.05, 0.0501, 0.0499], "none": [0.08, 0.0801, 0.0799],
                         "binary": [0.09] * 3, "lognormal": [0.09] * 3})
    found = papers.judge(one_width, result)
    assert found.verdict == UNDERTRAINED and found.baseline.startswith("8.00 %")
    html = tables.badge(found.verdict, found.baseline.split(" (")[0])
    assert "no verdict (undertrained: baseline 8.00 %)" in html


def test_old_and_new_result_shapes_group_by_setting_with_the_rows_seeds():
    # the old shape (the first committed cpu run): no seed in the rows, one seed in the config, 61.7 % baseline
    old_rows = [dict(dropout=d, filter_fraction=0.1, test_error=e)
                for d, e in (("none", 0.617), ("binary", 0.70), ("information", 0.68))]
    old = papers.judge(claim("cifar-filters-seeds", "Fig. 3b"), {"rows": old_rows, "config": {"seeds": [0]}, "data": {}})
    assert old.verdict == UNDERTRAINED and old.seeds_text == "1"
    rows = [dict(dropout=d, filter_fraction=f, seed=s, test_error=e)
            for f, d, es in ((0.1, "information", (0.40, 0.401, 0.399)), (0.1, "binary", (0.45, 0.451, 0.449)),
                             (0.25, "none", (0.31,)))
            for s, e in enumerate(es)]
    new = papers.judge(claim("cifar-filters-seeds", "Fig. 3b"), {"rows": rows, "data": {}})
    assert new.verdict == REPRODUCED and new.seeds_text == "3" and new.baseline.startswith("31.0 %")


def test_table_i_rows_appear_for_every_k_a_result_holds():
    rows = [dict(k=k, latent=lat, seed=s, test_elbo=-95.0 - 0.1 * s - (0.3 if lat == "information" else 0))
            for k in (1, 2, 3) for lat in ("gaussian", "information") for s in range(3)]
    table_i = [c for c in papers.CLAIMS if c.item == "Table I"]
    only_k1 = {"rows": [r for r in rows if r["k"] == 1]}
    assert [papers.judge(c, only_k1).verdict for c in table_i][1:] == [NOT_ATTEMPTED, NOT_ATTEMPTED]
    assert [papers.judge(c, {"rows": rows}).verdict for c in table_i] == [REPRODUCED] * 3


def test_the_elbo_gap_by_epoch_averages_seeds_and_stops_at_the_shortest_history():
    from ibcore.claims.measures_generative import elbo_gap_by_epoch

    def row(latent: str, curve: list[float]) -> dict:
        return dict(latent=latent, history={"test_nelbo": curve})

    result = {"rows": [row("gaussian", [100.0, 90.0, 88.0]), row("gaussian", [102.0, 92.0]),
                       row("information", [104.0, 95.0, 93.0]), row("information", [106.0, 97.0, 95.0])]}
    assert elbo_gap_by_epoch(result) == pytest.approx([4.0, 5.0])
    with pytest.raises(ValueError, match="both latents"):
        elbo_gap_by_epoch({"rows": result["rows"][:2]})


def test_the_elbo_gap_interval_is_gaussian_minus_information_with_welchs_interval():
    from ibcore.claims.measures_generative import elbo_gap_interval

    rows = [dict(latent=lat, seed=s, test_elbo=e) for lat, es in (("gaussian", (-86.0, -86.4)),
                                                                   ("information", (-89.6, -90.2))) for s, e in enumerate(es)]
    gap = elbo_gap_interval({"rows": rows})
    assert gap.estimate == pytest.approx(3.7) and gap.low < 3.7 < gap.high
    assert elbo_gap_interval({"rows": rows[:1] + rows[2:3]}).low is None  # one seed: the estimate alone


def beta_result(tc: list[float], tc_off: list[float] | None, seeds: int = 3, dims: int | None = None) -> dict:
    rows = []
    for beta, t, off in zip((0.3, 1.0, 3.0, 10.0), tc, tc_off or tc):
        for s in range(seeds):
            row = dict(beta=beta, seed=s, test_error=0.3 + 0.01 * s, total_correlation=t + s)
            if dims:
                row["total_correlation_per_dimension"] = (t + s) / dims
            if tc_off is not None:
                row["total_correlation_noise_off"] = off + s
            rows.append(row)
    return {"rows": rows, "data": {"n_test": 10_000}}


def test_fig_5_tc_reads_the_noisy_representation_and_the_noise_off_control_is_no_claim():
    tc = claim("cifar-beta", "Fig. 5", "TC")
    falls = beta_result([500, 400, 300, 200], None)
    assert papers.judge(tc, falls).verdict == REPRODUCED and papers.judge(tc, falls).note == ""
    # Prop. 1 penalises the noisy z: a flat or rising noise-off TC does not change the verdict on it
    flat = papers.judge(tc, beta_result([500, 400, 300, 200], [300, 302, 299, 301]))
    assert flat.verdict == REPRODUCED and "noise off" not in flat.measured
    assert flat.note.startswith("control, not a claim of the paper") and "its fall with β: not shown" in flat.note
    rising = papers.judge(tc, beta_result([500, 400, 300, 200], [300, 400, 500, 600]))
    assert rising.verdict == REPRODUCED and rising.note.endswith("contradicted")
    assert papers.judge(tc, beta_result([200, 300, 400, 500], None)).verdict == CONTRADICTED
    assert not [c for c in papers.CLAIMS if "noise_off" in getattr(c.measure, "__name__", "")]  # never scored


def test_fig_5_error_is_read_where_beta_0_overfits_and_shows_the_gap():
    """Issue 26 item 2: "the error first improves" (less overfitting) is read on cifar-beta-overfit, and its
    finding names the smallest β's clean training error beside the test error."""
    error = claim("cifar-beta-overfit", "Fig. 5", "error")
    rows = [dict(beta=b, seed=s, test_error=e + 0.001 * s, clean_train_error=c + 0.001 * s)
            for b, e, c in ((0.0, 0.42, 0.14), (0.3, 0.38, 0.20), (1.0, 0.39, 0.25), (3.0, 0.45, 0.35))
            for s in (0, 1, 2)]
    found = papers.judge(error, {"rows": rows, "data": {}})
    assert found.verdict == REPRODUCED and "best β 0.3" in found.measured
    assert "β 0 clean train error 14.1 ± 0.1 %" in found.measured
    no_clean = papers.judge(error, {"rows": [{k: v for k, v in r.items() if k != "clean_train_error"} for r in rows],
                                    "data": {}})
    assert "clean train" not in no_clean.measured and no_clean.verdict == REPRODUCED
    one_seed = papers.judge(error, {"rows": [r for r in rows if r["seed"] == 0], "data": {}})
    assert one_seed.verdict != REPRODUCED


def test_fig_4_main_error_is_read_where_beta_0_overfits_and_shows_the_gap():
    """Issue 26 item 2: Fig. 4's "improving the performance on the main task by preventing overfitting" is
    read on occluded-cifar-overfit, every β against β = 0, with β = 0's clean training error beside it."""
    main = claim("occluded-cifar-overfit", "Fig. 4", "main task")
    def result(errors):
        return {"data": {}, "rows": [dict(beta=b, seed=s, test_error=e + 0.002 * s, clean_train_error=0.2 + 0.001 * s)
                                     for b, e in zip((0.0, 0.3, 1.0, 3.0), errors) for s in (0, 1, 2)]}
    falling = papers.judge(main, result((0.50, 0.46, 0.44, 0.42)))
    assert falling.verdict == REPRODUCED and "β 0 clean train error 20.1 ± 0.1 %" in falling.measured
    u_shaped = papers.judge(main, result((0.50, 0.46, 0.48, 0.55)))
    assert u_shaped.verdict not in (REPRODUCED, NOT_SHOWN)
    assert papers.judge(main, result((0.50, 0.53, 0.56, 0.60))).verdict == CONTRADICTED
    unlearned = papers.judge(main, result((0.70, 0.66, 0.64, 0.62)))
    assert unlearned.verdict == UNDERTRAINED


def test_fig_5_tc_shows_the_debiased_value_beside_the_plug_in():
    from ibcore.claims.measures import tc_bias

    # 3,072 units on 10,000 test images (the cpu profile): the plug-in reads 264.6 nats on independent units
    result = beta_result([5004, 1000, 580, 366], None, dims=3072)
    assert tc_bias(result) == pytest.approx(264.63, abs=0.01)
    found = papers.judge(claim("cifar-beta", "Fig. 5", "TC"), result)
    assert "plug-in β 0.3 → 10: 5005 ± 1 → 367 ± 1 nats" in found.measured
    assert "debiased (less 264.6): 4740 ± 1 → 102 ± 1 nats" in found.measured
    assert tc_bias(beta_result([500, 400], None)) is None          # no per-dimension value: no D, no debiasing


def test_the_page_shows_a_profile_column_only_where_a_result_of_it_exists(tmp_path, monkeypatch):
    for path in (ROOT / "results").glob("*-cpu.json"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(registry, "RESULTS_DIR", tmp_path)
    assert papers.committed_profiles() == ("cpu",)
    shutil.copy(tmp_path / "mnist-width-sweep-cpu.json", tmp_path / "mnist-width-sweep-gpu.json")
    assert papers.committed_profiles() == ("cpu", "gpu")
    assert "gpu profile" in claims.scorecard().html and "full profile" not in claims.scorecard().html


def test_the_scorecard_names_each_paper_once_and_links_every_row_to_its_chapter():
    html = claims.scorecard().html
    for paper in (papers.ACHILLE, papers.REY):
        assert html.count(f">{escape(paper)}</th>") == 1
    links = re.findall(r'<a class="ib-chapter" href="([^"#]+)(?:#([^"]+))?"', html)
    assert len(links) == len(papers.CLAIMS)
    for page, anchor in links:
        chapter = page.removesuffix(".html")
        assert (ROOT / "notebooks" / f"{chapter}.ipynb").exists()
        assert not anchor or anchor in {i for _, i in tables.section_titles(chapter)}
    assert all(f">{v}<" in html for v in VERDICTS)  # the legend


def test_a_chapter_shows_its_own_claims_with_one_call():
    cifar = claims.claims_table("cifar-filters-seeds", "cifar-filters", "cifar-beta")
    assert set(cifar.frame["item"]) == {"Fig. 3b", "Fig. 5", "Fig. 6a", "Fig. 6b"}
    assert "ib-scorecard" not in cifar.html and 'class="ib-claims"' in cifar._repr_html_()
    theory = claims.claims_table("20-gaussian-dropout-bottleneck")
    assert list(theory.frame["item"]) == ["Theorem 1"]
    with pytest.raises(ValueError, match="no claims for"):
        claims.claims_table("cifar-nothing")


def test_cifar_claims_keeps_its_signature_and_speaks_the_vocabulary():
    filters, beta = (registry.committed(n, ("cpu",)) for n in ("cifar-filters", "cifar-beta"))
    found = claims.cifar_claims(filters, beta)
    assert list(found["figure"]) == ["Fig. 3b", "Fig. 5 · TC", "Fig. 5 · error", "Fig. 6a",
                                     "Fig. 6b · fewer filters", "Fig. 6b · top layer"]
    assert set(found["verdict"]) <= set(VERDICTS)
    assert claims.cifar_claims().empty


def test_committed_results_parse_in_both_shapes():
    for path in (ROOT / "results").glob("*.json"):
        result = json.loads(path.read_text())
        assert all("seed" in row or "seed" in result["config"] for row in result["rows"]), path.name


def pixelcnn_result(gd, vb, seeds=(0,), none_kl=0.5):
    """A pixelcnn-bottleneck result from (VAE KL, −ELBO) points in bits/dim, repeated per seed
    (seed s shifts every −ELBO by 1e-4·s)."""
    rows = []
    for s in seeds:
        rows.append(dict(bottleneck="none", seed=s, test_kl=none_kl, test_kl_bpd=none_kl / 543.4, test_nelbo_bpd=0.13))
        rows += [dict(bottleneck=kind, seed=s, test_kl=kl * 543.4, test_kl_bpd=kl, test_nelbo_bpd=nelbo + 1e-4 * s,
                      **{"p" if kind == "gaussian" else "beta": 0.1 * (k + 1)})
                 for kind, points in (("gaussian", gd), ("variational", vb)) for k, (kl, nelbo) in enumerate(points)]
    return {"rows": rows, "data": {"dataset": "binarised MNIST"}}


def test_rey_mnih_fig_2_reads_the_gap_at_equal_kl_over_seeds():
    fig2 = claim("pixelcnn-bottleneck", "Fig. 2", "equal KL")
    gd, vb = [(0.0, 0.20), (0.04, 0.204), (0.08, 0.208)], [(0.02, 0.212), (0.1, 0.22)]   # GD lower by 0.01
    assert papers.judge(fig2, pixelcnn_result(gd, vb, seeds=(0, 1, 2))).verdict == REPRODUCED
    assert papers.judge(fig2, pixelcnn_result(gd, vb)).verdict == PARTLY                 # one seed
    assert papers.judge(fig2, pixelcnn_result(vb, gd)).verdict == POINTS_AGAINST         # reversed, one seed
    assert papers.judge(fig2, pixelcnn_result(vb, gd, seeds=(0, 1, 2))).verdict == CONTRADICTED
    apart = pixelcnn_result([(0.01, 0.25), (0.02, 0.23)], [(0.05, 0.22), (0.09, 0.26)])  # no common KL
    found = papers.judge(fig2, apart)
    assert found.verdict == POINTS_AGAINST and "VB beats GD on both axes at p 0.1, 0.2" in found.measured
    undertrained = pixelcnn_result(gd, vb, seeds=(0, 1, 2))
    for row in undertrained["rows"]:
        row["test_nelbo_bpd"] += 0.1 * (row["bottleneck"] == "none")
    assert papers.judge(fig2, undertrained).verdict == UNDERTRAINED


def test_rey_mnih_latent_collapse_without_a_bottleneck():
    collapse = claim("pixelcnn-bottleneck", "Fig. 2", "latent use")
    result = pixelcnn_result([(0.0, 0.20), (0.04, 0.204)], [(0.02, 0.212), (0.1, 0.22)], seeds=(0, 1, 2))
    for row in result["rows"]:
        row["test_kl"] += 0.01 * row["seed"]
    assert papers.judge(collapse, result).verdict == REPRODUCED


def test_fig_3b_fig_6_on_a_cifar_filters_result():
    def rows(info_error, layer2_total):
        out = [dict(dropout="none", filter_fraction=f, seed=0, test_error=0.30) for f in (0.1, 0.25)]
        for f, seeds in ((0.1, (0, 1, 2)), (0.25, (0,))):
            for s in seeds:
                out.append(dict(dropout="binary", filter_fraction=f, seed=s, test_error=0.40 + 0.001 * s))
                out.append(dict(dropout="information", filter_fraction=f, seed=s, test_error=info_error + 0.001 * s,
                                information=[dict(total=500.0 + s, per_unit=0.2 / f + 0.01 * s),
                                             dict(total=layer2_total + s, per_unit=0.5 / f + 0.01 * s)]))
        return {"rows": out, "data": {}}
    verdicts = claims.cifar_claims(rows(0.35, 300.0)).set_index("figure")["verdict"]
    assert verdicts["Fig. 3b"] == REPRODUCED and verdicts["Fig. 6a"] == PARTLY  # one seed at 25 %
    assert verdicts["Fig. 6b · fewer filters"] == PARTLY and verdicts["Fig. 6b · top layer"] == PARTLY
    reversed_ = claims.cifar_claims(rows(0.44, 800.0)).set_index("figure")["verdict"]
    assert reversed_["Fig. 3b"] == CONTRADICTED and reversed_["Fig. 6a"] == CONTRADICTED


def test_every_compared_model_is_in_its_trained_regime_not_only_the_baseline():
    from ibcore.claims import regimes

    vs_binary = claim("mnist-width-sweep", "Fig. 3a", "vs binary")
    rows = []
    for width, errors in {3: dict(information=0.24, binary=0.84, none=0.21),
                          128: dict(information=0.0236, binary=0.0390, none=0.0240),
                          512: dict(information=0.0214, binary=0.0277, none=0.0207)}.items():
        rows += mlp_result({d: [e, e + 0.0005, e - 0.0005] for d, e in errors.items()}, width)["rows"]
    found = papers.judge(vs_binary, {"rows": rows, "data": {"dataset": "MNIST"}})
    # binary dropout at width 3 errs 84 %: it is left out, and the claim is read at 128 and 512 only
    assert found.verdict == REPRODUCED and "width 3" not in found.measured
    assert found.guard == "compared models ≤ 45 %: worst kept 24.0 %; left out: binary, width 3 84.0 %"
    assert found.baseline.startswith("2.07 % (needs ≤ 3 %") and "compared models" not in found.baseline
    # when the model the claim needs is left out at every size, nothing is read
    hopeless = [dict(r, test_error=0.8) if r["dropout"] == "binary" else r for r in rows]
    assert papers.judge(vs_binary, {"rows": hopeless, "data": {"dataset": "MNIST"}}).verdict == UNDERTRAINED
    # every experiment with claims states its rule, and the regimes table shows it
    for name in {c.experiment for c in papers.CLAIMS if c.experiment}:
        assert regimes.RULES[name].why, name
    assert "every compared model" in claims.trained_regimes().columns


def test_a_sweep_of_one_strength_is_exempt_and_says_why():
    from ibcore.claims import regimes

    assert regimes.RULES["cifar-beta"].exempt and regimes.RULES["pixelcnn-bottleneck"].exempt
    assert not regimes.RULES["mnist-width-sweep"].exempt and not regimes.RULES["vae-elbo"].exempt
    tc = papers.judge(claim("cifar-beta", "Fig. 5", "TC"), beta_result([500, 400, 300, 200], None))
    assert "compared models" not in tc.baseline and tc.guard == ""


def test_the_scorecard_shortens_long_findings_and_keeps_them_whole_in_the_tooltip():
    """Scorecard rows stay within four lines at 1400 px: a long finding is cut after a whole clause with
    "…", and the verdict's tooltip holds the whole finding (and the guard of the compared models)."""
    from ibcore.claims.tables import SCORECARD_CHARS, _shortened

    long = "; ".join(f"width {w}: 1.00 ± 0.10 vs 2.00 ± 0.20 %" for w in (3, 8, 32, 128, 512))
    shown, whole = _shortened(long)
    assert shown.endswith(" …") and len(shown) <= SCORECARD_CHARS + 2 and long.startswith(shown[:-2]) and whole == long
    assert _shortened("short") == ("short", "")
    html = claims.scorecard().html
    assert "compared models ≤" in html and "compared models ≤" not in re.sub(r'title="[^"]*"', "", html)
