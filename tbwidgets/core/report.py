"""Report: the results of one run, with exports (DataFrame, JSON, self-contained HTML, JUnit XML)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tbwidgets.core.result import CheckResult, Status, worst

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Report:
    """Results of one run plus what was run on (model facts and provenance)."""

    results: Sequence[CheckResult]
    model: Mapping[str, Any] = field(default_factory=dict)
    started_at: float = 0.0
    duration_s: float = 0.0
    cancelled: bool = False

    @property
    def status(self) -> Status:
        """The worst status of all results."""
        return worst([r.status for r in self.results])

    @property
    def ok(self) -> bool:
        """True when nothing failed or errored (what the CLI's exit code reflects)."""
        return not any(r.status.is_problem for r in self.results)

    def __getitem__(self, check_id: str) -> CheckResult:
        for result in self.results:
            if result.check_id == check_id:
                return result
        raise KeyError(check_id)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(r.status is s for r in self.results) for s in Status}

    def to_frame(self) -> pd.DataFrame:
        """One row per check: id, title, status, summary, duration, then one column per metric."""
        import pandas as pd

        rows = []
        for r in self.results:
            row: dict[str, Any] = {
                "check_id": r.check_id,
                "title": r.title,
                "status": r.status.value,
                "summary": r.summary,
                "duration_s": round(r.duration_s, 3),
            }
            row.update({f"metric.{k}": v for k, v in r.to_dict()["metrics"].items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "cancelled": self.cancelled,
            "incomplete": self.cancelled,  # stopped early: checks marked "Not run" are missing, not passed
            "duration_s": round(self.duration_s, 3),
            "started_at": self.started_at,
            "counts": self.counts(),
            "model": _jsonable(dict(self.model)),
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """JSON text of `to_dict()`; also written to `path` when given."""
        text = json.dumps(strict_json(self.to_dict()), indent=indent, default=str, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML page (inline CSS, no scripts from the network)."""
        from tbwidgets.core.render import report_html

        text = report_html(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_junit(self, path: str | Path | None = None) -> str:
        """JUnit XML so CI systems show each check as a test case."""
        from tbwidgets.core.render import report_junit

        text = report_junit(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        name = self.model.get("name", "model")
        return f"<Report {name}: {self.status.value} ({counts or 'no checks'})>"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def strict_json(value: Any) -> Any:
    """Replace NaN and infinities (anywhere: metrics, tables, model facts) with None: strict JSON has none."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value
