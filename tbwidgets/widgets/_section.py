"""What the Search and Benchmarks sections share: one job in a worker thread, redrawn by a timer.

The worker only records into the section's `record` (thread-safe, with a `seq` that grows on every
change); a `CurveTimer` calls `_redraw` at most every `interval` seconds and once more, final, when the
job ends. Stop sets the engine's stop event, so the running training ends within one optimizer step.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

from tbwidgets.widgets._curves import CurveTimer
from tbwidgets.widgets._search_record import RUNNING, STOPPING


class WorkerSection:
    """Base of a Tier 3 section; subclasses set `kind`, `record` and draw in `_redraw`."""

    kind = "section"  # names the worker and timer threads: tbwidgets-<kind>
    record: Any  # the job's thread-safe record: phase, seq, snapshot(), set_phase()

    def __init__(self, host: Any, interval: float) -> None:
        self.host, self.interval = host, interval
        self._thread: threading.Thread | None = None
        self._timer: CurveTimer | None = None
        self._drawn = -1

    # -- hooks ----------------------------------------------------------------------------------------
    def _stop_event(self) -> threading.Event:
        raise NotImplementedError

    def _outcome(self) -> Any:
        """What `wait()` returns once the job ended."""
        raise NotImplementedError

    def _clear(self) -> None:
        """Forget the last job (a new model): a fresh record and empty views."""
        raise NotImplementedError

    def _redraw(self, final: bool) -> None:
        raise NotImplementedError

    # -- shared control -------------------------------------------------------------------------------
    def _loaded_model(self) -> Any:
        return loaded_model(self.host)

    def _launch(self, work: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.record.set_phase(RUNNING)
        self._thread = threading.Thread(target=work, args=args, name=f"tbwidgets-{self.kind}", daemon=True)
        self._thread.start()
        if self._timer is not None:
            self._timer.stop()
        self._timer = CurveTimer(self._tick, self.interval, name=f"tbwidgets-{self.kind}").start()

    def _tick(self, final: bool) -> None:
        self._redraw(final)
        if not final and not self.active and self._timer is not None:
            self._timer.stop(wait=False)  # one last, final redraw follows

    def stop(self) -> None:
        """Stop within one optimizer step; what finished so far stays."""
        if self.record.phase == RUNNING:
            self._stop_event().set()
            self.record.set_phase(STOPPING)
        self._redraw(False)

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the job ended and the section showed it."""
        if self._thread is not None:
            self._thread.join(timeout)
        if self._timer is not None and not self.active:
            self._timer.stop()
        self._redraw(True)
        return self._outcome()

    def reset(self) -> None:
        """A new model: stop the job on the old one (waiting for it) and clear the section."""
        self.stop()
        if self._thread is not None:
            self._thread.join(60)
        if self._timer is not None:
            self._timer.stop()
        self._clear()
        self._redraw(True)

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def loaded_model(host: Any) -> Any:
    """The host's model, or an error saying why a Tier 3 job cannot start now."""
    loaded = getattr(host, "loaded", None)
    if loaded is None:
        raise RuntimeError(
            "No model is loaded: load one in the header first (or wait until loading finished)."
        )
    if getattr(host, "busy", False):
        raise RuntimeError("Tier 1 or Tier 2 is running on this model: wait for it or press Stop first.")
    return loaded


def tag(prefix: str, widgets: dict[str, Any]) -> None:
    """CSS classes the browser tests find widgets by: `prefix` for "", else `prefix-<name>`."""
    for name, widget in widgets.items():
        widget.add_class(f"{prefix}-{name}" if name else prefix)


def problem_html(problem: Any) -> str:
    """A failed job's cause and fix, as an alert under the status line ("" when there is none)."""
    if problem is None:
        return ""
    return (
        f"<div role='alert' style='color:#b00020'>⚠ {html.escape(problem.cause)}<br>"
        f"<b>What to do:</b> {html.escape(problem.fix)}</div>"
    )
