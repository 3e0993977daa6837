"""Coalesce trait updates from worker threads into at most a few sync messages per second.

Runner events can arrive hundreds of times a second; the Jupyter server drops IOPub messages above
~1000/s and every message costs the browser a re-render. Threads call `set(name, value)`; the latest
value of each trait is kept and written to the widget at most once per `interval` seconds, all
pending traits in one `hold_sync` block (one comm message).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Apply = Callable[[dict[str, Any]], None]


class Coalescer:
    """Latest-value-wins buffer flushed by a timer thread, at most once per `interval` seconds.

    `apply` receives the pending {trait: value} dict and must send it as one message. All state is
    guarded by a lock; `apply` runs under a separate lock so two flushes never interleave.
    """

    def __init__(self, apply: Apply, interval: float = 0.1) -> None:
        self._apply = apply
        self.interval = interval  # 0.1 s: at most 10 messages per second per widget
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: dict[str, Any] = {}
        self._timer: threading.Timer | None = None
        self._last_flush = 0.0
        self.flushes = 0  # how many messages were sent (benchmarks and tests read it)

    def set(self, name: str, value: Any) -> None:
        """Queue `value` for trait `name`; schedules a flush if none is pending."""
        with self._lock:
            self._pending[name] = value
            if self._timer is None:
                delay = max(0.0, self._last_flush + self.interval - time.monotonic())
                self._timer = threading.Timer(delay, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Send everything pending now (called by the timer, and by `wait()` to settle state)."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
                timer, self._timer = self._timer, None
                if not pending:
                    return
                self._last_flush = time.monotonic()
            if timer is not None and timer is not threading.current_thread():
                timer.cancel()
            self.flushes += 1
            self._apply(pending)

    @property
    def pending(self) -> bool:
        with self._lock:
            return bool(self._pending)
