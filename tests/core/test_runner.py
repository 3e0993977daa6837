"""Runner: event order, error isolation, skips, cancellation, time budgets, worker threads."""

from __future__ import annotations

import threading
import time

from tbwidgets.core import (
    CheckFinished,
    CheckProgress,
    CheckStarted,
    Event,
    RunFinished,
    Runner,
    RunStarted,
    Status,
)
from tests.core.helpers import CrashingCheck, FixedCheck, SkippingCheck, SteppingCheck, tiny_loaded


def test_events_arrive_in_order() -> None:
    events: list[Event] = []
    Runner(
        tiny_loaded(), [FixedCheck(check_id="a"), FixedCheck(check_id="b")], listeners=[events.append]
    ).run()
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "RunStarted",
        "CheckStarted", "CheckProgress", "CheckFinished",
        "CheckStarted", "CheckProgress", "CheckFinished",
        "RunFinished",
    ]  # fmt: skip
    assert isinstance(events[0], RunStarted) and list(events[0].check_ids) == ["a", "b"]
    assert isinstance(events[2], CheckProgress) and events[2].fraction == 0.5 and events[2].note == "halfway"
    finished = [e for e in events if isinstance(e, CheckFinished)]
    assert [e.result.check_id for e in finished] == ["a", "b"] and finished[1].index == 1
    assert isinstance(events[-1], RunFinished) and not events[-1].cancelled


def test_a_crash_becomes_error_and_the_suite_goes_on() -> None:
    report = Runner(tiny_loaded(), [CrashingCheck(), FixedCheck()]).run()
    crash, after = report.results
    assert crash.status is Status.ERROR
    assert "ZeroDivisionError: planted crash" in crash.summary
    assert crash.error is not None and "Traceback" in crash.error
    assert after.status is Status.PASS
    assert report.status is Status.ERROR and not report.ok


def test_unmet_requirement_is_skipped_with_its_reason() -> None:
    report = Runner(tiny_loaded(), [SkippingCheck()]).run()
    assert report.results[0].status is Status.SKIPPED
    assert "CUDA" in report.results[0].summary
    assert report.ok


def test_cancel_stops_within_a_step_and_skips_the_rest() -> None:
    runner = Runner(tiny_loaded(), [SteppingCheck(steps=1000, step_s=0.01), FixedCheck()])

    def stop_after_a_few_steps(event: Event) -> None:
        if isinstance(event, CheckProgress) and event.fraction >= 0.005:
            runner.cancel()

    runner.listeners.append(stop_after_a_few_steps)
    t0 = time.perf_counter()
    report = runner.run()
    assert time.perf_counter() - t0 < 1.0  # 1000 steps would take 10 s
    stepping, later = report.results
    assert stepping.status is Status.SKIPPED and "Stopped by the user" in stepping.summary
    assert later.status is Status.SKIPPED and "stopped before this check" in later.summary
    assert report.cancelled


def test_time_budget_ends_a_slow_check_as_error() -> None:
    report = Runner(tiny_loaded(), [SteppingCheck(steps=1000, step_s=0.01, budget_s=0.1), FixedCheck()]).run()
    slow, after = report.results
    assert slow.status is Status.ERROR and "time budget" in slow.summary
    assert slow.duration_s < 1.0
    assert after.status is Status.PASS


def test_worker_thread_mode_can_be_cancelled_and_waited_for() -> None:
    started = threading.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, CheckStarted):
            started.set()

    runner = Runner(tiny_loaded(), [SteppingCheck(steps=1000, step_s=0.01)], listeners=[on_event]).start()
    assert started.wait(5)
    assert runner.running
    t0 = time.perf_counter()
    runner.cancel()
    report = runner.wait(5)
    assert time.perf_counter() - t0 < 1.0
    assert report is not None and report.cancelled and not runner.running


def test_a_broken_listener_does_not_break_the_run(capsys: object) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("display bug")

    report = Runner(tiny_loaded(), [FixedCheck()], listeners=[broken]).run()
    assert report.results[0].status is Status.PASS


def test_checks_get_reproducible_random_tokens() -> None:
    a = Runner(tiny_loaded(), [], seed=3).context.random_tokens(2, 5)
    b = Runner(tiny_loaded(), [], seed=3).context.random_tokens(2, 5)
    c = Runner(tiny_loaded(), [], seed=4).context.random_tokens(2, 5)
    assert a.equal(b) and not a.equal(c)
    assert int(a.max()) < 16


class RandomCheck(FixedCheck):
    """Reports a draw from torch's global RNG, as dropout or a re-initialised copy would use it."""

    def run(self, ctx):  # type: ignore[no-untyped-def]
        import torch

        return self.result(Status.PASS, "drew", metrics={"draw": float(torch.rand(()))})


def test_global_rng_is_seeded_per_check_and_the_users_state_is_restored() -> None:
    import torch

    loaded = tiny_loaded()  # building a model draws from the RNG itself
    torch.manual_seed(123)
    expected_next = torch.rand(())
    torch.manual_seed(123)
    first = Runner(loaded, [RandomCheck(check_id="r.a"), RandomCheck(check_id="r.b")]).run()
    assert torch.rand(()) == expected_next  # the run did not advance the user's RNG
    again = Runner(tiny_loaded(), [RandomCheck(check_id="r.b")]).run()
    draws = [r.metrics["draw"] for r in first.results]
    assert draws[0] != draws[1]  # each check gets its own stream
    assert again.results[0].metrics["draw"] == draws[1]  # same number alone as inside the suite
