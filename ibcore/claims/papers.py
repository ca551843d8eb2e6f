"""Results vs the papers: every claim of both papers, split into its parts, beside what this book
measured and a verdict from the one vocabulary (:mod:`ibcore.claims.verdicts`).

Each :class:`Claim` is one part of a claim the paper makes with a figure, a table or a theorem:
its short statement, the chapter (and section) that derives and discusses it, the experiment
whose committed result speaks to it, and the measure that reads it (:mod:`.measures`,
:mod:`.measures_generative`; exact results: :mod:`.exact`). :func:`judge` applies the
experiment's trained-regime guard (its :class:`~ibcore.experiments.regime.Baseline`) to what the
measure found; :func:`paper_comparison` builds the table from ``results/`` for every profile that
has a committed result, and :func:`ibcore.claims.tables.claims_table` renders it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from ibcore.claims import exact, measures as m, measures_generative as g
from ibcore.claims.measures import Finding
from ibcore.claims.regimes import RULES, compared
from ibcore.claims.verdicts import NOT_ATTEMPTED, UNDERTRAINED

#: The profiles a results table may show, in this order: never ``quick`` (a pipeline check).
SCORED_PROFILES = ("cpu", "gpu", "full")


@dataclass(frozen=True)
class Claim:
    """One part of one claim of a paper and how a committed result of ``experiment`` speaks to it.

    ``where`` selects the result rows the part reads (Table I: one k); ``section`` names, by a
    fragment of its title, the chapter section that discusses it (the first fragment found wins);
    an ``exact`` claim is checked by computation (:mod:`.exact`), with no training run. ``reads``
    names the models the comparison reads (e.g. ``{"dropout": ("information", "binary")}``; default:
    every row): the trained-regime guard of compared models (:mod:`.regimes`) applies to those.
    """

    paper: str
    item: str
    part: str
    claim: str
    chapter: str
    section: tuple[str, ...] = ()
    experiment: str | None = None
    measure: Callable[[Mapping], Finding] | None = None
    where: Mapping[str, object] = field(default_factory=dict)
    exact: Callable[[], Finding] | None = None
    reads: Mapping[str, tuple] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.item} · {self.part}" if self.part else self.item


ACHILLE = "Achille & Soatto 2016, Information Dropout"
REY = "Rey & Mnih, Gaussian dropout as an information bottleneck layer"
_COMMITTED = ("What the", "committed")
CLAIMS: tuple[Claim, ...] = (
    Claim(ACHILLE, "Fig. 1", "ReLU, CIFAR-10", "post-noise ReLU activations: an atom at 0, the rest "
          "log-uniform (flat in log z)", "15-cifar", ("Fig. 1",), "cifar-activation-priors", m.relu_prior),
    Claim(ACHILLE, "Fig. 1", "Softplus, CIFAR-10", "post-noise Softplus activations are log-normal",
          "15-cifar", ("Fig. 1",), "cifar-activation-priors", m.softplus_prior),
    Claim(ACHILLE, "Fig. 1", "ReLU, MNIST MLP", "the same check on the MLP of §8 (the paper uses CIFAR-10)",
          "12-activation-priors", _COMMITTED, "activation-priors", m.relu_prior),
    Claim(ACHILLE, "Fig. 1", "Softplus, MNIST MLP", "the same check on the MLP of §8",
          "12-activation-priors", _COMMITTED, "activation-priors", m.softplus_prior),
    Claim(ACHILLE, "Fig. 2", "", "at large β the KL map localises the digit in the clutter",
          "14-cluttered-mnist", ("What the measurement", "committed"), "cluttered-mnist-seeds", m.kl_localises),
    Claim(ACHILLE, "Fig. 3a", "vs binary", "Information Dropout errs less than binary dropout, especially "
          "on small MLPs", "11-dropout-vs-width", _COMMITTED, "mnist-width-sweep", m.against("binary", every=True),
          reads={"dropout": ("information", "binary")}),
    Claim(ACHILLE, "Fig. 3a", "vs log-normal", "… and less than log-normal dropout of the same variance",
          "11-dropout-vs-width", _COMMITTED, "mnist-width-sweep", m.against("lognormal", every=True),
          reads={"dropout": ("information", "lognormal")}),
    Claim(ACHILLE, "Fig. 3b", "", "All-CNN-32: comparable to or better than binary dropout, especially "
          "with few filters", "15-cifar", ("Five seeds", "Fig. 3b"),
          "cifar-filters-seeds", m.against("binary", key="filter_fraction"),
          reads={"dropout": ("information", "binary")}),
    Claim(ACHILLE, "Fig. 4", "nuisance", "as β grows, the occluding digit is harder to read from the "
          "noisy representation", "16-occluded-cifar", _COMMITTED, "occluded-cifar", m.rises_with_beta("nuisance_error")),
    Claim(ACHILLE, "Fig. 4", "main task", "as β grows, the main error (noise off) improves",
          "16-occluded-cifar", ("overfits",), "occluded-cifar-overfit", m.rises_with_beta("test_error", "<")),
    Claim(ACHILLE, "Fig. 5", "TC", "as β grows the last layer's total correlation falls (disentanglement)",
          "15-cifar", ("Fig. 5",), "cifar-beta", m.tc_falls),
    Claim(ACHILLE, "Fig. 5", "error", "as β grows the error first improves, then rises", "15-cifar",
          ("overfits", "Fig. 5"), "cifar-beta-overfit", m.error_u_shape),
    Claim(ACHILLE, "Fig. 6a", "", "the second dropout layer transmits less in total than the first",
          "15-cifar", ("Fig. 6",), "cifar-filters", m.layer_two_less),
    Claim(ACHILLE, "Fig. 6b", "fewer filters", "with fewer filters each unit transmits more",
          "15-cifar", ("Fig. 6",), "cifar-filters", m.per_unit_rises),
    Claim(ACHILLE, "Fig. 6b", "top layer", "a unit of the top dropout layer carries more than one of the bottom",
          "15-cifar", ("Fig. 6",), "cifar-filters", m.top_layer_per_unit),
    Claim(ACHILLE, "Table I", "k = 1", "Gaussian and Information latents: a similar test ELBO (latent 256; the "
          "paper's 300 epochs)", "13-vae-information-dropout", _COMMITTED, "vae-elbo-k1", g.similar_elbo,
          where={"k": 1}),
    Claim(ACHILLE, "Table I", "k = 2", "Gaussian and Information latents: a similar test ELBO (latent 512; the "
          "paper's drops, 150 of its 300 epochs)", "13-vae-information-dropout", _COMMITTED, "vae-elbo-k2",
          g.similar_elbo, where={"k": 2}),
    Claim(ACHILLE, "Table I", "k = 3", "Gaussian and Information latents: a similar test ELBO (latent 768; 50 of "
          "the 300 epochs)", "13-vae-information-dropout", _COMMITTED, "vae-elbo", g.similar_elbo, where={"k": 3}),
    Claim(ACHILLE, "eq. 7", "", "β trades the KL (information in z) against reconstruction",
          "13-vae-information-dropout", ("trade-off",), "vae-beta", g.kl_trades_reconstruction),
    Claim(ACHILLE, "Prop. 1, 4", "", "a factorised prior, minimised over, charges I(x; z) + TC(z)",
          "03-disentanglement", ("Prop. 1",), exact=exact.prop1),
    Claim(ACHILLE, "Prop. 2", "", "ReLU, log-uniform prior: KL = −log α + const", "02-kl-terms",
          ("Proposition 2",), exact=exact.prop2),
    Claim(ACHILLE, "Prop. 3", "eq. 5", "Softplus, log-normal prior: the KL of two normals in log z",
          "02-kl-terms", ("Proposition 3",), exact=exact.prop3),
    Claim(REY, "Theorem 1", "", "Gaussian dropout bounds I(X; Y); the bound is invariant to rescaling X",
          "20-gaussian-dropout-bottleneck", ("Theorem 1",), exact=exact.theorem1),
    Claim(REY, "Fig. 2", "equal KL", "Gaussian dropout gives a better ELBO at equal VAE KL than a "
          "variational bottleneck", "21-pixelcnn-bottleneck", ("Does Gaussian", "committed"),
          "pixelcnn-bottleneck", g.gaussian_dropout_better),
    Claim(REY, "Fig. 2", "latent use", "without a bottleneck the PixelCNN leaves the latents unused",
          "21-pixelcnn-bottleneck", ("Does Gaussian", "committed"), "pixelcnn-bottleneck", g.latents_collapse),
)


#: Experiments on which no claim of the papers is scored, each with the reason (only what the papers
#: claim is scored: Fig. 3a's plotted "no dropout" line and "errs least at one width" are no claims).
UNSCORED: Mapping[str, str] = {
    "mnist-mlp": "the demonstration of chapter 10 (one width, four kinds of dropout, as training curves); "
                 "Fig. 3a's claims are scored on mnist-width-sweep (widths 3-128 on the paper's schedule)",
    "cluttered-mnist": "the β sweep of chapter 14 (four β, one seed each: the figure and the slider); Fig. 2's "
                       "claim is scored on cluttered-mnist-seeds (β = 0 and 0.5, two seeds each)",
}


def judge(claim: Claim, result: Mapping | None) -> Finding:
    """What ``result`` (a committed result of ``claim.experiment``, or None) says about ``claim``:
    the measure's finding, its baseline, and *no verdict (undertrained)* when the baseline is
    outside the experiment's trained regime. Every other model the comparison reads must be in its
    trained regime too (:mod:`.regimes`): those outside it are left out before the measure reads
    the rows, and the baseline cell names them with the guard's numbers."""
    from ibcore.experiments.registry import get

    if claim.exact is not None:
        return claim.exact()
    if result is None:
        return Finding("—", NOT_ATTEMPTED)
    rows = [r for r in result["rows"] if all(r.get(k) == v for k, v in claim.where.items())]
    if not rows:
        setting = ", ".join(f"{k} = {v}" for k, v in claim.where.items())
        return Finding(f"no run at {setting} in this result", NOT_ATTEMPTED)
    guard = get(claim.experiment).baseline
    if guard is None:
        return replace(claim.measure({**result, "rows": rows}), baseline="none declared")
    dataset = (result.get("data") or {}).get("dataset")
    baseline = guard.value(rows)
    if baseline is None:
        return replace(claim.measure({**result, "rows": rows}), baseline=f"no {guard.model} run", verdict=UNDERTRAINED)
    shown = f"{guard.text(baseline)} ({guard.limit_text(dataset)})"
    if not guard.trained(baseline, dataset):
        return replace(claim.measure({**result, "rows": rows}), baseline=shown, verdict=UNDERTRAINED)
    read = [r for r in rows if all(r.get(k) in v for k, v in claim.reads.items())]
    models = compared(claim.experiment, guard, read, dataset)
    kept = models.text()
    try:
        finding = claim.measure({**result, "rows": models.kept})
    except (LookupError, ValueError, StopIteration) as missing:  # a model the claim needs is absent
        if models.left_out:  # ... because the guard left it out
            return Finding("the models this claim compares are outside their trained regime", UNDERTRAINED,
                           baseline=shown, guard=kept)
        return Finding(str(missing).strip("'"), NOT_SHOWN, baseline=shown, guard=kept)
    return replace(finding, baseline=shown, guard=kept)


