"""Running `python -m tbwidgets` as users do: a real process, this repository's code, a chosen encoding.

`first_line` skips the "Loading model ..." progress line: the first line that explains is what the
golden tests read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROGRESS_LINES = ("Loading model ...",)


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment (fake gist API, cache dir) plus PYTHONPATH at this repository."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.setdefault("PYTHONIOENCODING", "utf-8")
    env.pop("GIST_ID", None)
    env.update(extra or {})
    return env


def run_cli(
    args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "tbwidgets", *args]
    return subprocess.run(cmd, cwd=cwd, env=cli_env(env), capture_output=True, text=True, timeout=timeout)


def first_line(stderr: str) -> str:
    """The first line that is not a progress line ("" if there is none)."""
    for line in stderr.splitlines():
        if line.strip() and line.strip() not in PROGRESS_LINES:
            return line.strip()
    return ""


@dataclass
class Interrupted:
    """What an interrupted run left: exit code, its streams, and how long it took to stop."""

    returncode: int
    stdout: str
    stderr: str
    stop_s: float


def interrupt_when(
    args: Sequence[str],
    cwd: Path,
    ready: Callable[[list[str]], bool],
    env: Mapping[str, str] | None = None,
    timeout: float = 240,
) -> Interrupted:
    """Start the CLI, send SIGINT as soon as `ready(stderr lines so far)` holds, wait for the end.

    `ready` is polled every 20 ms, so it may also look elsewhere (e.g. at the fake server's log).
    """
    cmd = [sys.executable, "-m", "tbwidgets", *args]
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=cli_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    done = threading.Event()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready(list(lines)):
        if done.is_set() or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the CLI was not interrupted where planned:\n{''.join(lines)}")
        time.sleep(0.02)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out = proc.stdout.read() if proc.stdout else ""
    proc.wait(timeout=60)
    stop_s = time.monotonic() - sent
    done.wait(10)
    return Interrupted(proc.returncode, out, "".join(lines), stop_s)
