"""The claims tables of the book: the results-vs-papers scorecard and each chapter's own table, in
one style (short cells, the paper named once per group, verdicts as coloured badges with a
legend, the baseline and seeds per row, a column group per profile with a committed result, each
row linking to its chapter section).

Chapters call :func:`claims_table` with their experiments (or their own name), the results page
:func:`scorecard`. Both return a :class:`ClaimsTable`: its ``frame`` is the data
(:func:`ibcore.claims.papers.paper_comparison`), its HTML carries inline styles, so that it
also reads in Jupyter or Colab without the book's CSS (``book/css/book.css`` widens the scorecard).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

from ibcore.claims.papers import CLAIMS, UNSCORED, Claim, committed_profiles, paper_comparison
from ibcore.claims.verdicts import MEANINGS, UNDERTRAINED, VERDICTS, verdict_text

#: Badge colours per verdict (background, text): dark text on light fills, told apart by the words too.
BADGES = {
    "reproduced": ("#1a7f37", "#ffffff"), "partly": ("#f2cc60", "#3b2300"),
    "points against (one seed)": ("#fb8f44", "#3b1200"),
    "not shown at this budget": ("#d0d7de", "#24292f"), "contradicted": ("#cf222e", "#ffffff"),
    "no verdict (undertrained)": ("#ddd0f7", "#2e1065"), "not attempted": ("#ffffff", "#57606a"),
}
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_CELL = "padding: 0.2em 0.45em; vertical-align: top; text-align: left; border-top: 1px solid #d0d7de;"


@dataclass(frozen=True)
class ClaimsTable:
    """A rendered claims table: ``frame`` (one row per claim part) and its HTML (``html``)."""

    frame: object
    html: str

    def _repr_html_(self) -> str:
        return self.html


def badge(verdict: str, baseline: str | None = None, note: str = "") -> str:
    """A verdict as a coloured badge (its meaning, and any note, as the tooltip)."""
    background, colour = BADGES[verdict]
    title = MEANINGS[verdict] + (f"; {note}" if note else "")
    return (f'<span class="ib-verdict" title="{escape(title)}" style="display: inline-block; padding: 0 0.45em; '
            f'border: 1px solid #8c959f; border-radius: 0.7em; background: {background}; color: {colour}; '
            f'white-space: normal; line-height: 1.35;">{escape(verdict_text(verdict, baseline))}</span>')


def legend(meanings: bool = True) -> str:
    """Every verdict's badge, with its meaning (``meanings``) or alone (a chapter's table)."""
    if not meanings:
        return " ".join(badge(v) for v in VERDICTS)
    items = "".join(f"<li>{badge(v)} {escape(MEANINGS[v])}</li>" for v in VERDICTS)
    return f'<ul class="ib-legend" style="list-style: none; padding-left: 0; margin: 0.3em 0;">{items}</ul>'


def _title_text(line: str) -> str:
    text = re.sub(r"^#+\s*", "", line.strip())
    text = re.sub(r"\{[a-z]+\}`([^`]*)`", r"\1", text)  # roles such as {glue:text}`…`
    return text.replace("`", "").replace("$", "").replace("**", "")


def _make_id(text: str) -> str:
    """The HTML id Sphinx gives a section of this title (docutils' ``make_id``)."""
    try:
        from docutils.nodes import make_id
    except ImportError:  # outside a book build (Colab): the same rule for ASCII titles
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return make_id(text)


@lru_cache(maxsize=None)
def section_titles(chapter: str) -> tuple[tuple[str, str], ...]:
    """The (title, HTML id) of each heading of ``notebooks/CHAPTER.ipynb``; none outside a checkout."""
    path = NOTEBOOKS / f"{chapter}.ipynb"
    if not path.exists():
        return ()
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = [line for c in cells if c["cell_type"] == "markdown" for line in "".join(c["source"]).splitlines()]
    titles = [_title_text(line) for line in lines if re.match(r"#{1,6}\s", line)]
    return tuple((t, _make_id(t)) for t in titles)


def link(claim: Claim) -> str:
    """The chapter page of ``claim`` and, where a heading matches its ``section``, that section."""
    target, title = f"{claim.chapter}.html", f"chapter {claim.chapter.split('-')[0]}"
    titles = section_titles(claim.chapter)
    for fragment in claim.section:
        found = next(((t, i) for t, i in titles if fragment.lower() in t.lower()), None)
        if found:
            target, title = f"{target}#{found[1]}", f"{title}: {found[0]}"
            break
    number = claim.chapter.split("-")[0]
    return f'<a class="ib-chapter" href="{escape(target)}" title="{escape(title)}">ch.&nbsp;{number}</a>'


def _cells(record, profiles: tuple[str, ...], exact: bool, wide: bool = False) -> str:
    """A row's cells per profile: measured, baseline (value, limit, seeds, and the guard of every compared
    model: in the cell, or on the scorecard (``wide``), where rows must stay short, in the badge's tooltip)
    and the verdict's badge."""
    if exact:  # no training: one cell across every profile's columns
        found = f"{escape(record[f'{profiles[0]}: measured'])}"
        verdict = badge(record[f"{profiles[0]}: verdict"], note=record[f"{profiles[0]}: note"])
        return (f'<td colspan="{3 * len(profiles) - 1}" style="{_CELL}">{found} '
                f'<span style="color: #57606a;">(exact, no training)</span></td><td style="{_CELL}">{verdict}</td>')
    out = []
    for p in profiles:
        verdict, baseline = record[f"{p}: verdict"], record[f"{p}: baseline"]
        note, guard = record[f"{p}: note"], record.get(f"{p}: guard", "")
        if wide and guard:  # the scorecard: the guard in the verdict's tooltip
            note, guard = "; ".join(x for x in (note, guard) if x), ""
        measured = record[f"{p}: measured"]
        if wide:
            measured, rest = _shortened(measured)
            note = "; ".join(x for x in (note, f"measured: {rest}" if rest else "") if x)
        shown = baseline.split(" (")[0] if verdict == UNDERTRAINED else None
        value, _, limit = baseline.partition(" (")
        unit = value.rsplit(" ", 1)[-1]
        limit = limit if unit == "%" else limit.replace(f" {unit}", "")  # the value line names the unit
        seeds = record[f"{p}: seeds"]
        detail = " · ".join(x for x in (limit.rstrip(")"), guard, f"seeds: {seeds}" if seeds != "—" else "") if x)
        out += [f'<td style="{_CELL}">{escape(measured)}</td>',
                f'<td style="{_CELL}">{escape(value)}<br><span style="color: #57606a; font-size: 0.9em;">'
                f'{escape(detail)}</span></td>',
                f'<td style="{_CELL}">{badge(verdict, shown, note)}</td>']
    return "".join(out)


#: The scorecard shows at most this many characters of a finding (about four lines of its column at 1400 px).
SCORECARD_CHARS = 120


def _shortened(text: str, limit: int = SCORECARD_CHARS) -> tuple[str, str]:
    """``text`` cut after its last "; "-separated clause that fits ``limit`` characters (a single long clause:
    after its last word that fits), with "…", and the whole text (empty when it all fits): the scorecard
    shows the first part, the verdict's tooltip the whole."""
    if len(text) <= limit:
        return text, ""
    clauses, shown = text.split("; "), ""
    for clause in clauses:
        if shown and len(shown) + 2 + len(clause) > limit:
            break
        shown = f"{shown}; {clause}" if shown else clause
    if len(shown) > limit:  # one long clause: cut at the last word that fits
        shown = shown[:limit].rsplit(" ", 1)[0]
    return shown + " …", text


def render(claims: tuple[Claim, ...], profiles: tuple[str, ...] | None = None, *, wide: bool = False,
           caption: str = "") -> ClaimsTable:
    """The claims table of ``claims`` (one row per part, grouped by paper) for ``profiles``
    (default: those with a committed result of one of the claims' experiments, else ``cpu``)."""
    if all(c.exact is not None for c in claims):
        profiles = ("exact",)  # no training: one column group, "computed when the page is built"
    profiles = profiles or committed_profiles(claims) or ("cpu",)
    frame = paper_comparison(profiles, claims)
    head = "".join(f'<th colspan="3" style="{_CELL}">{"computed when the page is built" if p == "exact" else p + " profile"}'
                   f'</th>' for p in profiles)
    sub = "".join(f'<th style="{_CELL} width: 24%;">measured</th><th style="{_CELL} width: 11%;">baseline</th>'
                  f'<th style="{_CELL} width: 13%;">verdict</th>' for _ in profiles)
    columns, rows, paper = 3 + 3 * len(profiles), [], None
    for claim, (_, record) in zip(claims, frame.iterrows()):
        if claim.paper != paper:
            paper = claim.paper
            rows.append(f'<tr class="ib-group"><th colspan="{columns}" style="{_CELL} background: #f3f4f6; '
                        f'color: #24292f;">{escape(paper)}</th></tr>')
        rows.append(f'<tr><th scope="row" style="{_CELL} white-space: nowrap;">{escape(claim.item)}'
                    f'{"<br>" + escape(claim.part) if claim.part else ""}</th>'
                    f'<td style="{_CELL}">{escape(claim.claim)}</td>'
                    f'{_cells(record, profiles, claim.exact is not None, wide)}'
                    f'<td style="{_CELL}">{link(claim)}</td></tr>')
    classes = "ib-claims ib-scorecard" if wide else "ib-claims"
    html = (f'<table class="{classes}" style="border-collapse: collapse; font-size: 0.85em; width: 100%;">'
            f'<thead><tr><th rowspan="2" style="{_CELL}">item</th><th rowspan="2" style="{_CELL} width: 22%;">the '
            f'paper\'s claim</th>{head}<th rowspan="2" style="{_CELL}">chapter</th></tr><tr>{sub}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')
    note = f'<p class="ib-caption" style="font-size: 0.85em; color: #57606a;">{escape(caption)}</p>' if caption else ""
    return ClaimsTable(frame, html + note + legend(meanings=wide))


def claims_table(*names: str, profiles: tuple[str, ...] | None = None) -> ClaimsTable:
    """A chapter's claims table: the claim parts of the experiments (or chapters) ``names``, e.g.
    ``claims_table("cifar-filters", "cifar-beta")`` or ``claims_table("20-gaussian-dropout-bottleneck")``,
    in the scorecard's style, for every profile with a committed result (or ``profiles``)."""
    known = {c.experiment for c in CLAIMS} | {c.chapter for c in CLAIMS}
    unknown = [n for n in names if n not in known and n not in UNSCORED]
    if not names or unknown:
        raise ValueError(f"no claims for {unknown or 'nothing'}; experiments and chapters with claims: "
                         f"{', '.join(sorted(n for n in known if n))}")
    claims = tuple(c for c in CLAIMS if c.experiment in names or c.chapter in names)
    if not claims:  # only experiments on which no claim is scored: say why, as the table's place holder
        import pandas as pd

        reasons = "; ".join(f"{n}: {UNSCORED[n]}" for n in names)
        return ClaimsTable(pd.DataFrame(), f'<p class="ib-caption" style="font-size: 0.85em; color: #57606a;">'
                                           f'No claim of the papers is scored here ({escape(reasons)}).</p>')
    return render(claims, profiles, caption="Verdicts as on the results-vs-papers page, from the committed "
                                             "results; hover over a badge for its meaning.")


def scorecard(profiles: tuple[str, ...] | None = None) -> ClaimsTable:
    """The results-vs-papers scorecard: every claim part of both papers (full width in the book)."""
    return render(CLAIMS, profiles, wide=True, caption="Built from the committed results under results/ when "
                                                       "the page was built; mean ± sd over seeds.")
