"""Small checks with scripted behaviour, so widget tests do not depend on the real suites."""

from __future__ import annotations

import time
from collections.abc import Callable

from tbwidgets.core import Check, CheckResult, RunContext, Status


class QuickCheck(Check):
    """Passes after a few progress steps; reports a metric and a table."""

    check_id = "fake.quick"
    title = "Quick check"
    tier = 1

    def __init__(self, steps: int = 5) -> None:
        self.steps = steps

    def run(self, ctx: RunContext) -> CheckResult:
        for i in range(self.steps):
            ctx.progress((i + 1) / self.steps, f"step {i + 1}")
        return self.result(
            Status.PASS,
            "All good.",
            "Why it matters: nothing.\n\nWhat to try: nothing.",
            metrics={"loss": 1.25},
            table=[{"layer": "a", "value": 1.0}, {"layer": "b", "value": 2.0}],
        )


class WarnCheck(QuickCheck):
    check_id = "fake.warn"
    title = "Warning check"

    def run(self, ctx: RunContext) -> CheckResult:
        ctx.progress(0.5)
        return self.result(Status.WARN, "Something to look at.", "Details of the warning.")


class ChattyCheck(Check):
    """Emits many progress events fast: the coalescer must keep messages to ≤ 10/s."""

    check_id = "fake.chatty"
    title = "Chatty check"
    tier = 1

    def __init__(self, events: int = 2000, seconds: float = 1.0) -> None:
        self.events = events
        self.seconds = seconds

    def run(self, ctx: RunContext) -> CheckResult:
        pause = self.seconds / self.events
        for i in range(self.events):
            ctx.progress(i / self.events, f"event {i}")
            time.sleep(pause)
        return self.result(Status.PASS, "Done chatting.")


class SlowCheck(Check):
    """Steps for a long time, honouring Stop at every step."""

    check_id = "fake.slow"
    title = "Slow check"
    tier = 1

    def __init__(self, seconds: float = 30.0) -> None:
        self.seconds = seconds

    def run(self, ctx: RunContext) -> CheckResult:
        t0 = time.monotonic()
        while time.monotonic() - t0 < self.seconds:
            ctx.progress((time.monotonic() - t0) / self.seconds, "working")
            time.sleep(0.02)
        return self.result(Status.PASS, "Finished slowly.")


class CrashCheck(Check):
    check_id = "fake.crash"
    title = "Crashing check"
    tier = 2

    def run(self, ctx: RunContext) -> CheckResult:
        raise ValueError("planted failure")


class NonFiniteCheck(Check):
    """Reports NaN/inf and numpy scalars, which the comm's strict JSON must never see."""

    check_id = "fake.nonfinite"
    title = "Non-finite numbers"
    tier = 1

    def run(self, ctx: RunContext) -> CheckResult:
        import numpy as np

        table = [
            {"name": "a", "norm": float("inf"), "ratio": float("nan"), "n": np.float32(1.5), "shape": (2, 3)}
        ]
        return self.result(
            Status.WARN, "Some numbers are not finite.", metrics={"x": float("nan")}, table=table
        )


def until(condition: Callable[[], object], timeout: float = 60.0) -> bool:
    """Poll `condition` every 50 ms until it holds (True) or `timeout` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False
