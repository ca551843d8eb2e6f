"""No number in the book's prose without a source (issue 27 item 8).

Every number in a chapter's Markdown cells (the notebooks listed in ``_toc.yml``) and on a book page
(``book/*.md``) must be glued from a result (``{glue:text}`...```), computed in the page, or be a
constant of a paper (or of a data set) quoted as such. The scan below strips what is not prose
(glue and other roles, code, links, HTML, directive options), skips references ("Fig. 3a", "eq. 7",
"§8", "Table I", "chapter 13"), years of citations and ordinals, and fails on every remaining digit
that no entry of the reviewed allow-list ``ALLOWED`` covers. In math (``$...$``) only decimals are
read: integers there are the equations' own (exponents, indices, 1/2, 28×28).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: The reviewed allow-list: a regular expression for the phrase that quotes a constant, and why the
#: number in it needs no result. A bare number is allowed where one of these phrases covers it.
ALLOWED: tuple[tuple[str, str], ...] = (
    # settings: a value the text sets or names, not one it measured
    (r"\{[\d.,\s]+\}", "a grid of swept values, as the experiment's config sets it"),
    (r"(?:\b[βpασk]|max_alpha|β_paper|β_used)\s*(?:=|≤|≥|<|>|∈)\s*[\d.]+", "the value of a parameter the text names (a grid point)"),
    (r"\\(?:alpha|beta|sigma|rho)(?:_\{\\max\})?\s*(?:=|<|>|\\le|\\ge|\\in)\s*[\d.]+(?![\d.]*\\,)",
     "the same in math: $\\beta = 0.5$, $\\alpha_{\\max} = 0.7$ (a value set, not a product like $0.12\\,\\beta$)"),
    (r"\\\{[\d.,\s]+\\\}", "a grid of swept values in math, $\\{0, 0.1, 0.5\\}$"),
    (r"(?:\blr|[Rr]ate|Adam(?: at)?|[Bb]atch|momentum|dropout|[Qq]uality)\s*(?:of\s*)?[\d.]+(?:e-?\d+)?", "a hyperparameter setting"),
    (r"Adam \(0\.9, 0\.999", "Adam's default betas (Rey & Mnih App. B)"),
    (r"×0\.1", "a learning-rate drop factor"),
    (r"(?:first|warm-up|warmed up over the first) \d+ %", "a schedule's warm-up setting"),
    (r"weight decay [\d.]+", "a weight-decay setting"),
    (r"intensity is > 0\.5", "the binarisation threshold, a setting"),
    (r"(?:≤|at most|before|in at most) \d+ (?:s|min|minutes)\b(?: per experiment| for all)?", "a profile's or a GPU window's time budget (DESIGN.md), a limit, not a measurement"),
    (r"25–52 %", "the occlusion generator's settings (ibcore.data.occluded_cifar; 16–23 px of 32)"),
    (r"default \d+ s", "a command's default budget, a setting"),
    (r"differ by 1 % \(relative\), error rates by 0\.003", "verify's tolerances, settings of the check"),
    (r"25 %\s+of\s+the\s+filters", "Fig. 5's network (Achille & Soatto; the original README)"),
    (r"0\.015\$?,? (?:and )?\$?0\.15|0\.02\$?,? (?:and )?\$?0\.08", "the values Rey & Mnih's Fig. 3 names"),
    # constants of the papers (Achille & Soatto 2018; Rey & Mnih 2021)
    (r"0\.001(?= \+ max_alpha|\)|\s*\+)|(?:max_alpha|\\alpha_\{\\max\}) \+ 0\.001", "α's floor, 0.001 + max_alpha · sigmoid (the original code)"),
    (r"max_alpha \+ 0\.001 = 0\.701", "α's cap: 0.7 + 0.001 (the paper's bound, §8)"),
    (r"α (?:by|<|≤) 0\.7", "the paper's bound on α (§8)"),
    (r"1\.28 at α = 0\.7", "exp(0.7²/2), the mean of the paper's noise at its α cap"),
    (r"β = 3\.0", "the paper's β on CIFAR-10 (§9)"),
    (r"\b(?:80|200|300|350)\s+epochs", "the papers' own schedules (A&S: 80 CIFAR, 200 All-CNN, 300 VAE; Rey & Mnih: 350)"),
    (r"[−-]?(?:98\.8|100\.0|96\.9|97\.7|1\.2)(?= (?:and|nats|\)))", "Table I of Achille & Soatto, quoted as the paper's"),
    (r"Table I:\s+[−-](?:98\.8|99\.0|98\.7)\s+and\s+[−-](?:100\.0|99\.1)", "Table I's pair at one k (Achille & Soatto), quoted as the paper's"),
    (r"784-512-512-10|784", "the MNIST input (28×28) and the paper's MLP"),
    # constants of the data sets and of statistics
    (r"(?:60,000|50,000|10,000)(?= (?:\w+ )?(?:training |test )?(?:images|digits|activations))", "the data sets' sizes (MNIST 60,000/10,000, CIFAR-10 50,000/10,000)"),
    (r"3,072", "32 × 32 × 3, a CIFAR-10 image's size (and the layer's at 25 % of the filters)"),
    (r"22,699", "the offline MNIST mirror's training images (the readers check the count)"),
    (r"[Cc]hance(?: is| \(|,)?\s*(?:near the )?90 %|90 % (?:is chance|of chance)", "chance error with 10 classes"),
    (r"95 %", "the confidence level of every interval"),
)
_NUMBER = re.compile(r"(?<![\w\-.\u2212/])[\u2212+-]?\d[\d,]*(?:\.\d+)?(?:e[\u2212-]?\d+)?(?![\w])")
_UNIT = re.compile(r"\s*(?:%|nats?\b|bits?\b|min\b|minutes?\b|hours?\b|h\b|s\b|seconds?\b|epochs?\b|"
                   r"(?:test |training |occluded |binarised |MNIST |CIFAR-10 )*images?\b|points?\b|seeds\b|"
                   r"networks\b|×(?!\s*\d))")
_APPROXIMATE = re.compile(r"(?:about|around|roughly|nearly|almost|≈|~)\s*$")
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+")
_REFERENCE = re.compile(
    r"(?:\b(?:[Ff]igs?\.|[Ff]igures?|[Ee]qs?\.|[Ee]quations?|[Tt]ables?|[Pp]rops?\.|[Pp]ropositions?|"
    r"[Ss]ections?|[Cc]hapters?|[Aa]ppendix|[Tt]heorems?|[Ll]emmas?|[Cc]orollary|[Dd]efinitions?|"
    r"[Ii]tems?|[Ii]ssues?|[Ss]teps?|[Ee]xercises?|[Ss]eed|PR|ch\.)|§)\s*"
    r"[\dIVX]+[a-z]?(?:\s*(?:[,–-]|and|or|&)\s*[\dIVX]*[a-z]?)*")
_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|20[0-3]\d)[a-z]?(?!\d)")
_ORDINAL = re.compile(r"\b\d+(?:st|nd|rd|th)\b")
_ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`", re.S)
_MATH_BLOCK = re.compile(r"\$\$.*?\$\$", re.S)
_MATH_INLINE = re.compile(r"\$[^$\n]+\$")
_CODE_SPAN = re.compile(r"``.*?``|`[^`]*`", re.S)
_LINK = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
_HTML = re.compile(r"<!--.*?-->|<[^>\n]+>", re.S)
_LABEL = re.compile(r"^\([\w-]+\)=\s*$", re.M)
_ISSUE = re.compile(r"[\w-]+#\d+")


def _toc_files(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node[k] for k in ("root", "file") if k in node]
        return found + [f for value in node.values() if isinstance(value, (list, dict)) for f in _toc_files(value)]
    if isinstance(node, list):
        return [f for item in node for f in _toc_files(item)]
    return []


def pages() -> dict[str, list[str]]:
    """The book's prose: each toc notebook's Markdown cells, and each ``book/*.md`` page whole."""
    toc = _toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8")))
    found: dict[str, list[str]] = {}
    for name in toc:
        if (path := ROOT / f"{name}.ipynb").exists():
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            found[name] = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    for path in sorted((ROOT / "book").glob("*.md")):
        found[f"book/{path.stem}"] = [path.read_text(encoding="utf-8")]
    return found


def _fences(text: str) -> str:
    """Code blocks removed; a directive (```{name}) keeps its body, not its name, argument or options."""
    out, fence, directive = [], None, False
    for line in text.splitlines():
        stripped = line.strip()
        match = re.match(r"(`{3,}|:{3,}|~{3,})(\{[^}]*\})?", stripped)
        if fence is None and match:
            fence, directive = match.group(1), bool(match.group(2))
            out.append("")
            continue
        if fence is not None and stripped == fence:
            fence = None
            out.append("")
            continue
        if fence is not None and (not directive or re.match(r"^:[\w-]+:", stripped)):
            out.append("")
            continue
        out.append(line)
    return "\n".join(out)


def _blank(pattern: re.Pattern, text: str) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def prose_of(markdown: str) -> str:
    """The text whose digits are read: roles, code, links, HTML and labels blanked (same length, so
    that math can be read separately), headings' numbers kept only if they are not references."""
    text = _fences(markdown)
    for pattern in (_ROLE, _CODE_SPAN, _HTML, _LINK, _LABEL, _ISSUE):
        text = _blank(pattern, text)
    return text


def _is_quantity(text: str, match: re.Match) -> bool:
    """A number that states an amount: a decimal, a number with a unit ("61 %", "45 min", "300 epochs")
    or an approximate one ("about 30"). Bare integers without a unit are labels and counters (list
    items, "layer 2", "seed 0", "β = 1" of a grid) and are not read."""
    number = match.group(0)
    if re.search(r"\d\.\d", number):
        return True
    before, after = text[max(0, match.start() - 12):match.start()], text[match.end():match.end() + 24]
    return bool(_UNIT.match(after) or _APPROXIMATE.search(before))


def bare_numbers(markdown: str) -> list[str]:
    """Each bare number of a Markdown text, with its context: ``"'61' in “…at 61 % test error…”"``."""
    text = prose_of(markdown)
    math_spans = [m.span() for m in _MATH_BLOCK.finditer(text)]
    math_spans += [m.span() for m in _MATH_INLINE.finditer(_blank(_MATH_BLOCK, text))]
    plain = _blank(_MATH_INLINE, _blank(_MATH_BLOCK, text))
    candidates = [m for m in _NUMBER.finditer(plain) if _is_quantity(plain, m)]
    candidates += [m for start, end in math_spans for m in _DECIMAL.finditer(text, start, end)]
    skipped = [m.span() for pattern in (_REFERENCE, _YEAR, _ORDINAL) for m in pattern.finditer(plain)]
    skipped += [m.span() for pattern, _ in ALLOWED for m in re.finditer(pattern, text)]
    found = []
    for m in sorted(candidates, key=lambda m: m.start()):
        if not any(a <= m.start() and m.end() <= b for a, b in skipped):
            found.append(f"{m.group(0)!r} in “…{readable_context(text, m.start(), m.end())}…”")
    return found


def readable_context(text: str, start: int, end: int, width: int = 50) -> str:
    return re.sub(r"\s+", " ", text[max(0, start - width):end + width]).strip()


PAGES = pages()

#: Chapters not yet cleaned (issue 27 item 8): their bare numbers are listed by the test, which is
#: expected to fail there until each number is glued, quoted as a constant, or reworded.
PENDING: set[str] = set()


@pytest.mark.parametrize("text, bare", [
    ("It took about 45 min on 2 cores.", ["45"]),
    ("All-CNN-32 at 61 % test error after 8 epochs.", ["61", "8"]),
    ("{glue:text}`ch16-0.0-main-error-d:.1f` % at $\\beta = 0$ (Fig. 3a, eq. 7, §8, Table I, chapter 13).", []),
    ("As Achille and Soatto (2018) write, β = 3.0 on CIFAR-10, with 25 % of the filters, for 200 epochs.", []),
    ("The 1st layer, `lr=0.37`, [link](https://x.org/0.5), $x_2 = 0.25$ and\n```\n0.9 s\n```\n", ["0.25"]),
    ("$\\beta \\in \\{0, 0.1, 0.5\\}$, $\\alpha_{\\max} = 0.7$, $\\beta_{\\text{used}} = 0.12\\,\\beta$, $\\beta \\approx 0.53$",
     ["0.12", "0.53"]),
])
def test_the_scan_finds_quantities_and_skips_glue_references_and_constants(text, bare):
    assert [entry.split("'")[1] for entry in bare_numbers(text)] == bare




@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_bare_number_in_the_prose(name: str, request: pytest.FixtureRequest) -> None:
    if name in PENDING:
        request.applymarker(pytest.mark.xfail(reason="not yet cleaned (issue 27 item 8)", strict=True))
    found = [number for cell in PAGES[name] for number in bare_numbers(cell)]
    assert not found, (f"{name}: {len(found)} numbers neither glued from a result nor on the allow-list of "
                       "the papers' constants:\n  " + "\n  ".join(found))
