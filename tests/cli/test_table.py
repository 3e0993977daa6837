"""Golden-text tests of the CLI's results table and progress lines."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from tbwidgets.cli.progress import PlainProgress
from tbwidgets.cli.table import results_table
from tbwidgets.core import Report, Runner, Status
from tests.core.helpers import CrashingCheck, FixedCheck, tiny_loaded

GOLDEN = Path(__file__).parent / "golden"


def _fixed_durations(report: Report) -> Report:
    return replace(
        report, results=[replace(r, duration_s=0.25 * (i + 1)) for i, r in enumerate(report.results)]
    )


def test_results_table_matches_golden() -> None:
    report = Runner(
        tiny_loaded(), [FixedCheck(Status.PASS, "t.pass"), FixedCheck(Status.WARN, "t.warn"), CrashingCheck()]
    ).run()
    text = results_table(_fixed_durations(report))
    assert text == (GOLDEN / "results_table.txt").read_text()


def test_cancelled_and_clean_verdicts() -> None:
    clean = Runner(tiny_loaded(), [FixedCheck()]).run()
    assert results_table(clean).endswith("Tiny: no failures (1 pass).")
    stopped = replace(clean, cancelled=True)
    assert results_table(stopped).endswith("Tiny: stopped before the end (1 pass).")


def test_plain_progress_matches_golden() -> None:
    out = io.StringIO()
    Runner(
        tiny_loaded(), [FixedCheck(Status.PASS, "t.pass"), CrashingCheck()], listeners=[PlainProgress(out)]
    ).run()
    assert out.getvalue() == (GOLDEN / "plain_progress.txt").read_text()
