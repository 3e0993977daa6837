"""Work the validator does off the main thread: loading a model and running check suites.

Kept apart from the widget so the thread logic reads on its own: a `Worker` runs one job at a time
in a daemon thread, and its Stop event is shared with the Runner of the job's current suite.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from tbwidgets.core import Check

if TYPE_CHECKING:
    from tbwidgets.api import CheckSpec, TierSpec

TIER_KEYS = ("tier1", "tier2")


@dataclass(frozen=True)
class Problem:
    """An error to show in the widget: what happened and what to do."""

    cause: str
    fix: str
    trace: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"cause": self.cause, "fix": self.fix, "trace": self.trace}


def describe_problem(exc: BaseException) -> Problem:
    """LoadErrors carry their own cause and fix; anything else is shown with its traceback."""
    cause = getattr(exc, "cause", None)
    if cause:
        return Problem(str(cause), str(getattr(exc, "fix", "") or ""))
    return Problem(
        f"{type(exc).__name__}: {exc}",
        "This is unexpected: check the model code; if it looks fine, report it with the traceback below.",
        traceback.format_exc()[-4000:],
    )


def load_source(
    source: dict[str, Any],
    *,
    cancel: threading.Event | None = None,
    note: Callable[[str], None] | None = None,
) -> Any:
    """Call `load_model` with the widget's source arguments (None values left out).

    `cancel` is the Stop event: it also ends a model.py that hangs at import. `note` receives the
    loader's progress lines (bytes downloaded, the line a slow import is running).
    """
    from tbwidgets.loading import load_model

    kwargs = {k: v for k, v in source.items() if v is not None}
    positional = kwargs.pop("source", None)
    progress = (lambda event: note(event.message)) if note is not None else None
    return load_model(positional, cancel=cancel, progress=progress, **kwargs)


def plan(selection: int | str | Sequence[str | Check]) -> list[tuple[str, list[Check] | None]]:
    """Turn `.run()`'s argument into [(tier key, checks or None for the tier's suite)].

    Tiers as the API takes them (1, "tier2", "1,2", (1, 2), "all"); a text with a dot, or a list of
    texts, names checks.
    A selection that selects nothing or names something unknown raises, listing the valid choices.
    """
    from tbwidgets.api import SelectionError, normalize_tiers, select_checks

    if isinstance(selection, str) and selection.strip().lower() == "all":
        return [(key, None) for key in TIER_KEYS]
    if _names_tiers(selection):
        try:
            return [(f"tier{tier}", None) for tier in normalize_tiers(cast("TierSpec", selection))]
        except SelectionError as exc:
            raise SelectionError(f"{exc} run() also takes 'all' or check ids.") from None
    checks = select_checks(checks=cast("CheckSpec", selection))
    key = "tier2" if checks and all(c.tier == 2 for c in checks) else "tier1"
    return [(key, checks)]


def _names_tiers(selection: object) -> bool:
    """1, "2", "tier1", "1,2" or (1, 2) name tiers; "tier1.determinism" and lists of texts name checks."""
    if isinstance(selection, (int, str)):
        return "." not in str(selection)
    items = list(selection) if isinstance(selection, (list, tuple, set)) else []
    return bool(items) and all(isinstance(i, int) for i in items)


def suite_checks(key: str, tokenizer: Any = None) -> list[Check]:
    """The suite of one tier; Tier 2 reads its text through `tokenizer` when one is given."""
    from tbwidgets.checks import tier_suite
    from tbwidgets.checks.tier2 import tier2_suite

    suite = tier2_suite(tokenizer=tokenizer) if key == "tier2" else tier_suite(int(key[-1]))
    return list(suite.checks)


class Worker:
    """Runs queued jobs one after another in a daemon thread; `stop_event` is the cooperative Stop.

    A job queued while another runs (e.g. "run Tier 1" while the model loads) runs next; `stop()`
    drops queued jobs and signals the running one.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.stop_event = threading.Event()
        self._queue: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._thread is not None

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name=self.name, daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._queue.clear()
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the queue is drained; True when idle afterwards."""
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    return
                job = self._queue.pop(0)
                self.stop_event.clear()  # jobs still queued were submitted after the last stop()
            # jobs report their own errors in the widget; the worker must survive anything else
            with contextlib.suppress(Exception):
                job()
