"""Results first (issue 21 item 5), in the built book and a real browser: every experiment chapter's
first result figure comes from a committed run, every figure is as wide as the text column, every
slider frame has alt text, and every page stays under 1 MB.

Uses the fixtures of ``test_book_pages`` (the built site served on 127.0.0.1, Debian's Chromium,
every request to another host blocked); like those tests it skips locally without a built book,
Chromium or Playwright, and fails in CI. Build the pages first (``bash book/build.sh``, or a subset
with ``--toc``) and point ``IBCORE_BOOK_HTML`` at them. Screenshots of each chapter's first result
figure land in ``$IBCORE_E2E_SCREENSHOTS`` (default ``_build/e2e-screenshots/``).
"""
from __future__ import annotations

import os
import re
from html import unescape
from pathlib import Path

import pytest

from test_book_pages import (COLUMN_VIEWPORT, MAX_PAGE_BYTES, SCREENSHOTS, SLIDER_MODEL, TIMEOUT_MS,  # noqa: F401
                             browser, content_pages, notebook_pages, open_page, server, site)

pytestmark = pytest.mark.e2e

#: The chapters that train networks: Achille & Soatto's experiments and Rey & Mnih's hybrid.
EXPERIMENT_CHAPTER = re.compile(r"^(1[0-6]|21)-")
#: A figure shows a result when its caption names a profile or a run.
RESULT_CAPTION = re.compile(r"\bprofile\b|\brun\b", re.I)
COMMITTED_PROFILE = re.compile(r"\b(cpu|gpu|full) profile\b")
LIVE_WORDS = re.compile(r"\bquick\b|\bsmoke run\b|\blive run\b", re.I)
#: A figure's width may differ from the text column's by this share.
WIDTH_TOLERANCE = 0.10
MIN_ALT_CHARS = 10
SHOTS = Path(os.environ.get("IBCORE_E2E_SCREENSHOTS", SCREENSHOTS))


def experiment_pages(site: Path) -> list[Path]:
    pages = [page for page in notebook_pages(site) if EXPERIMENT_CHAPTER.match(page.name)]
    if not pages:
        pytest.skip(f"no experiment chapter (10-16, 21) in {site}: build them first")
    return pages


def captions(html: str) -> list[str]:
    """The caption text of every numbered figure of a page's article, in order."""
    article = html[html.find("<article"):html.rfind("</article>")]
    found = []
    for figure in re.findall(r"<figure\b.*?</figure>", article, re.S):
        caption = re.search(r'<span class="caption-text">(.*?)</span>\s*<a class="headerlink"', figure, re.S)
        found.append(unescape(re.sub(r"<[^>]+>", "", caption.group(1))).strip() if caption else "")
    return found


def test_the_first_result_figure_of_every_experiment_chapter_is_from_a_committed_run(site: Path) -> None:
    """Figures of data or diagrams may come first; the first one that shows a run names a committed
    profile (cpu, gpu or full), not quick, a smoke run or a live run."""
    wrong = {}
    for page in experiment_pages(site):
        shown = [c for c in captions(page.read_text(encoding="utf-8")) if RESULT_CAPTION.search(c)]
        if not shown:
            wrong[page.name] = "no figure names the run it shows"
        elif not COMMITTED_PROFILE.search(shown[0]) or LIVE_WORDS.search(shown[0]):
            wrong[page.name] = shown[0][:160]
    assert not wrong, f"chapters whose first result figure is not from a committed run: {wrong}"


_FIGURES = """() => {
  const article = document.querySelector('article.bd-article');
  const style = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const figures = [...article.querySelectorAll('.cell_output img')]
    .filter(img => img.offsetParent !== null)
    .map(img => ({width: img.getBoundingClientRect().width, natural: img.naturalWidth,
                  what: (img.closest('figure')?.querySelector('.caption-number')?.textContent
                         || img.alt || img.src).trim().slice(0, 60)}));
  return {column, figures};
}"""


def _first_result_figure(page):
    """The first figure whose caption names a committed profile (the screenshots show a result, not the
    data figure that may come before it)."""
    return page.locator("article.bd-article figure", has_text=COMMITTED_PROFILE).first


def _settled(visit, path: Path) -> None:
    """Wait until the page's images are decoded and its sliders drawn."""
    visit.page.set_viewport_size(COLUMN_VIEWPORT)
    if SLIDER_MODEL in path.read_text(encoding="utf-8"):
        visit.page.wait_for_selector(".widget-slider", timeout=TIMEOUT_MS)
    visit.page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=TIMEOUT_MS)


