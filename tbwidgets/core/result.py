"""Check results as plain, frozen data: what a check found, never how it is shown."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """Verdict of one check. `str` mixin (not StrEnum) keeps Python 3.10 support."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value

    @property
    def severity(self) -> int:
        """Rank of a status among those that ran (skipped sits between pass and warn)."""
        return _SEVERITY[self]

    @property
    def is_problem(self) -> bool:
        """True for the statuses that make a CLI run exit non-zero."""
        return self in (Status.FAIL, Status.ERROR)


_SEVERITY = {Status.PASS: 0, Status.SKIPPED: 1, Status.WARN: 2, Status.FAIL: 3, Status.ERROR: 4}


def worst(statuses: Sequence[Status]) -> Status:
    """The most severe status of the checks that ran; skipped only when nothing ran.

    A skip says "not applicable here" (no causal mask to test on a classifier), not "worse than a
    pass": a healthy run with some skips is a pass. An empty run counts as skipped, never as pass.
    """
    ran = [s for s in statuses if s is not Status.SKIPPED]
    return max(ran, key=lambda s: s.severity, default=Status.SKIPPED)


@dataclass(frozen=True)
class CheckResult:
    """What one check found.

    `summary` is one line; `details` says why it matters and what to try. `metrics` hold plain
    floats, `table` plain rows, `artifacts` arrays for views (never display objects).
    """

    check_id: str
    status: Status
    summary: str
    details: str = ""
    title: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    table: Sequence[Mapping[str, Any]] | None = None
    artifacts: Mapping[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    error: str | None = None

    def to_dict(self, *, artifacts: bool = False) -> dict[str, Any]:
        """JSON-ready dict; artifacts (large arrays) are left out unless asked for."""
        out: dict[str, Any] = {
            "check_id": self.check_id,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "details": self.details,
            "metrics": {k: _plain_number(v) for k, v in self.metrics.items()},
            "table": [dict(row) for row in self.table] if self.table is not None else None,
            "duration_s": round(self.duration_s, 4),
            "error": self.error,
        }
        if artifacts:
            out["artifacts"] = dict(self.artifacts)
        return out


def _plain_number(value: Any) -> float | int | bool | str | None:
    """Metrics may arrive as numpy/torch scalars; JSON wants plain numbers (NaN becomes None)."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None
