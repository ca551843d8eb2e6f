"""Results vs the papers: every figure and table of both papers beside what this book measured.

Each :class:`PaperItem` names a figure or table, the paper's claim (in its words, and its
numbers where the text gives them: the figures' values are not in the paper's text, so none
are read off them here), the experiment and chapter that reproduce it, and how to read this
book's value and a verdict from a committed result. :func:`paper_comparison` builds the table
from ``results/`` (the committed ``cpu`` and ``full`` runs).

Verdicts: **reproduced** (the claim holds in the committed run), **partly** (it holds for
part of the figure, or on a different network or data than the paper's), **not yet** (the
run exists and does not show it at its budget), **not attempted** (no committed run).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

Measure = Callable[[Mapping], tuple[str, str]]


@dataclass(frozen=True)
class PaperItem:
    """One figure or table of a paper and how a committed result of ``experiment`` speaks to it."""

    paper: str
    item: str
    claim: str
    chapter: str
    experiment: str | None = None
    measure: Measure | None = None
    exact: bool = False  # shown by exact computations in its chapter (and tests), not by a training run


def _errors(result: Mapping, key: str = "dropout") -> dict:
    """Mean test error (%) per value of ``key`` (over seeds), for rows of one width."""
    groups: dict = {}
    for row in result["rows"]:
        groups.setdefault(row[key], []).append(100 * row["test_error"])
    return {k: sum(v) / len(v) for k, v in groups.items()}


def _mnist_mlp(result: Mapping) -> tuple[str, str]:
    error = _errors(result)
    text = ", ".join(f"{k} {v:.2f} %" for k, v in error.items())
    best = error["information"] <= min(error["binary"], error["none"])
    return text, "reproduced" if best else "not yet"


def _width_sweep(result: Mapping) -> tuple[str, str]:
    widths = sorted({row["width"] for row in result["rows"]})
    small = [_errors({"rows": [r for r in result["rows"] if r["width"] == w]}) for w in widths[:2]]
    text = "; ".join(f"width {w}: information {e['information']:.1f} % vs binary {e['binary']:.1f} %"
                     for w, e in zip(widths, small))
    wins = sum(e["information"] <= e["binary"] for e in small)
    return text, {2: "reproduced", 1: "partly"}.get(wins, "not yet")


def _priors(result: Mapping) -> tuple[str, str]:
    rows = {row["activation"]: row for row in result["rows"]}
    relu, soft = rows["relu"], rows["softplus"]
    text = (f"ReLU: {100 * relu['zero_fraction']:.0f} % exact zeros; Softplus: log z normal with KS "
            f"{soft['fit']['ks']:.3f}, Q-Q R² {soft['fit']['qq_r2']:.3f}")
    fits = soft["fit"]["ks"] < 0.05 and relu["zero_fraction"] > 0.1
    cifar = "CIFAR" in result["data"]["dataset"]
    return text, ("reproduced" if cifar else "partly") if fits else "not yet"


def _vae_elbo(result: Mapping) -> tuple[str, str]:
    elbo = {row["latent"]: row["test_elbo"] for row in result["rows"] if row.get("k", 1) == 1}
    gap = elbo["gaussian"] - elbo["information"]
    text = f"k = 1: Gaussian {elbo['gaussian']:.1f}, Information {elbo['information']:.1f} nats (gap {gap:.1f})"
    return text, "reproduced" if abs(gap) <= 2.0 else "partly"


def _vae_beta(result: Mapping) -> tuple[str, str]:
    rows = sorted(result["rows"], key=lambda r: r["beta"])
    text = ", ".join(f"β {r['beta']:g}: KL {r['test_kl']:.0f}" for r in rows) + " nats"
    falling = all(b["test_kl"] < a["test_kl"] for a, b in zip(rows, rows[1:]))
    return text, "reproduced" if falling else "not yet"


def _cluttered(result: Mapping) -> tuple[str, str]:
    rows = sorted(result["rows"], key=lambda r: r["beta"])
    layer = 1  # layer 2 (24×24)
    ratios = [row["localisation"][layer]["mass_ratio"] for row in rows]
    ink = rows[0]["ink_localisation"][layer]["mass_ratio"]
    errors = [100 * row["test_error"] for row in rows]
    betas = ", ".join(f"{row['beta']:g}" for row in rows)
    text = (f"layer-2 KL mass ratio on the digit {', '.join(f'{r:.1f}' for r in ratios)} at β {betas} "
            f"(ink {ink:.1f}); test error {min(errors):.1f}-{max(errors):.1f} %")
    beats = ratios[-1] > ink and ratios[-1] > ratios[0]
    return text, ("partly" if beats else "not yet")


def _cifar(claim: str) -> Measure:
    def measure(result: Mapping) -> tuple[str, str]:
        from ibcore.experiments.cifar import cifar_claims

        is_filters = result["name"] == "cifar-filters"
        table = cifar_claims(result if is_filters else None, None if is_filters else result)
        rows = table[table["figure"] == claim]
        if rows.empty:
            return "—", "not attempted"
        row = rows.iloc[0]
        return row["measured"], "reproduced" if row["holds here"] else "not yet"
    return measure


def _occluded(result: Mapping) -> tuple[str, str]:
    rows = sorted(result["rows"], key=lambda r: r["beta"])
    text = "; ".join(f"β {r['beta']:g}: main D {100 * r['test_error']:.1f} %, nuisance "
                     f"{100 * r['nuisance_error']:.1f} %" for r in rows)
    rising = all(b["nuisance_error"] > a["nuisance_error"] for a, b in zip(rows, rows[1:]))
    main_improves = rows[-1]["test_error"] < rows[0]["test_error"]
    return text, ("reproduced" if main_improves else "partly") if rising else "not yet"


def _pixelcnn(result: Mapping) -> tuple[str, str]:
    from ibcore.experiments.pixelcnn import tradeoff_comparison

    found = tradeoff_comparison(result)
    text = f"no bottleneck: VAE KL {found['none_kl_nats']:.1f} nats"
    if found["gap_bpd"] is None:
        text += (f"; the sweeps cover no common VAE KL; VB beats GD on both axes at p = "
                 f"{', '.join(f'{p:g}' for p in found['gd_dominated']) or 'none'}, GD beats VB at β = "
                 f"{', '.join(f'{b:g}' for b in found['vb_dominated']) or 'none'}")
        return text, "partly" if found["vb_dominated"] and not found["gd_dominated"] else "not yet"
    low, high = found["kl_range_bpd"]
    text += (f"; at equal VAE KL ({low:.3f}–{high:.3f} bits/dim) VB's −ELBO − GD's is {found['gap_bpd']:+.4f} "
             f"bits/dim on average, GD lower on {100 * found['gd_better_share']:.0f} % of the range")
    if found["gd_better_share"] == 1.0:
        return text, "reproduced"
    return text, "partly" if found["gap_bpd"] > 0 else "not yet"


ACHILLE = "Achille & Soatto 2016"
REY = "Rey & Mnih"
ITEMS: tuple[PaperItem, ...] = (
    PaperItem(ACHILLE, "Fig. 1", "post-noise activations follow the proposed priors: log-uniform with an atom "
              "at 0 (ReLU), log-normal (Softplus); All-CNN-32 on CIFAR-10",
              "15-cifar", "cifar-activation-priors", _priors),
    PaperItem(ACHILLE, "Fig. 1 (MNIST)", "the same check on the MNIST network of §8 (the paper uses CIFAR-10)",
              "12-activation-priors", "activation-priors", _priors),
    PaperItem(ACHILLE, "Fig. 2", "the KL of each dropout layer localises the digit on Cluttered MNIST once β "
              "is large enough", "14-cluttered-mnist", "cluttered-mnist", _cluttered),
    PaperItem(ACHILLE, "Fig. 3a", "Information Dropout errs no more than binary dropout, especially on "
              "small networks (MNIST MLP, 3 hidden layers)", "11-dropout-vs-width", "mnist-width-sweep", _width_sweep),
    PaperItem(ACHILLE, "Fig. 3a (one width)", "the four dropout kinds at one width", "10-information-dropout-in-practice",
              "mnist-mlp", _mnist_mlp),
    PaperItem(ACHILLE, "Fig. 3b", "on All-CNN-32 (CIFAR-10, Softplus), Information Dropout is comparable or "
              "better than binary dropout, especially with few filters", "15-cifar", "cifar-filters", _cifar("Fig. 3b")),
    PaperItem(ACHILLE, "Fig. 4", "as β grows, the error of a classifier of the occluding digit on the noisy "
              "representation rises, while the main error improves", "16-occluded-cifar", "occluded-cifar",
              _occluded),
    PaperItem(ACHILLE, "Fig. 5", "as β grows the total correlation of the last dropout layer falls; the error "
              "first improves, then rises", "15-cifar", "cifar-beta", _cifar("Fig. 5")),
    PaperItem(ACHILLE, "Fig. 6a", "the second dropout layer transmits less information in total than the first",
              "15-cifar", "cifar-filters", _cifar("Fig. 6a")),
    PaperItem(ACHILLE, "Fig. 6b", "with fewer filters, each unit transmits more information", "15-cifar",
              "cifar-filters", _cifar("Fig. 6b")),
    PaperItem(ACHILLE, "Table I", "test ELBO of a VAE, k = 1: Gaussian −98.8, Information −100.0 nats "
              "(\"similar performance\")", "13-vae-information-dropout", "vae-elbo", _vae_elbo),
    PaperItem(ACHILLE, "eq. 7 (§7)", "β trades the KL (the information in z) against reconstruction",
              "13-vae-information-dropout", "vae-beta", _vae_beta),
    PaperItem(ACHILLE, "Prop. 1-4", "the KL terms and the disentanglement identity, exactly",
              "02-kl-terms", exact=True),
    PaperItem(REY, "Theorem 1", "Gaussian dropout bounds I(X; Y) by a function of σ(p) alone",
              "20-gaussian-dropout-bottleneck", exact=True),
    PaperItem(REY, "Fig. 2-3", "in a VAE-PixelCNN, Gaussian dropout on the PixelCNN path gives a better ELBO "
              "vs VAE-KL trade-off than a variational bottleneck", "21-pixelcnn-bottleneck", "pixelcnn-bottleneck",
              _pixelcnn),
)


def paper_comparison(profiles: tuple[str, ...] = ("cpu", "full")):
    """A pandas DataFrame: per paper item, the claim, this book's value and verdict per committed
    profile (``cpu``, ``full``), and the chapter that reproduces it."""
    import pandas as pd

    from ibcore.experiments.registry import committed

    records = []
    for item in ITEMS:
        record = {"paper": item.paper, "figure / table": item.item, "the paper's claim": item.claim}
        for profile in profiles:
            result = committed(item.experiment, (profile,)) if item.experiment else None
            if item.exact:
                measured, verdict = "exact computation (no training)", "reproduced"
            elif result is not None and item.measure is not None:
                measured, verdict = item.measure(result)
            else:
                measured, verdict = "—", "not attempted"
            record[f"{profile}: measured"] = measured
            record[f"{profile}: verdict"] = verdict
        record["chapter"] = item.chapter
        records.append(record)
    return pd.DataFrame(records)
