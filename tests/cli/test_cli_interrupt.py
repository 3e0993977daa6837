"""Ctrl-C at any moment of `tbwidgets validate`: one line, no traceback, exit 130, and the results
finished so far written to every report, marked incomplete."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.subprocess_cli import cli_env, interrupt_when
from tests.fakes.gist_server import TB_EXAMPLE_GIST_ID, FakeGistAPI

pytestmark = pytest.mark.bad_input

REPORTS = ["--json", "r.json", "--html", "r.html", "--junit", "r.xml"]


def _said_loading(lines: list[str]) -> bool:
    return any(line.startswith("Loading model") for line in lines)


def _one_line(stderr: str) -> str:
    """The interrupt's own output: exactly one line after the progress lines, no traceback."""
    assert "Traceback" not in stderr
    tail = [line for line in stderr.splitlines() if line.startswith("Interrupted")]
    assert len(tail) == 1, stderr
    assert stderr.rstrip().endswith(tail[0])
    return tail[0]


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_ctrl_c_during_start_up_imports(tmp_path: Path, debug: bool) -> None:
    # "Loading model ..." is printed before torch and the checks are imported (seconds of start-up)
    args = ["validate", "--example", *REPORTS, *(["--debug"] if debug else [])]
    run = interrupt_when(args, tmp_path, _said_loading)
    assert run.returncode == 130, run.stderr
    assert not list(tmp_path.glob("r.*"))
    if debug:  # --debug still shows everything: where the interrupt landed
        assert "Traceback" in run.stderr and "KeyboardInterrupt" in run.stderr
        return
    assert "no check ran, so no report was written" in _one_line(run.stderr)


def test_ctrl_c_during_a_dripping_gist_fetch(fake_gist_env: FakeGistAPI, tmp_path: Path) -> None:
    fake_gist_env.add_tb_example()
    fake_gist_env.drip_next(0.5, path="/gists/")  # headers at once, then one byte every 0.5 s
    fetching = lambda lines: any("/gists/" in p for p in fake_gist_env.paths())  # noqa: E731
    run = interrupt_when(["validate", "--gist", TB_EXAMPLE_GIST_ID, *REPORTS], tmp_path, fetching)
    assert run.returncode == 130, run.stderr
    assert _one_line(run.stderr).startswith("Interrupted while loading the model")
    assert run.stop_s < 10  # promptly: not after the download's deadline
    assert not list(tmp_path.glob("r.*"))


def test_ctrl_c_during_a_slow_import_names_the_running_line(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.py").write_text("import time\n\ntime.sleep(120)\n")
    said_slow = lambda lines: any("still running" in line for line in lines)  # noqa: E731
    run = interrupt_when(["validate", "--path", "m", *REPORTS], tmp_path, said_slow)
    assert run.returncode == 130, run.stderr
    assert "line 3" in _one_line(run.stderr) and "time.sleep(120)" in run.stderr


def test_ctrl_c_during_the_checks_writes_partial_reports(tmp_path: Path) -> None:
    from tbwidgets.checks import tier_suite

    n = len(tier_suite(1).checks)

    def first_check_done(lines: list[str]) -> bool:
        return any(line.startswith(f"[1/{n}]") and ": PASS" in line for line in lines)

    run = interrupt_when(["validate", "--example", *REPORTS], tmp_path, first_check_done)
    assert run.returncode == 130, run.stderr
    line = _one_line(run.stderr)
    assert "partial results written to r.json, r.html, r.xml (marked incomplete)" in line
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["incomplete"] is True and data["cancelled"] is True
    statuses = [r["status"] for r in data["results"]]
    assert len(statuses) == n and statuses[0] == "pass"  # finished before Ctrl-C: kept
    not_done = [r for r in data["results"] if r["summary"].startswith(("Not run", "Not finished"))]
    assert 1 <= len(not_done) <= n - 1 and all(r["status"] == "skipped" for r in not_done)
    assert "Incomplete:" in (tmp_path / "r.html").read_text()
    assert '<property name="incomplete" value="true"' in (tmp_path / "r.xml").read_text()


def test_ctrl_c_on_a_terminal_clears_the_live_line_and_writes_partial_reports(tmp_path: Path) -> None:
    """stderr on a pseudo-terminal: the live status line is redrawn in place until Ctrl-C."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "tbwidgets", "validate", "--example", "--json", "r.json"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    screen = _read_until(master, lambda text: "PASS  tier1.shape_robustness" in text)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    screen += _read_until(master, lambda text: False, quiet_s=1.0)
    os.close(master)
    assert proc.returncode == 130, screen
    assert "Traceback" not in screen
    last = screen.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("Interrupted: ") and "partial results written to r.json" in last
    assert json.loads((tmp_path / "r.json").read_text())["incomplete"] is True


def _read_until(fd: int, done: Callable[[str], bool], quiet_s: float = 120.0) -> str:
    """Read a pty until `done(text)` or until nothing arrives for `quiet_s` (or the child closed it)."""
    text = ""
    while not done(text):
        ready, _, _ = select.select([fd], [], [], quiet_s)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child exited and closed its side
            break
        if not chunk:
            break
        text += chunk.decode("utf-8", "replace")
    return text
