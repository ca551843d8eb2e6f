"""How a committed result speaks to one part of a paper's claim: each measure reads a result's
rows (grouped by setting, the seeds being the rows' ``seed`` values) and returns a
:class:`Finding`: what was measured (mean ± sd over seeds) and a verdict from
:mod:`ibcore.claims.verdicts`. The trained-regime guard is applied afterwards
(:func:`ibcore.claims.papers.judge`), so a measure only compares.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ibcore.claims.verdicts import (NOT_SHOWN, PARTLY, REPRODUCED, Sample, against_first, differ, paired,
                                    trend, weakest)

Rows = Sequence[Mapping]


@dataclass(frozen=True)
class Finding:
    """A claim part measured on one result: the ``measured`` text, its ``verdict``, the number of
    seeds of each compared setting, the baseline as shown (set by the guard), the ``guard`` of the
    compared models (:mod:`.regimes`: the limit they meet, the worst kept, those left out; empty
    where the rule adds nothing to the baseline's), and whether it is an exact computation (no
    training, no profile)."""

    measured: str
    verdict: str
    seeds: tuple[int, ...] = ()
    baseline: str | None = None
    exact: bool = False
    note: str = ""
    guard: str = ""

    @property
    def seeds_text(self) -> str:
        if not self.seeds:
            return "—"
        low, high = min(self.seeds), max(self.seeds)
        return f"{low}" if low == high else f"{low}–{high}"


def value(row: Mapping, metric: str | Callable[[Mapping], float]) -> float:
    return metric(row) if callable(metric) else float(row[metric])


def sample(rows: Rows, metric: str | Callable[[Mapping], float], **where) -> Sample | None:
    """The values of ``metric`` over the seeds of the setting ``where`` (None: no such rows)."""
    chosen = [r for r in rows if all(r.get(k) == v for k, v in where.items())]
    return Sample.of(value(r, metric) for r in chosen) if chosen else None


def by(rows: Rows, key: str, metric: str | Callable[[Mapping], float], **where) -> dict:
    """One :class:`Sample` per value of ``key`` (sorted), over the rows matching ``where``."""
    levels = sorted({r[key] for r in rows if all(r.get(k) == v for k, v in where.items())})
    return {level: sample(rows, metric, **{**where, key: level}) for level in levels}


def pct(s: Sample, unit: str = " %") -> str:
    """An error sample as a percentage: 2 decimals below 10 %, else 1."""
    return s.text(2 if s.mean < 0.1 else 1, unit, 100)


#: How the measured cells name the dropout kinds.
KINDS = {"information": "information", "binary": "binary", "lognormal": "log-normal", "none": "none"}


def _layer(k: int, what: str) -> Callable[[Mapping], float]:
    return lambda row: row["information"][k][what]


# --- Fig. 3a, 3b: one dropout kind against another ---------------------------------------------------------

def against(other: str, key: str = "width", every: bool = False) -> Callable[[Mapping], Finding]:
    """"Information Dropout errs less than ``other``". With ``every`` (a general claim, Fig. 3a) it
    is judged at every ``key`` the result holds, combined by :func:`weakest` (reproduced only where
    every size is, partly where some are); otherwise at the smallest ``key`` (the claim's "especially
    on small networks"), a contradiction at any other size making a reproduced part partly."""
    def measure(result: Mapping) -> Finding:
        rows = result["rows"]
        sizes = sorted({r[key] for r in rows if r["dropout"] in ("information", other)})
        pairs = [(s, sample(rows, "test_error", **{key: s, "dropout": "information"}),
                  sample(rows, "test_error", **{key: s, "dropout": other})) for s in sizes]
        pairs = [p for p in pairs if p[1] is not None and p[2] is not None]
        if not pairs:
            raise LookupError(f"no {other} run beside Information Dropout")
        verdicts = [differ(a, b, "<") for _, a, b in pairs]
        verdict = verdicts[0]
        if verdict == REPRODUCED and "contradicted" in verdicts[1:]:
            verdict = PARTLY
        shown = pairs[:1] + pairs[-1:] if len(pairs) > 1 else pairs
        unit = "%" if key == "filter_fraction" else ""
        text = f"information vs {KINDS[other]}: " + "; ".join(
            f"{_size(s, key)}{unit}: {pct(a, '')} vs {pct(b)}" for s, a, b in shown)
        if not every:
            return Finding(text, verdict, tuple(n for _, a, b in pairs[:1] for n in (a.n, b.n)))
        beyond = [_size(s, key).split(" ")[-1] for (s, _, _), v in zip(pairs, verdicts) if v == REPRODUCED]
        text += (f"; less beyond the seeds' spread at {key} {', '.join(beyond) or 'none'} of "
                 f"{', '.join(_size(s, key).split(' ')[-1] for s, _, _ in pairs)}")
        note = "; ".join(f"{_size(s, key)}: {v}" for (s, _, _), v in zip(pairs, verdicts))
        return Finding(text, weakest(*verdicts), tuple(sorted({n for _, a, b in pairs for n in (a.n, b.n)})),
                       note=note)
    return measure


def _size(size: float, key: str) -> str:
    return f"{100 * size:g} " if key == "filter_fraction" else f"width {size:g}"


# --- Fig. 4, 5: trends over β ------------------------------------------------------------------------

def ends(samples: dict, digits: int, unit: str = "", scale: float = 1.0) -> str:
    """"β 0 → 10: 63.9 ± 1.2 → 83.8 ± 0.5 %": the first and the last setting of a sweep over β."""
    (b0, s0), (b1, s1) = list(samples.items())[0], list(samples.items())[-1]
    return f"β {b0:g} → {b1:g}: {s0.text(digits, '', scale)} → {s1.text(digits, '', scale)}{unit}"


def each_against_first(samples: dict, claim: str, digits: int = 1, unit: str = "", scale: float = 1.0) -> str:
    """"β 0.3 +1.9 [+0.6, +3.3]; β 1 …": every swept value's difference from the first, with its
    95 % Welch interval (:func:`~ibcore.claims.verdicts.against_first`)."""
    levels, s = list(samples), list(samples.values())
    return "; ".join(f"β {b:g} {iv.text(digits, scale)}" for b, (iv, _) in
                     zip(levels[1:], against_first(s, claim))) + unit


def rises_with_beta(metric: str, claim: str = ">") -> Callable[[Mapping], Finding]:
    """An error that rises (``claim`` ">") or falls ("<") as β grows: every β > 0 against β = 0
    (:func:`~ibcore.claims.verdicts.trend`), each difference shown with its interval."""
    def measure(result: Mapping) -> Finding:
        samples = by(result["rows"], "beta", metric)
        s, first = list(samples.values()), list(samples)[0]
        text = (f"{ends(samples, 1, ' %', 100)}; each β against β {first:g}: "
                f"{each_against_first(samples, claim, 1, ' points', 100)}")
        if metric == "test_error":
            text += overfitting_at(result, first)
        return Finding(text, trend(s, claim), tuple(x.n for x in s))
    return measure


def overfitting_at(result: Mapping, beta: float) -> str:
    """"; β 0 clean train error 14.1 ± 0.1 % (…)": whether there is overfitting for β to prevent (Fig. 4, 5),
    where the result records the clean training error (noise off, as the test error); "" where not."""
    clean = by([r for r in result["rows"] if r.get("clean_train_error") is not None], "beta", "clean_train_error")
    if beta not in clean:
        return ""
    return f"; β {beta:g} clean train error {pct(clean[beta])} (the test error's gap is the overfitting)"


def tc_bias(result: Mapping, metric: str = "total_correlation") -> float | None:
    """The plug-in Gaussian TC's bias (:func:`ibcore.metrics.gaussian_tc.gaussian_tc_bias`) for the
    rows of ``result``: N the test images it was read on (``data.n_test``), D the units (the row's
    total over its per-dimension value); None where a result does not hold them."""
    from ibcore.metrics.gaussian_tc import gaussian_tc_bias

    n = (result.get("data") or {}).get("n_test")
    dims = {round(r[metric] / r[f"{metric}_per_dimension"]) for r in result["rows"]
            if r.get(f"{metric}_per_dimension")}
    if not n or len(dims) != 1 or n <= next(iter(dims)):
        return None
    return gaussian_tc_bias(int(n), int(dims.pop()))


def tc_falls(result: Mapping) -> Finding:
    """Fig. 5: the total correlation of the last dropout layer's *noisy* representation z = ε ⊙ f(x)
    falls as β grows: the quantity Prop. 1 penalises (every β against the smallest,
    :func:`~ibcore.claims.verdicts.trend`). The plug-in value is shown with its debiased one (less
    the plug-in's exact bias for N images and D units, :func:`tc_bias`); the bias is one constant
    for every β, so it moves no difference. The noise-off control (do the features themselves
    disentangle?) is no claim of the paper: it is its own finding, :func:`tc_noise_off`, and only
    named in the note here."""
    rows = result["rows"]
    noisy = by(rows, "beta", "total_correlation")
    text = "noisy z, plug-in " + ends(noisy, 0, " nats")
    bias = tc_bias(result)
    if bias is not None:
        debiased = {b: Sample.of(v - bias for v in s.values) for b, s in noisy.items()}
        text += f"; debiased (less {bias:.1f}): " + ends(debiased, 0, " nats").split(": ", 1)[1]
    s = list(noisy.values())
    control = tc_noise_off(result)
    note = (f"control, not a claim of the paper: the noise-off f(x) {control.measured}; its fall with β: "
            f"{control.verdict}") if control else ""
    return Finding(text, trend(s, "<"), tuple(x.n for x in s), note=note)


def tc_noise_off(result: Mapping) -> Finding | None:
    """The noise-off control of Fig. 5 (a question the paper does not ask: do the features f(x)
    themselves disentangle as β grows?): the TC of log f(x) with the noise off, every β against
    the smallest; None where the result predates it. Not a claim of the paper: never scored."""
    rows = result["rows"]
    if not rows or not all("total_correlation_noise_off" in r for r in rows):
        return None
    off = by(rows, "beta", "total_correlation_noise_off")
    text = "plug-in " + ends(off, 0, " nats")
    bias = tc_bias(result, "total_correlation_noise_off")
    if bias is not None:
        text += f" (debiased: less {bias:.1f})"
    s = list(off.values())
    return Finding(text, trend(s, "<"), tuple(x.n for x in s))


def error_u_shape(result: Mapping) -> Finding:
    """Fig. 5: the error first falls (the best interior β against the smallest), then rises (the
    largest β against that best one)."""
    samples = by(result["rows"], "beta", "test_error")
    betas = list(samples)
    if len(betas) < 3:
        return Finding("fewer than three β", NOT_SHOWN)
    best = min(betas[1:-1], key=lambda b: samples[b].mean)
    first, low, last = samples[betas[0]], samples[best], samples[betas[-1]]
    verdict = weakest(differ(low, first, "<"), differ(last, low, ">"))
    text = f"β {betas[0]:g}: {pct(first, '')}, best β {best:g}: {pct(low, '')}, β {betas[-1]:g}: {pct(last)}"
    return Finding(text + overfitting_at(result, betas[0]), verdict, (first.n, low.n, last.n))


# --- Fig. 6: information per layer and per unit ---------------------------------------------------------------

def _information_rows(result: Mapping) -> list[Mapping]:
    return [r for r in result["rows"] if r.get("information")]


def layer_two_less(result: Mapping) -> Finding:
    """Fig. 6a: the second dropout layer transmits less in total than the first, at every filter
    fraction (a paired difference: both layers of one network)."""
    rows = _information_rows(result)
    totals = {f: (by(rows, "filter_fraction", _layer(0, "total"))[f], by(rows, "filter_fraction",
                  _layer(1, "total"))[f]) for f in sorted({r["filter_fraction"] for r in rows})}
    diffs = by(rows, "filter_fraction", lambda r: r["information"][1]["total"] - r["information"][0]["total"])
    verdict = weakest(*(paired(d, "<") for d in diffs.values()))
    text = "; ".join(f"{100 * f:g} %: {a.text(0)} vs {b.text(0)}" for f, (a, b) in totals.items())
    return Finding(f"layer 1 vs 2, nats: {text}", verdict, tuple(d.n for d in diffs.values()))


def per_unit_rises(result: Mapping) -> Finding:
    """Fig. 6b: with fewer filters each unit transmits more (the smallest against the largest
    filter fraction, in each layer)."""
    rows = _information_rows(result)
    layers = [by(rows, "filter_fraction", _layer(k, "per_unit")) for k in range(2)]
    few, many = min(layers[0]), max(layers[0])
    verdict = weakest(*(differ(g[few], g[many], ">") for g in layers))
    text = "; ".join(f"layer {k + 1}: {g[few].text(3)} vs {g[many].text(3)}" for k, g in enumerate(layers))
    return Finding(f"{100 * few:g} % vs {100 * many:g} %: {text} nats/unit", verdict, (layers[0][few].n,
                                                                                    layers[0][many].n))


def top_layer_per_unit(result: Mapping) -> Finding:
    """Fig. 6b: a unit of the top dropout layer carries more than one of the bottom layer (paired)."""
    rows = _information_rows(result)
    diffs = by(rows, "filter_fraction", lambda r: r["information"][1]["per_unit"] - r["information"][0]["per_unit"])
    verdict = weakest(*(paired(d, ">") for d in diffs.values()))
    text = "; ".join(f"{100 * f:g} %: {d.text(3)}" for f, d in diffs.items())
    return Finding(f"layer 2 − layer 1 per unit, nats: {text}", verdict, tuple(d.n for d in diffs.values()))


# --- Fig. 1, Fig. 2: shapes and maps ----------------------------------------------------------------------------

#: A fit is good when the KS distance of log z from the fitted shape is below this (Fig. 1).
KS_GOOD = 0.05
#: A ReLU layer's atom at zero counts as essential when it holds more than this share of the values.
ATOM_SHARE = 0.1


def uniform_ks(histogram: Mapping) -> float:
    """The KS distance of a histogram of log z from the uniform density on its range: 0 when the
    positive values are log-uniform there (the histogram spans the central 99.9 % of them)."""
    counts = histogram["counts"]
    total, running, worst = sum(counts), 0, 0.0
    for k, c in enumerate(counts, 1):
        running += c
        worst = max(worst, abs(running / total - k / len(counts)))
    return worst


def relu_prior(result: Mapping) -> Finding:
    """Fig. 1a: ReLU activations have an atom at zero and a positive part flat in log z."""
    row = next(r for r in result["rows"] if r["activation"] == "relu")
    ks = uniform_ks(row["histogram"])
    atom = REPRODUCED if row["zero_fraction"] > ATOM_SHARE else NOT_SHOWN
    flat = REPRODUCED if ks < KS_GOOD else NOT_SHOWN
    return Finding(f"zeros {100 * row['zero_fraction']:.0f} %; log z vs uniform: KS {ks:.2f}",
                   weakest(atom, flat), (1,))


def softplus_prior(result: Mapping) -> Finding:
    """Fig. 1b: Softplus activations are log-normal (log z normal). The paper's figure shows the
    post-noise z = ε · f(x), which this reads; the noise-off control (:func:`noise_off_prior`) is
    named in the note, never scored."""
    row = next(r for r in result["rows"] if r["activation"] == "softplus")
    fit = row["fit"]
    control = noise_off_prior(row)
    return Finding(f"log z vs normal: KS {fit['ks']:.3f}, Q–Q R² {fit['qq_r2']:.3f}",
                   REPRODUCED if fit["ks"] < KS_GOOD else NOT_SHOWN, (1,),
                   note=f"control, not a claim of the paper: {control}" if control else "")


def noise_off_prior(row: Mapping) -> str | None:
    """The noise-off control of Fig. 1 (issue 27 item 7): how well a log-normal fits the features
    f(x) alone, without the injected noise ε (whose log is normal by construction, so that the fit of
    z = ε · f(x) may be the noise's); None for a row that predates it."""
    off = row.get("fit_noise_off")
    if off is None:
        return None
    return (f"the noise-off f(x): KS {off['ks']:.3f}, Q–Q R² {off['qq_r2']:.3f} "
            f"({'also' if off['ks'] < KS_GOOD else 'not'} log-normal within KS {KS_GOOD})")


def kl_localises(result: Mapping, layer: int = 1) -> Finding:
    """Fig. 2: at the largest β the KL map of the second dropout layer (24×24) puts more of its mass
    on the digit than at the smallest β and than the ink density does."""
    rows = result["rows"]
    ratios = by(rows, "beta", lambda r: r["localisation"][layer]["mass_ratio"])
    over_ink = by(rows, "beta", lambda r: r["localisation"][layer]["mass_ratio"]
                  - r["ink_localisation"][layer]["mass_ratio"])
    first, last = list(ratios)[0], list(ratios)[-1]
    verdict = weakest(differ(ratios[last], ratios[first], ">"), paired(over_ink[last], ">"))
    ink = Sample.of(r["ink_localisation"][layer]["mass_ratio"] for r in rows if r["beta"] == last)
    text = (f"KL mass ratio on the digit (layer 2): β {first:g} {ratios[first].text(1)}, β {last:g} "
            f"{ratios[last].text(1)}; ink {ink.text(1)}")
    return Finding(text, verdict, (ratios[first].n, ratios[last].n))

