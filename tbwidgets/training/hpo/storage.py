"""Where a study lives: SQLite in the run folder by default, a journal file, or any SQLAlchemy URL.

RDB storages (SQLite, PostgreSQL, MySQL) get heartbeats: a trial whose process died stops beating,
and after `grace_period` seconds the next worker marks it FAIL and queues a retry with the same
parameters (`RetryHeartbeatStaleTrialCallback`). Journal files have no heartbeats; `recovery` covers
them on the same machine by checking whether the trial's process still exists.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

HEARTBEAT_INTERVAL_S = 10  # one tiny UPDATE per interval: negligible next to a training step
GRACE_PERIOD_S = 30  # a trial silent this long is dead (3 missed beats tolerate a loaded machine)
MAX_RETRY = 2  # a killed trial runs again at most twice: a trial that kills its worker must not loop
JOURNAL_SUFFIXES = (".log", ".journal", ".jsonl")


def default_storage_path(run_dir: Path) -> Path:
    return run_dir / "study.db"


def storage_url(spec: str | Path) -> str:
    """The URL a spec stands for: a URL unchanged, a journal file as journal:///path, a file as sqlite."""
    text = str(spec)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    if path.suffix in JOURNAL_SUFFIXES:
        return f"journal:///{path}"
    return f"sqlite:///{path}"


def existing_file(spec: Any) -> Path | None:
    """The file a SQLite or journal spec names, when it names one (None for servers and objects)."""
    if not isinstance(spec, (str, Path)):
        return None
    url = storage_url(spec)
    for prefix in ("sqlite:///", "journal:///"):
        if url.startswith(prefix):
            return Path(url.removeprefix(prefix))
    return None


def _rdb_storage(url: str, heartbeat_interval: int, grace_period: int, max_retry: int) -> Any:
    import optuna
    import sqlalchemy.exc

    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat_interval
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=max_retry
                ),
            )
    except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError, ImportError) as exc:
        raise ValueError(_storage_problem(url, exc)) from None


def _storage_problem(url: str, exc: Exception) -> str:
    scheme = url.split("://", 1)[0]
    server = scheme.partition("+")[0] in ("postgresql", "mysql")
    driver = (
        f"; the {scheme!r} driver needs its package (psycopg2 for PostgreSQL, pymysql for MySQL)"
        if server
        else ""
    )
    return (
        f"Storage {redact(url)!r} cannot be opened: {str(exc).rstrip('.')}. Give a file (study.db for SQLite, "
        f"study.log for a journal) or an SQLAlchemy URL such as sqlite:///study.db or postgresql://user@host/db{driver}."
    )


def redact(url: str) -> str:
    """The URL without a password (for results, events and logs)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def open_storage(
    spec: Any,
    run_dir: Path,
    *,
    heartbeat_interval: int = HEARTBEAT_INTERVAL_S,
    grace_period: int = GRACE_PERIOD_S,
    max_retry: int = MAX_RETRY,
) -> tuple[Any, str]:
    """(an Optuna storage, its redacted URL) for `spec`: None, a path, a URL, or a storage object."""
    import optuna

    if isinstance(spec, optuna.storages.BaseStorage):
        return spec, type(spec).__name__
    if spec is None:
        run_dir.mkdir(parents=True, exist_ok=True)
        spec = default_storage_path(run_dir)
    url = storage_url(spec)
    if url.startswith("journal://"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path))), url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return _rdb_storage(url, heartbeat_interval, grace_period, max_retry), redact(url)
