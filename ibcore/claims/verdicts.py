"""The one verdict vocabulary of the book, and the rules that give a claim part its verdict.

Every claims table (the results-vs-papers page, each chapter's own) reads its verdicts from here:

* **reproduced**: the claimed difference exceeds its uncertainty over seeds (a Welch t interval at
  95 %, :data:`LEVEL`), on a baseline in a trained regime; for an exact result, the derivation and
  its numerical check agree with the paper's statement;
* **partly**: the difference goes the claimed way on one seed (no interval is possible), or some
  of a claim part's conditions are reproduced and the others are not shown;
* **points against (one seed)**: the difference goes against the claim on one seed: the mirror of
  *partly*, so that one seed can count against a claim as it counts for one;
* **not shown at this budget**: the interval over seeds contains no difference in either
  direction;
* **contradicted**: the opposite difference exceeds its interval;
* **no verdict (undertrained)**: the experiment's baseline
  (:class:`~ibcore.experiments.regime.Baseline`) is outside its trained regime, so no comparison on it is read;
* **not attempted**: no committed result holds the setting.

A claim of a difference between two settings ``a`` and ``b`` is tested with :func:`differ`; a
trend over a swept value (β, the width) with :func:`trend`; a paired difference (two layers of one
network) with :func:`paired`; "similar performance" (Table I) with :func:`similar`. A claim part
with several conditions takes the weakest of their verdicts (:func:`weakest`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean, stdev
from typing import Iterable, Mapping, Sequence

REPRODUCED = "reproduced"
PARTLY = "partly"
POINTS_AGAINST = "points against (one seed)"
NOT_SHOWN = "not shown at this budget"
CONTRADICTED = "contradicted"
UNDERTRAINED = "no verdict (undertrained)"
NOT_ATTEMPTED = "not attempted"
#: The vocabulary, strongest support first.
VERDICTS = (REPRODUCED, PARTLY, POINTS_AGAINST, NOT_SHOWN, CONTRADICTED, UNDERTRAINED, NOT_ATTEMPTED)
#: What each verdict means, for the legend of every claims table.
MEANINGS = {
    REPRODUCED: "the claimed difference exceeds its 95 % Welch interval over seeds (exact results: "
                "derivation and numerical check agree)",
    PARTLY: "the claimed direction on one seed only, or some of the part's conditions shown and the others not",
    POINTS_AGAINST: "against the claimed direction on one seed only (the mirror of partly)",
    NOT_SHOWN: "the interval over seeds includes no difference in either direction",
    CONTRADICTED: "the opposite difference exceeds its interval",
    UNDERTRAINED: "the baseline is outside its trained regime: nothing is read from the comparison",
    NOT_ATTEMPTED: "no committed result holds this setting",
}
#: The confidence level of every interval over seeds.
LEVEL = 0.95


@dataclass(frozen=True)
class Sample:
    """One setting's values over seeds (e.g. the test error of three trainings)."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable[float]) -> "Sample":
        values = tuple(float(v) for v in values)
        if not values:
            raise ValueError("a sample needs at least one value")
        return cls(values)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return fmean(self.values)

    @property
    def sd(self) -> float | None:
        """The standard deviation over seeds (n − 1 in the denominator); None for one seed."""
        return stdev(self.values) if self.n > 1 else None

    def text(self, digits: int = 1, unit: str = "", scale: float = 1.0) -> str:
        """``"2.00 ± 0.04 %"`` (mean ± sd over seeds), or the value alone for one seed."""
        mean = f"{self.mean * scale:.{digits}f}".replace("-", "−")
        spread = f" ± {self.sd * scale:.{digits}f}" if self.sd is not None else ""
        return f"{mean}{spread}{unit}"


