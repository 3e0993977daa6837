"""Exports of a validator's results: a self-contained HTML report and JSON, to a file or a browser download."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from tbwidgets.core import Report


class ExportMixin:
    """Adds `export_html`/`export_json` and the download message to the validator widget."""

    _lock: threading.RLock
    _reports: dict[str, Report]
    _loaded: Any
    send: Any  # from ipywidgets.Widget

    def combined_report(self) -> Report:
        """The latest results of every tier in one Report (what the Export buttons save)."""
        with self._lock:
            reports = [self._reports[k] for k in sorted(self._reports)]
            loaded = self._loaded
        if not reports:
            raise RuntimeError("Nothing to export yet: run Tier 1 or Tier 2 first.")
        return Report(
            results=[r for report in reports for r in report.results],
            model=loaded.describe() if loaded is not None else reports[-1].model,
            started_at=min(r.started_at for r in reports),
            duration_s=sum(r.duration_s for r in reports),
            cancelled=any(r.cancelled for r in reports),
        )

    def export_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report (inline CSS, no network) to `path`."""
        out = Path(path)
        self.combined_report().to_html(out)
        return out

    def export_json(self, path: str | Path) -> Path:
        """Write the JSON report to `path`."""
        out = Path(path)
        self.combined_report().to_json(out)
        return out

    def _send_download(self, fmt: str) -> None:
        """Answer an Export click: the front end turns this message into a file download."""
        report = self.combined_report()
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(report.model.get("name") or "model")).strip("-")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        if fmt == "json":
            text, mime, ext = report.to_json(), "application/json", "json"
        else:
            text, mime, ext = report.to_html(), "text/html", "html"
        self.send(
            {"type": "download", "filename": f"tbwidgets-{name}-{stamp}.{ext}", "mime": mime, "text": text}
        )
