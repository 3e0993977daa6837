"""Messages from the front end (button clicks, the gist box) and notices back to it."""

from __future__ import annotations

import threading
from typing import Any

from tbwidgets.widgets._throttle import Coalescer
from tbwidgets.widgets._work import Worker, describe_problem


class FrontEndMixin:
    """Handles `model.send(...)` from js/validator.ts; see `OutgoingMsg` in js/src/types.ts."""

    _sync: Coalescer
    _worker: Worker
    _lock: threading.RLock
    _source_given: bool
    _notice_seq: int
    device: str | None
    gist_input: str
    run: Any
    stop: Any
    load: Any
    _send_download: Any

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        try:
            if kind == "run":
                self.run(str(content.get("tier", "tier1")))
            elif kind == "stop":
                self.stop()
            elif kind == "load":
                self._load_from_input(str(content.get("source", "")).strip(), str(content.get("origin", "")))
            elif kind == "export":
                self._send_download(str(content.get("format", "html")))
        except Exception as exc:  # noqa: BLE001 - a bad click must leave the widget usable
            self._notify(describe_problem(exc).cause, "error")

    def _load_from_input(self, text: str, origin: str) -> None:
        """Load what the box holds (empty: the example). The page URL's gist id (best effort, sent
        by the front end) only applies when the widget was created without a source."""
        if origin == "url" and self._source_given:
            return
        if self._worker.busy:
            self.stop()  # a new model replaces whatever was loading or running
        with self._lock:
            self._source_given = True
        self.gist_input = text
        self.load({"gist_id": text or None, "device": self.device}, autorun="tier1")

    def _notify(self, text: str, level: str = "info") -> None:
        with self._lock:
            self._notice_seq += 1
            self._sync.set("notice", {"level": level, "text": text, "seq": self._notice_seq})
