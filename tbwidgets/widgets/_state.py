"""Plain-data state of the validator shell, built from Runner events (no widget code here).

A `TierBoard` holds one tier tab: its run state, one light row per check (what changes while a run
goes) and the full results (what changes once per finished check). They travel in separate traits so a
progress tick never re-sends the finished checks' details.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from tbwidgets.core.events import CheckFinished, CheckProgress, CheckStarted, Event, RunFinished, RunStarted
from tbwidgets.core.result import CheckResult

MAX_TABLE_ROWS = 50  # a row's detail table is for reading, not for data export (JSON has it all)
MAX_ERROR_CHARS = 4000  # a traceback's tail is what users need; keeps messages small
MAX_TEXT_CHARS = 2000  # one-line summaries and notes are clipped so a chatty check cannot flood the view

# Run states of a tier (mirrored in js/types.ts as TierRunState).
IDLE, RUNNING, STOPPING, DONE, STOPPED, FAILED = "idle", "running", "stopping", "done", "stopped", "error"
# Row states before a result exists; afterwards the row holds the result's Status value.
PENDING, ACTIVE, NOT_RUN = "pending", "running", "not-run"


def _clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def jsonable(value: Any) -> Any:
    """Plain JSON data: NaN/inf become None (the comm's JSON encoder rejects them), numpy/torch
    scalars become numbers, tuples become lists, anything else its text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:  # numpy or torch scalar
        return jsonable(value.item())
    return str(value)


def result_details(result: CheckResult) -> dict[str, Any]:
    """What a row shows when expanded: why/what to try, metrics, a bounded table, the error tail."""
    data = result.to_dict()
    table = data["table"]
    error = data["error"]
    return jsonable(
        {
            "details": data["details"],
            "metrics": data["metrics"],
            "table": table[:MAX_TABLE_ROWS] if table else None,
            "table_total": len(table) if table else 0,
            "error": error[-MAX_ERROR_CHARS:] if error else None,
        }
    )


class TierBoard:
    """One tier tab's state. Not thread-safe by itself: the widget guards it with its lock."""

    def __init__(self, key: str, label: str) -> None:
        self.key = key
        self.label = label
        self.state = IDLE
        self.message = ""
        self.run_id = ""
        self.rows: list[dict[str, Any]] = []
        self.results: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def show_registered(
        self, check_ids: Sequence[str], titles: Sequence[str], message: str = "", force: bool = False
    ) -> None:
        """Rows for the checks a run would use, before anything ran (shows what is registered).
        A running board keeps its rows unless `force` (its run was dropped, e.g. no model)."""
        if self.state in (RUNNING, STOPPING) and not force:
            return
        self.rows = [_row(cid, title, NOT_RUN) for cid, title in zip(check_ids, titles, strict=False)]
        self.results = {}
        self.counts = {}
        self.run_id = ""
        self.state = IDLE  # results of an earlier model must not show as this model's
        self.message = message

    def set_state(self, state: str, message: str = "") -> None:
        self.state = state
        self.message = message

    # -- events ---------------------------------------------------------------------------------
    def apply(self, event: Event) -> set[str]:
        """Update from one Runner event; returns which parts changed ("rows", "results")."""
        if isinstance(event, RunStarted):
            self.run_id = event.run_id
            self.rows = [
                _row(cid, title, PENDING) for cid, title in zip(event.check_ids, event.titles, strict=False)
            ]
            self.results = {}
            self.counts = {}
            self.state = RUNNING
            self.message = ""
            return {"rows", "results"}
        if getattr(event, "run_id", None) != self.run_id:
            return set()  # a late event of an earlier run must not touch this one
        if isinstance(event, CheckStarted):
            self._update_row(event.check_id, status=ACTIVE, progress=0.0)
            return {"rows"}
        if isinstance(event, CheckProgress):
            self._update_row(event.check_id, progress=event.fraction, note=_clip(event.note, 200))
            return {"rows"}
        if isinstance(event, CheckFinished):
            self._finish_row(event.result)
            return {"rows", "results"}
        if isinstance(event, RunFinished):
            for result in event.report.results:  # checks not run after a Stop get no CheckFinished
                if result.check_id not in self.results:
                    self._finish_row(result)
            self.counts = event.report.counts()
            self.state = STOPPED if event.cancelled else DONE
            self.message = ""  # the status line already says "Stopped" with the counts
            return {"rows", "results"}
        return set()

    def _update_row(self, check_id: str, **fields: Any) -> None:
        for row in self.rows:
            if row["id"] == check_id:
                row.update(fields)
                return

    def _finish_row(self, result: CheckResult) -> None:
        self._update_row(
            result.check_id,
            status=result.status.value,
            progress=1.0,
            note="",
            duration_s=round(result.duration_s, 3),
            summary=_clip(result.summary),
        )
        self.results[result.check_id] = result_details(result)

    # -- views ----------------------------------------------------------------------------------
    @property
    def progress(self) -> float:
        """Overall fraction: finished checks plus the running check's own fraction."""
        if not self.rows:
            return 0.0
        done = sum(1.0 if r["status"] not in (PENDING, ACTIVE, NOT_RUN) else r["progress"] for r in self.rows)
        return round(done / len(self.rows), 4)

    def view(self) -> dict[str, Any]:
        """The light trait value: sent on every (coalesced) progress tick."""
        return {
            "label": self.label,
            "state": self.state,
            "message": self.message,
            "run_id": self.run_id,
            "progress": self.progress,
            "counts": dict(self.counts),
            "rows": [dict(r) for r in self.rows],
        }

    def results_view(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "results": dict(self.results)}


def _row(check_id: str, title: str, status: str) -> dict[str, Any]:
    return {
        "id": check_id,
        "title": title or check_id,
        "status": status,
        "progress": 0.0,
        "note": "",
        "duration_s": None,
        "summary": "",
    }


def header_view(describe: Mapping[str, Any], missing: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """Header fields from `LoadedModel.describe()` (plain data only)."""
    return jsonable(_header_fields(describe, missing))  # type: ignore[no-any-return]


def _header_fields(describe: Mapping[str, Any], missing: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    facts = describe.get("facts", {})
    source = describe.get("source", {})
    return {
        "name": describe.get("name", ""),
        "n_params": facts.get("n_params"),
        "device": facts.get("device", ""),
        "dtype": facts.get("dtype", ""),
        "vocab_size": facts.get("vocab_size"),
        "max_len": facts.get("max_len"),
        "task": describe.get("task", ""),
        "task_reason": describe.get("task_reason", ""),
        "source": {
            "kind": source.get("kind", ""),
            "label": source.get("label", ""),
            "gist_id": source.get("gist_id"),
            "revision": source.get("revision"),
            "owner": source.get("owner"),
            "html_url": source.get("html_url"),
            "path": source.get("path"),
            "from_cache": bool(source.get("from_cache")),
        },
        "missing_packages": [dict(m) for m in missing],
    }


def tier_text(view: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in view.get("counts", {}).items() if n)
    state = view.get("state", "idle")
    rows = len(view.get("rows", []))
    detail = f" ({counts})" if counts else f" ({rows} checks)"
    return f"{view.get('label', '?')}: {state}{detail}"


def loading_message(source: dict[str, Any]) -> str:
    if source.get("gist_id"):
        return f"Fetching gist {source['gist_id']} and building the model…"
    if source.get("path"):
        return f"Loading {source['path']}…"
    if source.get("source") is not None:
        return "Inspecting the model…"
    return "Building the example model…"


def model_info(loaded: Any, describe: dict[str, Any], missing: list[Any]) -> dict[str, Any]:
    from tbwidgets.loading import deps

    return jsonable(
        {
            "code": loaded.code or "",
            "config": describe.get("config", {}),
            "findings": describe.get("findings", []),
            "missing_packages": [dict(m) for m in missing],
            "install_line": deps.install_line(missing) if missing else "",
            "build_note": describe.get("build_note", ""),
        }
    )
