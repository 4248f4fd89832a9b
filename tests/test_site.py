"""The course as a site (`python .ci/build_site.py`): every lesson executed in sim mode and
rendered by Sphinx + MyST-NB; opened in headless Chromium, every page shows its figures, has
no traceback and no broken link, and carries its Binder launch button."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))
import binder_link  # noqa: E402
import build_site  # noqa: E402

LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FIGURE_CALL = re.compile(r"\b(?:draw_\w+|plt\.|\.plot\()")
pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _missing() -> str | None:
    for module in ("sphinx", "myst_nb", "sphinx_book_theme", "selenium"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[test]')"
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if why := _missing():
        pytest.skip(why)
    return build_site.build(tmp_path_factory.mktemp("site") / "html")


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from test_browser_course import CHROMIUM_FLAGS

    opts = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-site')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _figure_cells(lesson: str) -> int:
    nb = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())
    return sum(1 for c in nb["cells"] if c["cell_type"] == "code"
               and FIGURE_CALL.search("".join(c["source"])))


def test_every_lesson_is_a_page_with_outputs(site: Path) -> None:
    for lesson in LESSONS:
        page = site / "notebooks" / f"{lesson}.html"
        assert page.exists(), f"{lesson} has no page"
        html = page.read_text()
        assert "Traceback (most recent call last)" not in html, f"{lesson}: a cell failed"
        assert 'class="cell_output' in html, f"{lesson}: no outputs (was it executed?)"


@pytest.mark.parametrize("page", ["index", *(f"notebooks/{n}" for n in LESSONS)])
def test_page_renders_its_figures_and_no_link_is_broken(site: Path, browser, page: str) -> None:
    path = site / f"{page}.html"
    browser.get(path.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    images = browser.execute_script(
        "return [...document.images].map(i => [i.getAttribute('src'), i.complete, "
        "i.naturalWidth, !!i.closest('.cell_output')])")
    broken = [src for src, done, width, _ in images if not (done and width > 0)]
    assert not broken, f"{page}: images that did not render: {broken}"
    lesson = page.removeprefix("notebooks/")
    if lesson in LESSONS and _figure_cells(lesson):
        shown = sum(1 for *_, in_output in images if in_output)
        assert shown >= 1, f"{page}: {_figure_cells(lesson)} cells draw a figure, none shown"
    links = browser.execute_script(
        "return [...document.querySelectorAll('a[href]')].map(a => a.href)")
    for href in links:
        url, anchor = urldefrag(href)
        parsed = urlparse(url)
        if parsed.scheme != "file":
            continue  # the launch and repository buttons: checked below, not fetched
        target = Path(unquote(parsed.path))
        assert target.exists(), f"{page}: broken link to {href}"
        if anchor and target.suffix == ".html":
            assert f'id="{anchor}"' in target.read_text(), f"{page}: no #{anchor} in {target}"
    if lesson in LESSONS:
        binder = [h for h in links if h.startswith("https://mybinder.org/v2/gh/")]
        expected = binder_link.binder_link().replace("00_start_here", lesson)
        assert expected in binder, f"{page}: no Binder launch button to {expected}: {binder}"
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"
              and not re.search(r"https?://(?!localhost)", e["message"])]  # offline: CDNs fail
    assert not severe, f"{page}: errors in the browser console: {severe}"
