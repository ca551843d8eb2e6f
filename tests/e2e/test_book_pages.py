"""The built book in a real browser: sliders work without a kernel, nothing loads from outside.

Serves ``_build/html`` (or ``$IBCORE_BOOK_HTML``) on 127.0.0.1 and drives Debian's Chromium
(``$CHROMIUM``, default ``/usr/bin/chromium``) with Playwright; no browser is downloaded.
Every request to another host is blocked and recorded. Locally the tests skip when the built
book, Chromium or Playwright is missing; in CI (``CI`` set) they fail instead.

Build the book first: ``bash book/build.sh``. Screenshots land in ``_build/e2e-screenshots/``.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("IBCORE_BOOK_HTML", ROOT / "_build" / "html"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "_build" / "e2e-screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MAX_PAGE_BYTES = 1_000_000
SLIDER_MODEL = '"SelectionSliderModel"'
COLAB = "https://colab.research.google.com"
TIMEOUT_MS = 20_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where the browser test must run."""
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def _page_of(source: Path, site: Path) -> Path:
    """The HTML page built from a source that Sphinx copied to _sources/ (``x.ipynb``, ``x.md[.txt]``)."""
    name = re.sub(r"\.(ipynb|md|rst)(\.txt)?$", ".html", source.relative_to(site / "_sources").as_posix())
    return site / name


def notebook_pages(site: Path) -> list[Path]:
    """HTML pages built from notebooks: those whose copied source under _sources/ is an .ipynb."""
    return sorted(_page_of(src, site) for src in (site / "_sources").rglob("*.ipynb"))


def content_pages(site: Path) -> list[Path]:
    """Every page of the book's text (not search/genindex/the index redirect)."""
    pages = {_page_of(src, site) for src in (site / "_sources").rglob("*") if src.is_file()}
    return sorted(page for page in pages if page.exists())


def slider_pages(site: Path) -> list[Path]:
    """Pages whose embedded widget state holds a SelectionSlider (a β, α or p slider)."""
    return [page for page in notebook_pages(site) if SLIDER_MODEL in page.read_text(encoding="utf-8")]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        pass


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").exists():
        _unavailable(f"no built book at {SITE}: run `bash book/build.sh` first")
    return SITE


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1, from a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; no `playwright install`)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class Visit:
    """What one page did in the browser."""

    page: object
    external: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(browser, server: str, site: Path):
    """Open a built page with every request off 127.0.0.1 blocked and recorded, errors collected."""
    contexts = []

    def _open(path: Path) -> Visit:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        visit = Visit(page)
        ours = urlsplit(server).netloc

        def route(route) -> None:
            url = route.request.url
            if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != ours:
                visit.external.append(url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", route)
        page.on("console", lambda msg: visit.errors.append(f"console: {msg.text}")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: visit.errors.append(f"pageerror: {exc}"))
        page.goto(f"{server}/{path.relative_to(site).as_posix()}", wait_until="load")
        return visit

    yield _open
    for context in contexts:
        context.close()


def _own_errors(visit: Visit) -> list[str]:
    """Console errors and uncaught exceptions, less Chromium's own favicon probe."""
    return [error for error in visit.errors if "favicon.ico" not in error]


def test_book_has_notebook_and_slider_pages(site: Path) -> None:
    assert notebook_pages(site), f"no notebook pages found under {site} (is html_copy_source off?)"
    assert slider_pages(site), "no page embeds a SelectionSlider: the β-slider chapters did not render widgets"


def test_slider_pages_are_under_1_mb(site: Path) -> None:
    sizes = {page.relative_to(site).as_posix(): page.stat().st_size for page in slider_pages(site)}
    too_big = {name: size for name, size in sizes.items() if size >= MAX_PAGE_BYTES}
    assert not too_big, f"pages with a slider must stay under 1 MB: {too_big}"


def test_pages_load_nothing_external_and_log_no_errors(site: Path, open_page) -> None:
    pages = content_pages(site)
    assert pages, "no content pages found"
    problems = {}
    for path in pages:
        visit = open_page(path)
        visit.page.wait_for_load_state("networkidle")
        if SLIDER_MODEL in path.read_text(encoding="utf-8"):
            visit.page.wait_for_selector(".widget-slider", timeout=TIMEOUT_MS)
        if visit.external or _own_errors(visit):
            problems[path.relative_to(site).as_posix()] = {"external": visit.external,
                                                           "errors": _own_errors(visit)}
    assert not problems, f"pages requested other hosts or logged errors: {problems}"


def test_notebook_pages_have_a_colab_launch_link(site: Path) -> None:
    missing = [page.relative_to(site).as_posix() for page in notebook_pages(site)
               if f'href="{COLAB}/github/' not in page.read_text(encoding="utf-8")]
    assert not missing, f"no Colab launch link on {missing}"


#: The width at which every display equation and every table must fit the text column.
COLUMN_VIEWPORT = {"width": 1400, "height": 900}
_OVERFLOWING_EQUATIONS = """() => [...document.querySelectorAll('mjx-container[display="true"]')]
  .filter(m => m.scrollWidth > m.clientWidth + 1)
  .map(m => `${m.scrollWidth} px in ${m.clientWidth} px: ${(m.textContent || '').slice(0, 50)}`)"""


def test_no_display_equation_is_wider_than_the_text_column(site: Path, open_page) -> None:
    """A cut-off equation reads as a wrong formula (the part past the column is hidden)."""
    wide = {}
    for path in content_pages(site):
        if '<div class="math' not in path.read_text(encoding="utf-8"):
            continue  # no display equation on this page
        visit = open_page(path)
        visit.page.set_viewport_size(COLUMN_VIEWPORT)
        visit.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                     timeout=TIMEOUT_MS)
        visit.page.evaluate("() => MathJax.startup.promise")
        overflowing = visit.page.evaluate(_OVERFLOWING_EQUATIONS)
        if overflowing:
            wide[path.relative_to(site).as_posix()] = overflowing
    assert not wide, f"display equations wider than the column at 1400 px: {wide}"


