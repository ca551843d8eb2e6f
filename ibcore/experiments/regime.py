"""The trained regime an experiment declares beside itself (issue 20): which model its verdicts read
as the baseline, and the limit that model's metric must meet.

The declaration belongs to the experiment (:func:`~ibcore.experiments.registry.declare_baseline`);
the claims (:mod:`ibcore.claims.papers`) read it before any comparison on a result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from statistics import fmean
from typing import Mapping, Sequence


@dataclass(frozen=True)
class Baseline:
    """The trained regime an experiment's verdicts need (issue 20): the baseline model's ``metric``
    must be at most ``limit`` (at least, when ``at_least``: an ELBO).

    The baseline rows are those matching ``where``, restricted to the largest value of ``largest``
    (in a capacity sweep the guard reads the largest network: a tiny one errs by design) or the
    smallest of ``smallest``; they are grouped by their other settings, averaged over seeds, and
    the worst group is the baseline (groups: the values of ``by``, e.g. the activation). ``limit`` may map a dataset name (the result's
    ``data.dataset``) to a limit, for an experiment whose profiles use different data. ``unit``
    "%" shows a fraction as a percentage; ``model`` names the baseline, ``why`` justifies the limit.
    """

    limit: float | Mapping[str, float]
    model: str
    why: str = ""
    where: Mapping[str, object] = field(default_factory=dict)
    largest: str | None = None
    smallest: str | None = None
    metric: str = "test_error"
    unit: str = "%"
    at_least: bool = False
    by: tuple[str, ...] = ()

    def rows(self, rows: Sequence[Mapping]) -> list[Mapping]:
        chosen = [r for r in rows if all(r.get(k) == v for k, v in self.where.items()) and self.metric in r]
        for key, pick in ((self.largest, max), (self.smallest, min)):
            if key and chosen:
                end = pick(r[key] for r in chosen)
                chosen = [r for r in chosen if r[key] == end]
        return chosen

    def value(self, rows: Sequence[Mapping]) -> float | None:
        """The baseline's metric: the worst, over its settings, of the mean over seeds (None: no such rows)."""
        groups: dict = {}
        for row in self.rows(rows):
            groups.setdefault(tuple(row.get(k) for k in self.by), []).append(float(row[self.metric]))
        means = [fmean(v) for v in groups.values()]
        if not means:
            return None
        return min(means) if self.at_least else max(means)

    def limit_for(self, dataset: str | None) -> float | None:
        if isinstance(self.limit, Mapping):
            return self.limit.get(dataset)
        return float(self.limit)

    def trained(self, value: float, dataset: str | None = None) -> bool:
        limit = self.limit_for(dataset)
        if limit is None:
            return False
        return value >= limit if self.at_least else value <= limit

    def text(self, value: float) -> str:
        """The baseline as a cell shows it: "61.7 %", "−90.2 nats"."""
        if self.unit == "%":
            shown = 100 * value
            return f"{shown:.{2 if shown < 10 else 1}f} %"
        digits = 3 if abs(value) < 1 else 1
        return f"{value:.{digits}f} {self.unit}".replace("-", "−")

    def limit_text(self, dataset: str | None = None) -> str:
        """The limit as a cell shows it: "needs ≤ 45 %", "needs ≥ −110 nats"."""
        limit = self.limit_for(dataset)
        if limit is None:
            return f"no limit declared for {dataset}"
        shown = f"{100 * limit:g} %" if self.unit == "%" else f"{limit:.3g} {self.unit}".replace("-", "−")
        return f"needs {'≥' if self.at_least else '≤'} {shown}"

