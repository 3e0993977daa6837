"""training.ipynb in a real browser: JupyterLab + Debian Chromium driven by Playwright.

Opens training.ipynb, runs its cell, presses Train, watches the loss curve grow across three
screenshots, presses Stop (stopped state, a "stop" checkpoint listed), presses Resume (the step axis
continues from the stopped step, it does not restart at 1), stops again. No page errors and no
request off the test server. Screenshots go to test-artifacts/browser/training-*.png.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.jupyter import Server, jupyter_lab, lab_folders, open_and_run_first_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
STEP_RE = re.compile(r"step (\d+) / (\d+)")

# points of the train-loss line as drawn (bqplot writes one "L" per point after the first "M")
LOSS_POINTS_JS = """() => {
  const fig = document.querySelector(".tbw-curve-loss");
  const path = fig && fig.querySelector("path.line");
  const d = path ? path.getAttribute("d") || "" : "";
  return d ? (d.match(/[ML]/g) || []).length : 0;
}"""
FIRST_X_JS = """() => {
  const path = document.querySelector(".tbw-curve-loss path.line");
  const m = path && /M\\s*([-\\d.e]+)/.exec(path.getAttribute("d") || "");
  return m ? parseFloat(m[1]) : null;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root, base = lab_folders(tmp_path_factory.mktemp("lab"))
    shutil.copy(REPO / "training.ipynb", root / "training.ipynb")
    # the notebook trains through the Python control only when this is set: here the test presses Train
    env = {"TBWIDGETS_NOTEBOOK_TRAIN_STEPS": "", "TBWIDGETS_CACHE_DIR": str(base / "cache"), "GIST_ID": ""}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with jupyter_lab(root, env, ARTIFACTS / "training-jupyter.log") as srv:
        yield srv


def shot(page: Any, name: str) -> None:
    page.locator(".tbw-train").first.screenshot(path=str(ARTIFACTS / f"training-{name}.png"))


def status(page: Any) -> tuple[str, int]:
    text = page.locator(".tbw-train-status").first.inner_text()
    found = STEP_RE.search(text)
    return text, int(found.group(1)) if found else 0


def wait_step_above(page: Any, step: int, timeout: float = 180.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _text, now = status(page)
        if now > step:
            return now
        time.sleep(0.3)
    raise AssertionError(f"training did not pass step {step}: {status(page)[0]!r}")


def test_train_stop_resume_in_jupyterlab(server: Server, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 2400})
    try:
        run_through(page, server)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "training-99-failure.png"), full_page=True)  # what went wrong
        raise


def run_through(page: Any, server: Server) -> None:
    watch = open_and_run_first_cell(page, server, "training.ipynb")
    page.wait_for_selector(".tbw-badge-ready", timeout=100_000)
    page.wait_for_selector(".tbw-train .tbw-train-train", timeout=60_000)
    assert "Train the loaded model below" in page.locator(".tbw-tier3").inner_text()
    page.locator(".tbw-train").first.scroll_into_view_if_needed()
    assert page.locator(".tbw-curve-loss").is_hidden()  # no empty axes before the first step
    shot(page, "01-ready")

    page.locator(".tbw-train-train").click()
    points = []
    for i in (2, 3, 4):  # the curve grows between screenshots
        step = wait_step_above(page, 8 * (i - 1) + (points[-1] if points else 0))
        page.wait_for_function(f"() => ({LOSS_POINTS_JS})() >= {min(step, 8 * (i - 1))}", timeout=30_000)
        points.append(page.evaluate(LOSS_POINTS_JS))
        shot(page, f"0{i}-training")
    assert points[0] < points[1] < points[2], f"the loss curve did not grow: {points}"
    first_x = page.evaluate(FIRST_X_JS)

    page.locator(".tbw-train-stop").click()
    page.wait_for_function(
        "() => /Stopped: step/.test(document.querySelector('.tbw-train-status').innerText)", timeout=60_000
    )
    _text, stopped_at = status(page)
    checkpoints = page.locator(".tbw-train-checkpoints").first
    page.wait_for_function(
        f"() => /step {stopped_at} · stop/.test(document.querySelector('.tbw-train-checkpoints').innerText)",
        timeout=30_000,
    )
    assert checkpoints.get_by_role("button", name="Resume from here").count() >= 1
    assert checkpoints.get_by_role("button", name="Load weights into the model").count() >= 1
    shot(page, "05-stopped")

    # hover points carry the step/value tooltip (bqplot Lines have none per point)
    page.locator(".tbw-curve-loss .dot").last.hover(force=True)
    tooltip = page.locator(".bqplot_tooltip_div").filter(has_text="step")
    tooltip.first.wait_for(state="visible", timeout=10_000)
    assert re.search(r"step\s*\d+", tooltip.first.inner_text()) and "loss" in tooltip.first.inner_text()
    page.locator(".tbw-curve-loss").first.screenshot(path=str(ARTIFACTS / "training-05-tooltip.png"))
    page.mouse.move(0, 0)

    page.locator(".tbw-train-resume").click()
    resumed = wait_step_above(page, stopped_at + 5)
    page.wait_for_function(f"() => ({LOSS_POINTS_JS})() > {stopped_at + 3}", timeout=30_000)
    drawn = page.evaluate(LOSS_POINTS_JS)
    assert drawn > stopped_at, f"after Resume the curve restarted: {drawn} points, stopped at {stopped_at}"
    assert page.evaluate(FIRST_X_JS) == pytest.approx(first_x, abs=1.0)  # same origin: step 1 stays step 1
    assert resumed > stopped_at and "Training: step" in status(page)[0]
    shot(page, "06-resumed")

    page.locator(".tbw-train-stop").click()
    page.wait_for_function(
        "() => /Stopped: step/.test(document.querySelector('.tbw-train-status').innerText)", timeout=60_000
    )
    shot(page, "07-stopped-again")
    assert not watch.crashes, watch.crashes
    assert not watch.outside, watch.outside