_WIDE_TABLES = """() => {
  const column = document.querySelector('article.bd-article');
  const right = column.getBoundingClientRect().right + 1;
  return [...column.querySelectorAll('table')]
    .filter(t => t.getBoundingClientRect().right > right || t.scrollWidth > t.clientWidth + 1)
    .map(t => `${Math.round(t.getBoundingClientRect().width)} px: ${(t.textContent || '').trim().slice(0, 40)}`);
}"""


def test_no_table_is_wider_than_the_text_column(site: Path, open_page) -> None:
    """A table cut off at the column's edge hides its last columns."""
    wide = {}
    for path in notebook_pages(site):
        if "<table" not in path.read_text(encoding="utf-8"):
            continue
        visit = open_page(path)
        visit.page.set_viewport_size(COLUMN_VIEWPORT)
        overflowing = visit.page.evaluate(_WIDE_TABLES)
        if overflowing:
            wide[path.relative_to(site).as_posix()] = overflowing
    assert not wide, f"tables wider than the column at 1400 px: {wide}"


def test_every_chapter_opens_its_own_notebook_in_colab_from_a_badge(site: Path) -> None:
    """The badge under each chapter's title links to that chapter's notebook (not only the launch menu)."""
    wrong = {}
    for page in notebook_pages(site):
        notebook = page.relative_to(site).with_suffix(".ipynb").as_posix()
        badge = re.search(r'<p class="colab-badge"><a href="([^"]+)"', page.read_text(encoding="utf-8"))
        if badge is None or not badge.group(1).startswith(f"{COLAB}/github/") \
                or not badge.group(1).endswith(f"/{notebook}"):
            wrong[page.relative_to(site).as_posix()] = badge.group(1) if badge else None
    assert not wrong, f"chapters without a Colab badge for their own notebook: {wrong}"