def committed_profiles(claims: tuple[Claim, ...] = CLAIMS) -> tuple[str, ...]:
    """The profiles of :data:`SCORED_PROFILES` with a committed result of some experiment of ``claims``."""
    from ibcore.experiments.registry import committed

    names = {c.experiment for c in claims if c.experiment}
    return tuple(p for p in SCORED_PROFILES if any(committed(n, (p,)) is not None for n in names))


def paper_comparison(profiles: tuple[str, ...] | None = None, claims: tuple[Claim, ...] = CLAIMS):
    """A pandas DataFrame, one row per claim part: paper, item, part, the claim, chapter and section,
    and per profile (default: those with a committed result, else ``cpu``) what was measured, the
    baseline, the seeds per compared setting and the verdict."""
    import pandas as pd

    from ibcore.experiments.registry import committed

    profiles = profiles or committed_profiles(claims) or ("cpu",)
    results = {(n, p): committed(n, (p,)) for n in {c.experiment for c in claims if c.experiment} for p in profiles}
    records = []
    for claim in claims:
        record = {"paper": claim.paper, "item": claim.item, "part": claim.part, "claim": claim.claim,
                  "chapter": claim.chapter, "section": claim.section, "exact": claim.exact is not None}
        for profile in profiles:
            found = judge(claim, results.get((claim.experiment, profile)))
            record.update({f"{profile}: measured": found.measured, f"{profile}: baseline": found.baseline or "—",
                           f"{profile}: guard": found.guard,
                           f"{profile}: seeds": found.seeds_text, f"{profile}: verdict": found.verdict,
                           f"{profile}: note": found.note})
        records.append(record)
    return pd.DataFrame(records)


