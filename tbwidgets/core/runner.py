"""The Runner: runs a suite check by check, isolating failures, and tells listeners what happens."""

from __future__ import annotations

import threading
import time
import traceback
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch

from tbwidgets.core.check import Check, Suite
from tbwidgets.core.context import BudgetExceeded, Cancelled, RunContext
from tbwidgets.core.events import (
    CheckFinished,
    CheckProgress,
    CheckStarted,
    Event,
    Listener,
    RunFinished,
    RunStarted,
)
from tbwidgets.core.memory import is_oom, oom_summary, release
from tbwidgets.core.report import Report
from tbwidgets.core.result import CheckResult, Status

if TYPE_CHECKING:
    from tbwidgets.loading.model import LoadedModel


class Runner:
    """Runs checks on a loaded model; blocking with `run()`, or in a worker thread with `start()`."""

    def __init__(
        self,
        loaded: LoadedModel,
        checks: Suite | Sequence[Check],
        *,
        device: torch.device | str | None = None,
        seed: int = 0,
        listeners: Iterable[Listener] = (),
        budget_scale: float = 1.0,
    ) -> None:
        self.loaded = loaded
        self.checks = list(checks.checks if isinstance(checks, Suite) else checks)
        self.listeners = list(listeners)
        self.budget_scale = budget_scale
        self.run_id = uuid.uuid4().hex[:12]
        self.cancel_event = threading.Event()
        self.context = RunContext(
            loaded, device=device, seed=seed, cancel_event=self.cancel_event, on_progress=self._progress
        )
        self._thread: threading.Thread | None = None
        self._report: Report | None = None

    # -- public API -----------------------------------------------------------------------------
    def run(self) -> Report:
        """Run every check in this thread and return the report."""
        started = time.time()
        total = len(self.checks)
        self._emit(RunStarted(self.run_id, [c.check_id for c in self.checks], [c.title for c in self.checks]))
        results: list[CheckResult] = []
        for index, check in enumerate(self.checks):
            if self.cancel_event.is_set():
                results.append(_not_run(check, "Not run: the run was stopped before this check."))
                continue
            self._emit(CheckStarted(self.run_id, check.check_id, index, total))
            result = self._run_one(check)
            results.append(result)
            self._emit(CheckFinished(self.run_id, result, index, total))
        report = Report(
            results=results,
            model=self.loaded.describe(),
            started_at=started,
            duration_s=time.time() - started,
            cancelled=self.cancel_event.is_set(),
        )
        self._report = report
        self.context.clear()  # cached forwards (logits of B×T×V) must not outlive the run
        release(self.context.device, collect=False)  # checks leave no cycles; a full gc costs 0.3 s
        self._emit(RunFinished(self.run_id, report, report.cancelled))
        return report

    def start(self) -> Runner:
        """Run in a daemon worker thread; use `cancel()` and `wait()`."""
        if self._thread is not None:
            raise RuntimeError("This runner was already started; create a new Runner to run again.")
        self._thread = threading.Thread(target=self.run, name=f"tbwidgets-run-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the running check to stop at its next step; later checks are not run."""
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> Report | None:
        """Block until the worker finishes (or `timeout` passes); return the report if done."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._report

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def report(self) -> Report | None:
        return self._report

    # -- internals ------------------------------------------------------------------------------
    def _run_one(self, check: Check) -> CheckResult:
        t0 = time.perf_counter()
        budget = check.budget_s * self.budget_scale if check.budget_s else None
        self.context.begin_check(check.check_id, budget)
        try:
            reason = check.skip_reason(self.context)
            if reason:
                return check.result(Status.SKIPPED, reason)
            with _seeded_rng(self.context.seed, check.check_id, self.context.device):
                result = check.run(self.context)
        except Cancelled:
            result = check.result(Status.SKIPPED, "Stopped by the user before this check finished.")
        except BudgetExceeded:
            result = check.result(
                Status.ERROR,
                f"Ran past its time budget of {budget:.0f} s and was stopped.",
                "The model may be too large for this device, or the check's settings too heavy. "
                "Run it alone with a larger budget, or on a GPU.",
            )
        except Exception as exc:  # noqa: BLE001 - isolation is the point: one crash must not end the suite
            result = self._crashed(check, exc)
        finally:  # one check's freed blocks (CUDA cache, CPU heap) must not pile up under the next
            release(self.context.device, collect=self.context.device.type == "cuda")
        return _with_duration(result, time.perf_counter() - t0)

    def _crashed(self, check: Check, exc: Exception) -> CheckResult:
        if is_oom(exc):  # the device is too small for this step: a verdict on the device, not a crash
            summary = oom_summary(exc, self.context.device)
            exc.__traceback__ = None  # its frames hold the tensors that filled the memory
            release(self.context.device)
            return check.result(
                Status.SKIPPED,
                summary,
                "The check needs more memory than this device has free. Run it on a machine with more "
                "memory (a GPU), free memory held by other objects, or lower the check's batch and "
                "length settings.",
            )
        return check.result(
            Status.ERROR,
            f"The check crashed: {type(exc).__name__}: {_first_line(exc)}",
            "This is a problem in the check or an unexpected model behaviour; the traceback is attached.",
            error=traceback.format_exc(),
        )

    def _progress(self, check_id: str, fraction: float, note: str) -> None:
        self._emit(CheckProgress(self.run_id, check_id, fraction, note))

    def _emit(self, event: Event) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a broken display must never break the run
                traceback.print_exc()


def _not_run(check: Check, summary: str) -> CheckResult:
    return check.result(Status.SKIPPED, summary)


def _with_duration(result: CheckResult, duration: float) -> CheckResult:
    from dataclasses import replace

    return replace(result, duration_s=duration)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


@contextmanager
def _seeded_rng(seed: int, check_id: str, device: torch.device) -> Iterator[None]:
    """Seed torch's global RNG per check (dropout, init in copies), restoring the user's state after.

    The seed mixes in the check id, so a check gives the same numbers alone or inside a suite.
    """
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed + zlib.crc32(check_id.encode()))
        yield
