"""The Tier 3 Search and Benchmarks sections in a real browser: JupyterLab + Debian Chromium (Playwright).

Opens a notebook with the widget on its Tier 3 tab (built-in example model), types a small search
(3 trials of 10 steps on `copy`) into the Search form, presses Start and watches trial rows appear
while trials run (two screenshots at least), then runs Benchmarks on the GLUE fixtures (SST-2, 20
steps) until the table shows the model beside its majority and same-budget baseline. No page errors
and no request off the test server. Screenshots go to test-artifacts/browser/search-*.png.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.jupyter import (
    Server,
    jupyter_lab,
    lab_folders,
    open_and_run_first_cell,
    write_code_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
GLUE = REPO / "tests" / "fixtures" / "glue"
CELL = """\
from tbwidgets import ValidatorWidget

w = ValidatorWidget(tab="tier3", autorun=None)
w"""
ROWS_JS = "() => document.querySelectorAll('.tbw-search-trials tr[class^=\"tbw-trial-\"]').length"
WATCH_RUNNING_JS = """() => {
  window.tbwSawBenchRunning = false;
  const seen = () => document.querySelector('.tbw-bench-results tr.tbw-bench-running') !== null;
  new MutationObserver(() => { if (seen()) window.tbwSawBenchRunning = true; })
    .observe(document.body, {childList: true, subtree: true});
}"""
DONE_JS = "() => /Done|Stopped|Failed/.test(document.querySelector('.tbw-search-status').innerText)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root, base = lab_folders(tmp_path_factory.mktemp("lab"))
    write_code_notebook(root / "search.ipynb", CELL)
    env = {"TBWIDGETS_CACHE_DIR": str(base / "cache"), "GIST_ID": "", "OMP_NUM_THREADS": "1"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with jupyter_lab(root, env, ARTIFACTS / "search-jupyter.log") as srv:
        yield srv


def shot(page: Any, section: str, name: str) -> None:
    page.locator(section).first.screenshot(path=str(ARTIFACTS / f"search-{name}.png"))


def fill(page: Any, selector: str, value: str) -> None:
    box = page.locator(f"{selector} input").first
    box.fill(value)
    box.press("Enter")  # number and text boxes sync to the kernel on Enter


def test_search_and_benchmarks_in_jupyterlab(server: Server, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 2000})
    try:
        run_through(page, server)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "search-99-failure.png"), full_page=True)  # what went wrong
        raise


def run_through(page: Any, server: Server) -> None:
    watch = open_and_run_first_cell(page, server, "search.ipynb")
    page.wait_for_selector(".tbw-badge-ready", timeout=100_000)
    page.wait_for_selector(".tbw-search .tbw-search-start", timeout=60_000)
    assert "Search (Optuna trials" in page.locator(".tbw-tier3").inner_text()

    fill(page, ".tbw-search-trials", "3")
    fill(page, ".tbw-search-steps", "10")
    page.locator(".tbw-search").first.scroll_into_view_if_needed()
    shot(page, ".tbw-search", "01-ready")
    page.locator(".tbw-search-start").click()
    page.wait_for_function(f"() => ({ROWS_JS})() >= 1", timeout=120_000)
    page.wait_for_selector(".tbw-search-trials tr.tbw-trial-running", timeout=60_000)
    shot(page, ".tbw-search", "02-first-trial-running")
    page.wait_for_function(f"() => ({ROWS_JS})() >= 2", timeout=180_000)
    rows_live = page.evaluate(ROWS_JS)
    still_running = not page.evaluate(DONE_JS)
    shot(page, ".tbw-search", "03-second-trial")
    page.wait_for_function(DONE_JS, timeout=240_000)
    status = page.locator(".tbw-search-status").first.inner_text()
    assert "Done" in status and "best val loss" in status, status
    assert page.evaluate(ROWS_JS) == 3 and rows_live >= 2 and still_running  # rows came in while it ran
    assert page.locator(".tbw-search-trials tr.tbw-trial-running").count() == 0
    assert page.locator(".tbw-search-history .scatter .dot, .tbw-search-history path.dot").count() >= 1
    assert page.locator(".tbw-search-curves path.line").count() >= 1
    shot(page, ".tbw-search", "04-search-done")

    fill(page, ".tbw-bench-data-dir", str(GLUE))
    fill(page, ".tbw-bench-steps", "20")
    fill(page, ".tbw-bench-batch", "8")  # the fixtures have 16 train examples
    page.locator(".tbw-bench").first.scroll_into_view_if_needed()
    page.evaluate(WATCH_RUNNING_JS)  # a short run can end between two polls: record every render
    page.locator(".tbw-bench-run").click()
    page.wait_for_function("() => window.tbwSawBenchRunning === true", timeout=120_000)
    if page.locator(".tbw-bench-results tr.tbw-bench-running").count():
        shot(page, ".tbw-bench", "05-bench-running")
    page.wait_for_selector(".tbw-bench-results tr.tbw-bench-row", timeout=240_000)
    page.wait_for_function(
        "() => /Done/.test(document.querySelector('.tbw-bench-status').innerText)", timeout=60_000
    )
    table = page.locator(".tbw-bench-results").first.inner_text()
    assert "sst2" in table and "accuracy" in table and "same-budget baseline" in table and "majority" in table
    row = page.locator(".tbw-bench-results tr.tbw-bench-row").first.inner_text().split("\t")
    assert len([c for c in row if c.strip()]) == 6, row  # task, metric, model, majority, baseline, steps
    time.sleep(0.5)  # let the export buttons' enabled state render
    shot(page, ".tbw-bench", "06-bench-done")
    assert not watch.crashes, watch.crashes
    assert not watch.outside, watch.outside
