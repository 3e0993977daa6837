"""TierBoard: rows from Runner events, stale events ignored, unrun checks finalised at the end."""

from __future__ import annotations

from tbwidgets.core import CheckResult, Report, Status
from tbwidgets.core.events import CheckFinished, CheckProgress, CheckStarted, RunFinished, RunStarted
from tbwidgets.widgets._state import TierBoard, result_details


def _result(check_id: str, status: Status = Status.PASS) -> CheckResult:
    return CheckResult(check_id, status, f"{check_id} ok", "why", title=check_id, duration_s=0.5)


def test_events_drive_rows_progress_and_results() -> None:
    board = TierBoard("tier1", "Tier 1")
    board.apply(RunStarted("r1", ["a", "b"], ["A", "B"]))
    assert [r["status"] for r in board.rows] == ["pending", "pending"] and board.state == "running"
    board.apply(CheckStarted("r1", "a", 0, 2))
    board.apply(CheckProgress("r1", "a", 0.5, "half"))
    assert board.progress == 0.25 and board.rows[0]["note"] == "half"
    assert board.apply(CheckFinished("r1", _result("a"), 0, 2)) == {"rows", "results"}
    assert board.progress == 0.5 and board.results["a"]["details"] == "why"
    stopped = _result("b", Status.SKIPPED)  # not run after Stop: no CheckFinished, only the report
    board.apply(RunFinished("r1", Report([_result("a"), stopped], cancelled=True), True))
    assert board.state == "stopped" and [r["status"] for r in board.rows] == ["pass", "skipped"]
    assert board.view()["counts"]["skipped"] == 1


def test_events_of_an_earlier_run_are_ignored() -> None:
    board = TierBoard("tier1", "Tier 1")
    board.apply(RunStarted("old", ["a"], ["A"]))
    board.apply(RunStarted("new", ["a"], ["A"]))
    assert board.apply(CheckFinished("old", _result("a"), 0, 1)) == set()
    assert board.rows[0]["status"] == "pending"


def test_details_are_bounded() -> None:
    rows = [{"i": i} for i in range(500)]
    details = result_details(CheckResult("x", Status.ERROR, "s", table=rows, error="E" * 10_000))
    assert len(details["table"]) == 50 and details["table_total"] == 500
    assert len(details["error"]) == 4000