def cifar_claims(filters: Mapping | None = None, beta: Mapping | None = None):
    """The CIFAR-10 claim parts (Fig. 3b, 5, 6) judged on a cifar-filters (or cifar-filters-seeds: Fig. 3b
    reads either) and/or a cifar-beta (or cifar-beta-overfit: Fig. 5's error reads either) result: a pandas DataFrame with the figure, the claim, what was
    measured, the baseline, the seeds and the verdict, one row per part."""
    import pandas as pd

    results = {"cifar-filters": filters, "cifar-filters-seeds": filters, "cifar-beta": beta, "cifar-beta-overfit": beta}
    records = []
    for claim in CLAIMS:
        if results.get(claim.experiment) is not None:
            found = judge(claim, results[claim.experiment])
            records.append({"figure": claim.label, "the paper's claim": claim.claim, "measured": found.measured,
                            "baseline": found.baseline, "compared models": found.guard or "—",
                            "seeds": found.seeds_text, "verdict": found.verdict})
    return pd.DataFrame(records, columns=["figure", "the paper's claim", "measured", "baseline", "compared models",
                                          "seeds", "verdict"])


def trained_regimes():
    """A pandas DataFrame: per experiment with claims, the baseline its verdicts read, the trained
    regime it declares (``declare_baseline``) and why, and the rule every compared model meets
    (:data:`.regimes.RULES`)."""
    import pandas as pd

    from ibcore.experiments.registry import get

    records = []
    for name in dict.fromkeys(c.experiment for c in CLAIMS if c.experiment):
        guard = get(name).baseline
        limits = guard.limit if isinstance(guard.limit, Mapping) else {None: guard.limit}
        rule = RULES.get(name)
        records.append({"experiment": name, "baseline": guard.model,
                        "trained when": "; ".join(f"{d + ': ' if d else ''}{guard.limit_text(d).removeprefix('needs ')}"
                                                  for d in limits),
                        "why": guard.why,
                        "every compared model": rule.why if rule else "no rule stated"})
    return pd.DataFrame(records)