def test_every_figure_is_as_wide_as_the_text_column(site: Path, open_page) -> None:
    """At 1400 px every figure and slider frame is within 10 % of the column's width (narrower ones
    shrink their text below what it was drawn at; wider ones are scaled down, and so is their text)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    wrong = {}
    for path in notebook_pages(site):
        visit = open_page(path)
        _settled(visit, path)
        found = visit.page.evaluate(_FIGURES)
        # a figure wider than the column is scaled down to it by max-width: its PNG says how wide it was drawn
        off = [f"{f['what']}: {max(f['width'], f['natural'] / 2):.0f} px" for f in found["figures"]
               if abs(max(f["width"], f["natural"] / 2) / found["column"] - 1) > WIDTH_TOLERANCE]
        if off:
            wrong[path.name] = {"column": found["column"], "figures": off}
        if EXPERIMENT_CHAPTER.match(path.name):
            first = _first_result_figure(visit.page)
            if first.count():
                first.scroll_into_view_if_needed()
                visit.page.screenshot(path=str(SHOTS / f"{path.stem}-first-figure-1400.png"))
    assert not wrong, f"figures more than {WIDTH_TOLERANCE:.0%} off the text column at 1400 px: {wrong}"


_FRAME = """(widget) => { const img = [...widget.querySelectorAll('img')].find(i => i.offsetParent !== null);
  return img ? {alt: img.getAttribute('alt') || '', src: img.src.slice(-40)} : null; }"""


def test_every_slider_frame_has_alt_text(site: Path, open_page) -> None:
    """Each frame of each slider, reached with the keyboard as a reader would, has an alt text of
    its own that names the frame's value (a screen reader says what the frame shows)."""
    pages = [p for p in notebook_pages(site) if SLIDER_MODEL in p.read_text(encoding="utf-8")]
    if not pages:
        pytest.skip("no page with a slider in this build")
    wrong = {}
    for path in pages:
        visit = open_page(path)
        page = visit.page
        page.wait_for_selector(".widget-slider", timeout=TIMEOUT_MS)
        widgets = page.locator(".widget-vbox", has=page.locator(".widget-slider"))
        for k in range(widgets.count()):
            widget = widgets.nth(k)
            readout = widget.locator(".widget-readout").first
            widget.scroll_into_view_if_needed()
            widget.locator(".noUi-handle").first.focus()
            seen = []
            while True:
                frame = widget.element_handle().evaluate(_FRAME)
                value = readout.inner_text().strip()
                if frame is None or len(frame["alt"]) < MIN_ALT_CHARS or value not in frame["alt"]:
                    wrong.setdefault(path.name, []).append(f"slider {k + 1} at {value}: {frame}")
                seen.append(value)
                page.keyboard.press("ArrowRight")
                page.wait_for_timeout(150)
                if readout.inner_text().strip() in seen:  # the last frame: the slider stops
                    break
    assert not wrong, f"slider frames without their own alt text: {wrong}"


def test_every_page_is_under_1_mb(site: Path) -> None:
    sizes = {page.relative_to(site).as_posix(): page.stat().st_size for page in content_pages(site)}
    heavy = {name: size for name, size in sizes.items() if size >= MAX_PAGE_BYTES}
    assert not heavy, f"pages of 1 MB or more: {heavy}"


#: The chapters whose first result figure the issue asks to see on a wide screen as well.
WIDE_SCREEN_CHAPTERS = ("15-", "16-", "21-")
WIDE_VIEWPORT = {"width": 1920, "height": 1000}


def test_on_a_wide_screen_the_first_result_figure_keeps_the_column_width(site: Path, open_page) -> None:
    """At 1920 px the column does not grow past the width the figures are drawn for: the first
    result figure of chapters 15, 16 and 21 stays within 10 % of its width at 1400 px (a wider
    column would scale it up and blur it). Screenshots of both widths land beside the others."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    wrong = {}
    pages = [p for p in experiment_pages(site) if p.name.startswith(WIDE_SCREEN_CHAPTERS)]
    if not pages:
        pytest.skip("chapters 15, 16 and 21 are not in this build")
    for path in pages:
        visit = open_page(path)
        _settled(visit, path)
        narrow = visit.page.evaluate(_FIGURES)
        visit.page.set_viewport_size(WIDE_VIEWPORT)
        wide = visit.page.evaluate(_FIGURES)
        first = _first_result_figure(visit.page)
        first.scroll_into_view_if_needed()
        visit.page.screenshot(path=str(SHOTS / f"{path.stem}-first-figure-1920.png"))
        if not wide["figures"] or abs(wide["figures"][0]["width"] / narrow["figures"][0]["width"] - 1) > WIDTH_TOLERANCE:
            wrong[path.name] = {"1400 px": narrow["figures"][:1], "1920 px": wide["figures"][:1]}
    assert not wrong, f"first figures that change width on a 1920 px screen: {wrong}"