def test_sliders_move_with_the_keyboard_without_a_kernel(site: Path, open_page) -> None:
    pages = slider_pages(site)
    if not pages:
        pytest.fail("no page with a slider to test")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in pages:
        visit = open_page(path)
        page = visit.page
        widget = page.locator(".widget-vbox", has=page.locator(".widget-slider")).first
        widget.wait_for(timeout=TIMEOUT_MS)
        readout, image = widget.locator(".widget-readout").first, widget.locator("img").first
        image.wait_for(state="visible", timeout=TIMEOUT_MS)
        before = (readout.inner_text(), image.get_attribute("src"))
        widget.scroll_into_view_if_needed()
        widget.locator(".noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("(a) => a.readout.innerText !== a.text",
                               arg={"readout": readout.element_handle(), "text": before[0]},
                               timeout=TIMEOUT_MS)
        image = widget.locator("img").first
        image.wait_for(state="visible", timeout=TIMEOUT_MS)
        after = (readout.inner_text(), image.get_attribute("src"))
        page.screenshot(path=str(SCREENSHOTS / f"{path.stem}.png"), full_page=False)
        name = path.relative_to(site).as_posix()
        assert after[0] != before[0], f"{name}: the slider readout did not change ({before[0]!r})"
        assert after[1] != before[1], f"{name}: the displayed image did not change"
        assert not _own_errors(visit), f"{name}: {_own_errors(visit)}"
        assert not visit.external, f"{name} requested other hosts: {visit.external}"


def _visible_text(html: str) -> str:
    """A page's text as a reader sees it: no scripts, styles or tags."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_every_image_has_alt_text_and_every_figure_a_numbered_caption(site: Path) -> None:
    """Readers with screen readers get what a figure shows; every figure has "Fig. N" and a caption."""
    problems = {}
    for page in notebook_pages(site):
        html = page.read_text(encoding="utf-8")
        article = html[html.find('<article'):html.rfind('</article>')]
        alts = {img: re.search(r'\balt="([^"]*)"', img) for img in re.findall(r"<img\b[^>]*>", article)}
        bad = [img[:80] for img, alt in alts.items()  # myst-nb's default alt is the file name
               if alt is None or len(alt.group(1)) < 10 or alt.group(1).endswith((".png", ".svg", ".jpg"))]
        bad += [f"figure without a number: {fig[:80]}" for fig in re.findall(r"<figure\b.*?</figure>", article, re.S)
                if not re.search(r'<span class="caption-number">Fig\. \d+', fig)]
        if bad:
            problems[page.relative_to(site).as_posix()] = bad
    assert not problems, f"images without alt text or figures without a numbered caption: {problems}"


def test_figure_images_are_twice_their_display_size(site: Path) -> None:
    """2x PNGs: sharp on high-density screens (the inline style gives the display size)."""
    import struct

    blurry = []
    for page in notebook_pages(site):
        for img in re.findall(r'<img\b[^>]*src="[^"]*_images/[^"]+\.png"[^>]*>', page.read_text(encoding="utf-8")):
            src, width = re.search(r'src="([^"]+)"', img).group(1), re.search(r'style="width: (\d+)px', img)
            if width is None:
                blurry.append(f"{page.name}: {src.rsplit('/', 1)[-1][:12]} has no display size (a 1x PNG)")
                continue
            width = width.group(1)
            data = (page.parent / src).read_bytes()
            pixels = struct.unpack(">I", data[16:20])[0]
            if pixels < 2 * int(width):
                blurry.append(f"{page.name}: {src.rsplit('/', 1)[-1][:12]} is {pixels} px shown at {width} px")
    assert not blurry, blurry


def _labels_in_sources() -> set[str]:
    """Every equation label the book defines: ``$$ (x)`` on a display equation, ``:label: x`` in a
    math block. (Section targets, ``(x)=``, are left out: "deviations" is also a word.)"""
    labels = set()
    for path in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("book/*.md")]:
        text = path.read_text(encoding="utf-8")
        labels |= set(re.findall(r"\$\$\s*\(([\w-]+)\)", text)) | set(re.findall(r":label:\s*([\w-]+)", text))
    return labels


def test_no_page_shows_a_raw_label(site: Path) -> None:
    """An equation's label ("kl-prop2") in the text means a reference that did not resolve."""
    labels = _labels_in_sources()
    assert labels, "no labels found in the sources: the pattern is out of date"
    shown = {}
    for page in content_pages(site):
        text = _visible_text(page.read_text(encoding="utf-8"))
        raw = sorted(label for label in labels if re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text))
        if raw:
            shown[page.relative_to(site).as_posix()] = raw
    assert not shown, f"pages whose text shows a label instead of a number: {shown}"
