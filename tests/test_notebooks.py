"""The book's sources: chapters listed in _toc.yml, committed clean, with the shared bootstrap cell;
and the configuration that keeps every page free of CDN requests."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MAX_CODE_LINES = 15
MAX_VENDORED_BYTES = 2_000_000
PROFILE_DEFAULT = re.compile(r"""os\.environ\.get\(\s*["']IBCORE_PROFILE["']\s*,\s*["']quick["']\s*\)""")


def load_yaml(name: str) -> dict:
    with open(ROOT / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


def toc_files(node: object) -> list[str]:
    """Every ``file:`` (and the root) of a Jupyter Book toc, in order."""
    if isinstance(node, dict):
        found = [node["root"]] if "root" in node else []
        found += [node["file"]] if "file" in node else []
        return found + [f for value in node.values() if isinstance(value, (list, dict)) for f in toc_files(value)]
    if isinstance(node, list):
        return [f for item in node for f in toc_files(item)]
    return []


TOC = toc_files(load_yaml("_toc.yml"))
NOTEBOOKS = [f for f in TOC if f.startswith("notebooks/")]
CONFIG = load_yaml("_config.yml")
REPOSITORY_URL = CONFIG["repository"]["url"]


def test_toc_parts_are_in_order() -> None:
    captions = [part["caption"] for part in load_yaml("_toc.yml")["parts"]]
    assert captions == ["Theory", "Experiments", "Gaussian dropout", "Appendix"]


@pytest.mark.parametrize("name", TOC)
def test_every_toc_entry_exists(name: str) -> None:
    candidates = [ROOT / f"{name}{suffix}" for suffix in (".ipynb", ".md")]
    assert any(path.exists() for path in candidates), f"{name} is in _toc.yml but neither .ipynb nor .md exists"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_clean_and_short(name: str) -> None:
    path = ROOT / f"{name}.ipynb"
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is listed in _toc.yml but missing")
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a chapter without code"
    with_outputs = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.outputs]
    assert not with_outputs, f"cells {with_outputs} have outputs: clear them before committing"
    counted = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.execution_count]
    assert not counted, f"cells {counted} have execution counts"
    long_cells = {i: len(cell.source.splitlines()) for i, cell in enumerate(nb.cells)
                  if cell.cell_type == "code" and len(cell.source.splitlines()) > MAX_CODE_LINES}
    assert not long_cells, f"code cells longer than {MAX_CODE_LINES} lines (move the code into ibcore): {long_cells}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_first_code_cell_is_the_bootstrap(name: str) -> None:
    path = ROOT / f"{name}.ipynb"
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is listed in _toc.yml but missing")
    first = next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    assert 'find_spec("ibcore")' in first.source, "the bootstrap installs ibcore only when it is missing"
    assert f"git+{REPOSITORY_URL}" in first.source, \
        f"the bootstrap must pip-install from _config.yml's repository.url ({REPOSITORY_URL})"
    assert PROFILE_DEFAULT.search(first.source), \
        'the bootstrap must read the profile as os.environ.get("IBCORE_PROFILE", "quick")'
    tags = set(first.metadata.get("tags", ()))
    assert tags & {"hide-input", "hide-cell"}, \
        "the bootstrap's input is hidden in the rendered book (tag hide-input), kept in the notebook (issue 25)"


def test_launch_buttons_point_at_colab_and_binder() -> None:
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["launch_buttons"]["binderhub_url"].startswith("https://")
    assert REPOSITORY_URL.startswith("https://github.com/")


def test_execution_fails_on_errors_and_is_forced() -> None:
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "force"
    assert execute["allow_errors"] is False
    assert execute["timeout"] > 0


def test_widget_and_math_scripts_are_local_files_that_exist() -> None:
    """No CDN: every script and style sheet the site loads beyond Sphinx's own is a vendored file
    served by the site."""
    sphinx = CONFIG["sphinx"]["config"]
    served = [ROOT / extra for extra in sphinx["html_extra_path"]]
    scripts = [*sphinx["nb_ipywidgets_js"], sphinx["mathjax_path"], *sphinx.get("html_css_files", [])]
    for script in scripts:
        assert "://" not in script and not script.startswith("//"), f"{script} is not a local file"
        # Sphinx resolves these relative to _static/; the extra paths are copied to the site root.
        assert script.startswith("../"), f"{script} should point from _static/ to the site root"
        assert any((folder / script.removeprefix("../")).is_file() for folder in served), \
            f"{script} is in none of {sphinx['html_extra_path']}"
    assert any(script.endswith("html-manager/embed.js") for script in scripts)


def test_vendored_files_are_each_under_2_mb() -> None:
    big = {p.relative_to(ROOT).as_posix(): p.stat().st_size for p in (ROOT / "book" / "widgets-js").rglob("*")
           if p.is_file() and p.stat().st_size >= MAX_VENDORED_BYTES}
    assert not big, f"vendored files must stay under 2 MB each: {big}"


FIGURE_CALL = re.compile(r"\bplot_\w+\(|beta_slider\(")
TABLE_CALL = re.compile(r"\btable\(|_table\(")


