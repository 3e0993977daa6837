"""`TrialClaim`: workers sharing a study file take turns to count its trials and start the next one.

Without it, two workers that both see 11 of 12 trials both start one, and the study ends with 13.
With it, "count, then create the trial" is one step across processes: the lock is held from the
count until Optuna has created the trial (the objective's first line releases it), not while the
trial trains. SQLite and journal files get an exclusive `flock` on `<file>.claim.lock` (POSIX).
Server databases (PostgreSQL, MySQL) and Windows are not serialised: there a study may end with
one trial more per extra worker, never a duplicate one (Optuna numbers trials atomically).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class TrialClaim:
    """acquire() before counting the trials; release() once the new trial exists (idempotent)."""

    def __init__(self, study_file: Path | None) -> None:
        self.path = study_file.with_name(study_file.name + ".claim.lock") if study_file else None
        self._handle: IO[Any] | None = None

    def acquire(self) -> None:
        if self.path is None or fcntl is None or self._handle is not None:
            return
        handle = open(self.path, "a")  # noqa: SIM115 - held open across calls until release()
        fcntl.flock(handle, fcntl.LOCK_EX)
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None and fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
