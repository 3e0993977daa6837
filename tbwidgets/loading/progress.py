"""Progress notes the loader sends while it works: bytes downloaded so far, an import that runs long.

`load_model(progress=callback)` calls `callback(LoadProgress(...))`; front ends print or show
`message` and may draw a bar from `done`/`total`. The callback must be quick and must not raise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadProgress:
    """One progress note. `stage` is "download", "retry" or "import-slow"; `done`/`total` are bytes (download)."""

    stage: str
    message: str
    done: int | None = None
    total: int | None = None  # None when the server did not say (no Content-Length)


ProgressFn = Callable[[LoadProgress], None]


def human_bytes(n: int) -> str:
    """1234567 -> '1.2 MB' (decimal units, as browsers show downloads)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"