def _figure_cells(name: str) -> list[tuple[int, nbformat.NotebookNode]]:
    """Code cells that draw a figure or a slider (a ``plot_*`` or ``beta_slider`` call)."""
    nb = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    return [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and FIGURE_CALL.search(cell.source)]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_figure_has_a_name_a_caption_and_alt_text(name: str) -> None:
    """myst-nb wraps each output of a cell with ``mystnb.figure`` metadata in a numbered figure;
    ``mystnb.image.alt`` is the text a screen reader says (sliders: the caption speaks for them)."""
    problems = {}
    for i, cell in _figure_cells(name):
        meta = cell.metadata.get("mystnb", {})
        figure, alt = meta.get("figure", {}), meta.get("image", {}).get("alt", "")
        missing = [key for key in ("name", "caption") if len(str(figure.get(key, ""))) < 3]
        if "beta_slider(" not in cell.source and len(alt) < 10:
            missing.append("image.alt")
        if TABLE_CALL.search(cell.source):
            missing.append("a table in the same cell (it would be captioned as the figure)")
        if missing:
            problems[i] = missing
    assert not problems, f"figure cells lacking: {problems}"


def test_figure_names_are_unique_across_the_book() -> None:
    names = [cell.metadata["mystnb"]["figure"]["name"] for nb in NOTEBOOKS for _, cell in _figure_cells(nb)
             if "figure" in cell.metadata.get("mystnb", {})]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_bootstrap_quotes_the_intros_budgets(name: str) -> None:
    """The bootstrap cell's time estimates are the ones the intro's profile table gives."""
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    budgets = dict(re.findall(r"^\| `(quick|cpu)` \| [^|]+ \| ([^|]+?) \|", intro, re.M))
    assert set(budgets) == {"quick", "cpu"}, "the intro's profile table changed shape"
    first = next(cell for cell in nbformat.read(ROOT / f"{name}.ipynb", as_version=4).cells if cell.cell_type == "code")
    assert budgets["quick"] in first.source, f"the bootstrap should say quick takes {budgets['quick']}"
    assert budgets["cpu"].split(" per ")[0] in first.source, f"the bootstrap should say cpu takes {budgets['cpu']}"


LIVE_RUN = re.compile(r"\bexperiments\.run\(")
COMMITTED = re.compile(r"\bexperiments\.committed\(|\bcommitted\(")
#: The chapters that train networks (issue 21: they open on committed results): every chapter with a live run.
EXPERIMENT_CHAPTERS = [name for name in NOTEBOOKS
                       if LIVE_RUN.search((ROOT / f"{name}.ipynb").read_text(encoding="utf-8"))]


def _code_cells(name: str) -> list[tuple[int, nbformat.NotebookNode]]:
    nb = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    return [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]


def test_the_experiment_chapters_are_the_ones_the_issue_names() -> None:
    numbers = sorted(name.split("/")[-1][:2] for name in EXPERIMENT_CHAPTERS)
    assert numbers == ["10", "11", "12", "13", "14", "15", "16", "21"], numbers


@pytest.mark.parametrize("name", EXPERIMENT_CHAPTERS)
def test_a_committed_result_is_read_before_any_live_run(name: str) -> None:
    """Issue 21: a chapter opens on its best committed result; the live run comes at the end."""
    cells = _code_cells(name)
    committed = [i for i, cell in cells if COMMITTED.search(cell.source)]
    live = [i for i, cell in cells if LIVE_RUN.search(cell.source)]
    assert committed, "the chapter reads no committed result"
    assert committed[0] < live[0], f"cell {live[0]} runs live before cell {committed[0]} reads a committed result"


@pytest.mark.parametrize("name", EXPERIMENT_CHAPTERS)
def test_the_live_run_draws_no_figure_that_could_pass_for_a_result(name: str) -> None:
    """After the first live run, a figure is drawn only for a profile other than quick, or says on its
    caption that it is an untrained smoke run (the plot's provenance line says so by itself)."""
    cells = _code_cells(name)
    first_run = next(i for i, cell in cells if LIVE_RUN.search(cell.source))
    unmarked = [i for i, cell in cells if i >= first_run and FIGURE_CALL.search(cell.source)
                and 'PROFILE != "quick"' not in cell.source
                and "untrained smoke run" not in cell.metadata.get("mystnb", {}).get("figure", {}).get("caption", "")]
    assert not unmarked, f"cells {unmarked} draw a live (quick) figure without saying it is an untrained smoke run"


@pytest.mark.parametrize("name", EXPERIMENT_CHAPTERS)
def test_the_live_run_has_a_run_it_yourself_section_at_the_end(name: str) -> None:
    nb = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    headings = [(i, line) for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("## ")]
    section = [i for i, line in headings if line.strip() == "## Run it yourself"]
    assert len(section) == 1, "one section titled 'Run it yourself'"
    runs = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and LIVE_RUN.search(cell.source)]
    assert all(i > section[0] for i in runs), f"live runs in cells {runs} before the section (cell {section[0]})"