@dataclass(frozen=True)
class Interval:
    """An estimated difference and its interval over seeds (``low``, ``high``: None on one seed)."""

    estimate: float
    low: float | None = None
    high: float | None = None

    def text(self, digits: int = 1, scale: float = 1.0) -> str:
        """``"+1.9 [+0.6, +3.3]"`` (signed, true minus), or the estimate alone on one seed."""
        def signed(x: float) -> str:
            return f"{x * scale:+.{digits}f}".replace("-", "−")
        if self.low is None:
            return signed(self.estimate)
        return f"{signed(self.estimate)} [{signed(self.low)}, {signed(self.high)}]"


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile (p > ½) of Student's t with ``df`` > 0 degrees of freedom (a real df, as
    Welch's gives): the t density integrated by Simpson's rule and inverted by bisection."""
    if not (0.5 < p < 1 and df > 0):
        raise ValueError(f"need 0.5 < p < 1 and df > 0, got p={p!r}, df={df!r}")
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def cdf(x: float, n: int = 2000) -> float:
        h = x / n
        f = [math.exp(log_c - (df + 1) / 2 * math.log1p((k * h) ** 2 / df)) for k in range(n + 1)]
        return 0.5 + h / 3 * (f[0] + f[-1] + 4 * sum(f[1:-1:2]) + 2 * sum(f[2:-1:2]))

    low, high = 0.0, 1.0
    while cdf(high) < p:
        low, high = high, 2 * high
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < p else (low, mid)
    return (low + high) / 2


def welch(a: Sample, b: Sample, level: float = LEVEL) -> Interval:
    """Welch's t interval for mean(a) − mean(b) (unequal variances, Welch–Satterthwaite df); on
    one seed in either sample only the estimate."""
    estimate = a.mean - b.mean
    if a.n < 2 or b.n < 2:
        return Interval(estimate)
    va, vb = a.sd ** 2 / a.n, b.sd ** 2 / b.n
    if va + vb == 0:
        return Interval(estimate, estimate, estimate)
    df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1))
    half = t_quantile((1 + level) / 2, df) * math.sqrt(va + vb)
    return Interval(estimate, estimate - half, estimate + half)


def mean_interval(d: Sample, level: float = LEVEL) -> Interval:
    """The one-sample t interval for the mean of ``d`` (paired differences over seeds)."""
    if d.n < 2:
        return Interval(d.mean)
    half = t_quantile((1 + level) / 2, d.n - 1) * d.sd / math.sqrt(d.n)
    return Interval(d.mean, d.mean - half, d.mean + half)


def direction(interval: Interval, claim: str) -> str:
    """The verdict on a claimed sign of a difference: ``claim`` is "<" (claimed negative) or ">"."""
    if claim not in ("<", ">"):
        raise ValueError(f"claim must be '<' or '>', got {claim!r}")
    sign = 1.0 if claim == ">" else -1.0
    if interval.low is None:  # one seed: no interval
        if interval.estimate == 0:
            return NOT_SHOWN
        return PARTLY if sign * interval.estimate > 0 else POINTS_AGAINST
    low, high = sorted((sign * interval.low, sign * interval.high))
    if low > 0:
        return REPRODUCED
    return CONTRADICTED if high < 0 else NOT_SHOWN


def differ(a: Sample, b: Sample, claim: str) -> str:
    """The verdict on "a < b" (``claim`` "<") or "a > b" (">") from Welch's interval over seeds."""
    return direction(welch(a, b), claim)


def paired(differences: Sample, claim: str) -> str:
    """The verdict on the sign of a paired difference (one value per seed, e.g. layer 2 − layer 1)."""
    return direction(mean_interval(differences), claim)


def similar(a: Sample, b: Sample, margin: float) -> str:
    """The verdict on "a and b are similar": reproduced when Welch's interval of a − b lies inside
    ±``margin``, contradicted when it lies wholly outside; on one seed partly (inside the margin)
    or points against (outside it)."""
    interval = welch(a, b)
    if interval.low is None:
        return PARTLY if abs(interval.estimate) <= margin else POINTS_AGAINST
    if -margin <= interval.low and interval.high <= margin:
        return REPRODUCED
    return CONTRADICTED if interval.low > margin or interval.high < -margin else NOT_SHOWN


def against_first(samples: Sequence[Sample], claim: str) -> list[tuple[Interval, str]]:
    """Every swept value after the first against the first (e.g. every β > 0 against β = 0): its
    Welch interval and its verdict on the claimed direction, in the order of ``samples``."""
    return [(welch(s, samples[0]), differ(s, samples[0], claim)) for s in samples[1:]]


def trend(samples: Sequence[Sample], claim: str) -> str:
    """The verdict on "the value falls" (``claim`` "<") or "rises" (">") along a sweep, ``samples``
    in the order of the swept value: *every* later value against the first (:func:`against_first`),
    combined by :func:`weakest` (so several values significantly the other way and none the claimed
    way is contradicted), and reproduced only when the means also move the claimed way at every step
    (else partly)."""
    if len(samples) < 2:
        raise ValueError("a trend needs at least two settings")
    verdict = weakest(*(v for _, v in against_first(samples, claim)))
    means = [s.mean for s in samples]
    steps = [b - a for a, b in zip(means, means[1:])]
    monotone = all(s < 0 for s in steps) if claim == "<" else all(s > 0 for s in steps)
    return PARTLY if verdict == REPRODUCED and not monotone else verdict


#: From the weakest support to the strongest, for claim parts with several conditions.
_STRENGTH = (CONTRADICTED, POINTS_AGAINST, NOT_SHOWN, PARTLY, REPRODUCED)


def weakest(*verdicts: str) -> str:
    """The verdict of a claim part whose conditions must all hold: contradicted if any condition is,
    else points against (one seed) if any condition is, reproduced if all are, partly if some are
    reproduced (or all partly), else not shown."""
    for verdict in verdicts:
        if verdict not in _STRENGTH:
            raise ValueError(f"not a verdict on a comparison: {verdict!r}")
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if POINTS_AGAINST in verdicts:
        return POINTS_AGAINST
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    if REPRODUCED in verdicts or all(v == PARTLY for v in verdicts):
        return PARTLY
    return NOT_SHOWN


def verdict_text(verdict: str, baseline: str | None = None) -> str:
    """The verdict as a table shows it: "no verdict (undertrained: baseline 61.7 %)" names its baseline."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}; the vocabulary: {', '.join(VERDICTS)}")
    if verdict == UNDERTRAINED and baseline:
        return f"no verdict (undertrained: baseline {baseline})"
    return verdict


def seeds_of(rows: Iterable[Mapping]) -> list[int]:
    """The seeds of a setting's rows: each row's ``seed`` (old results: the config's one seed, 0)."""
    return [int(row.get("seed", 0)) for row in rows]
