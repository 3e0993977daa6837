"""Trials whose process is gone: find them on this machine and fail them with a retry queued.

Each running trial records its owner (host, pid, process start time). On the same host a dead owner
is certain, so a restarted search fails and retries its killed trial at once, for journal files too
(they have no heartbeats). Trials owned by other machines are left to the storage's heartbeats.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

OWNER_ATTR = "tbwidgets_owner"
_ACTIVE: set[int] = set()  # trial ids running in this process (threads may run several searches)


def _start_ticks(pid: int) -> str | None:
    """The process start time from /proc (guards against a reused pid); None where /proc is absent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "start": _start_ticks(os.getpid())}


def mark_active(trial_id: int, active: bool) -> None:
    (_ACTIVE.add if active else _ACTIVE.discard)(trial_id)


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state != "Z" and (start is None or _start_ticks(pid) == start)


def is_dead_here(trial: Any) -> bool:
    """True when `trial` (RUNNING) belongs to a process of this host that no longer runs it."""
    who = trial.user_attrs.get(OWNER_ATTR)
    if not isinstance(who, dict) or who.get("host") != socket.gethostname():
        return False
    if who.get("pid") == os.getpid() and who.get("start") == _start_ticks(os.getpid()):
        return trial._trial_id not in _ACTIVE
    return not _alive(int(who.get("pid", -1)), who.get("start"))


def fail_dead_trials(study: Any, max_retry: int | None) -> list[int]:
    """Fail RUNNING trials whose process died on this host and queue their retries; their numbers."""
    import optuna
    from optuna.trial import TrialState

    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not is_dead_here(trial):
            continue
        try:  # the note first: a finished trial takes no more attributes
            study._storage.set_trial_user_attr(
                trial._trial_id, "error", "its process died (killed or crashed)"
            )
            if not study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker got there first
        retry(study, study._storage.get_trial(trial._trial_id), max_retry)
        failed.append(trial.number)
    return failed


def retry(study: Any, trial: Any, max_retry: int | None) -> None:
    """Queue `trial`'s parameters again, recording the retry history like Optuna's heartbeat retry."""
    import optuna

    optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)(study, trial)


def fail_stale(study: Any) -> None:
    """Heartbeat storages: trials silent past the grace period become FAIL (and retried)."""
    import optuna

    optuna.storages.fail_stale_trials(study)
