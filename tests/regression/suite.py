"""Run every Tier 1 and Tier 2 check on a model and report what a healthy model must never get.

Each run prints its timing and appends a row to test-artifacts/regression_times.tsv (ignored by git),
from which the closing note's table of Tier 1 times is made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tbwidgets.api import select_checks
from tbwidgets.core import Runner
from tbwidgets.core.result import Status
from tbwidgets.loading import LoadedModel

TIMES = Path(__file__).resolve().parents[2] / "test-artifacts" / "regression_times.tsv"


@dataclass
class Outcome:
    tier1_s: float
    tier2_s: float
    bad: list[str]  # "check_id: status: summary" for every FAIL and ERROR
    warns: list[str]  # the same for WARN


def run_tiers(name: str, loaded: LoadedModel, load_s: float = 0.0) -> Outcome:
    """Tier 1 then Tier 2, timed apart; FAIL and ERROR rows are collected with their summaries."""
    bad: list[str] = []
    warns: list[str] = []
    times = []
    for tier in (1, 2):
        start = time.perf_counter()
        report = Runner(loaded, select_checks(tiers=(tier,)), seed=0).run()
        times.append(time.perf_counter() - start)
        for r in report.results:
            line = f"{r.check_id}: {r.status}: {r.summary}" + (f"\n{r.error}" if r.error else "")
            if r.status in (Status.FAIL, Status.ERROR):
                bad.append(line)
            elif r.status is Status.WARN:
                warns.append(line)
    verdict = "ok" if not bad else "FAIL/ERROR: " + "; ".join(b.split("\n")[0] for b in bad)
    print(
        f"\n[regression] {name}: load {load_s:.2f}s, tier 1 {times[0]:.1f}s, tier 2 {times[1]:.1f}s — {verdict}"
    )
    for line in warns:  # warnings are allowed, but shown: a healthy model should rarely get one
        print(f"[regression]   warn {line.splitlines()[0][:200]}")
    TIMES.parent.mkdir(exist_ok=True)
    with TIMES.open("a", encoding="utf-8") as f:
        f.write(f"{name}\t{load_s:.2f}\t{times[0]:.2f}\t{times[1]:.2f}\t{verdict}\n")
    return Outcome(times[0], times[1], bad, warns)
