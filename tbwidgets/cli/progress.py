"""CLI listeners: a live status line on a terminal, plain one-line-per-event text otherwise.

Both write through `console.fit`, so a summary holding "≤" or "—" prints under any encoding.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from tbwidgets.cli.console import fit
from tbwidgets.core import CheckFinished, CheckProgress, CheckStarted, Event, RunFinished, RunStarted

STATUS_MARKS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "error": "ERROR", "skipped": "SKIP"}


class PlainProgress:
    """One line when a check starts and one when it finishes: readable in CI logs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._write(f"Running {len(event.check_ids)} checks")
        elif isinstance(event, CheckStarted):
            self._write(f"[{event.index + 1}/{event.total}] {event.check_id} ...")
        elif isinstance(event, CheckFinished):
            r = event.result
            self._write(
                f"[{event.index + 1}/{event.total}] {r.check_id}: {STATUS_MARKS[r.status.value]} {r.summary}"
            )

    def _write(self, line: str) -> None:
        print(fit(line, self.stream), file=self.stream, flush=True)


class LiveProgress:
    """A status line redrawn in place (at most ~10 times a second), finished checks scroll above it."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.min_interval_s = min_interval_s
        self._last_draw = 0.0
        self._position = ""

    def __call__(self, event: Event) -> None:
        if isinstance(event, CheckStarted):
            self._position = f"[{event.index + 1}/{event.total}] {event.check_id}"
            self._draw(0.0, "", force=True)
        elif isinstance(event, CheckProgress):
            self._draw(event.fraction, event.note)
        elif isinstance(event, CheckFinished):
            r = event.result
            self.clear()
            line = f"{STATUS_MARKS[r.status.value]:<5} {r.check_id:<28} {r.duration_s:6.2f}s  {r.summary}"
            print(fit(line, self.stream), file=self.stream, flush=True)
        elif isinstance(event, RunFinished):
            self.clear()

    def _draw(self, fraction: float, note: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < self.min_interval_s:
            return
        self._last_draw = now
        width = shutil.get_terminal_size((100, 20)).columns
        filled = int(fraction * 20)
        line = f"{self._position} [{'#' * filled}{'.' * (20 - filled)}] {fraction:4.0%} {note}"
        self.stream.write("\r" + fit(line[: width - 1].ljust(width - 1), self.stream))
        self.stream.flush()

    def clear(self) -> None:
        """Erase the status line (before other output, e.g. after Ctrl-C)."""
        width = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r" + " " * (width - 1) + "\r")
        self.stream.flush()
