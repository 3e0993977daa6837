"""Loading errors that say what went wrong and what to do about it."""

from __future__ import annotations


class LoadError(Exception):
    """A model could not be loaded. `cause` says what happened, `fix` what the user can do."""

    def __init__(self, cause: str, fix: str = "") -> None:
        super().__init__(cause if not fix else f"{cause}\nWhat to do: {fix}")
        self.cause = cause
        self.fix = fix


class GistError(LoadError):
    """Fetching a gist failed (not found, rate limited, network, missing or bad files)."""

    def __init__(self, cause: str, fix: str = "", *, status: int | None = None) -> None:
        super().__init__(cause, fix)
        self.status = status


class ExportBugError(LoadError):
    """The model.py shows a known Transformer Builder generator bug."""
