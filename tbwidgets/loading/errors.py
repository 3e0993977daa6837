"""Loading errors that say what went wrong and what to do about it."""

from __future__ import annotations


class LoadError(Exception):
    """A model could not be loaded. `cause` says what happened, `fix` what the user can do."""

    def __init__(self, cause: str, fix: str = "") -> None:
        super().__init__(cause if not fix else f"{cause}\nWhat to do: {fix}")
        self.cause = cause
        self.fix = fix


class SourceError(LoadError):
    """The source given cannot name a model at all (empty, not a gist URL, a class): a usage error."""


class EmptySourceError(SourceError):
    """An empty or whitespace source, gist id, URL or path (typically an unset environment variable)."""


class DeviceError(SourceError):
    """The requested device does not exist here (e.g. `device="cuda"` on a machine without CUDA)."""


class LoadInterrupted(LoadError):
    """Ctrl-C or Stop ended the import of model.py; `line` is where it was running (or None)."""

    def __init__(self, cause: str, fix: str = "", *, line: int | None = None) -> None:
        super().__init__(cause, fix)
        self.line = line


class GistError(LoadError):
    """Fetching a gist failed (not found, rate limited, network, missing or bad files)."""

    def __init__(self, cause: str, fix: str = "", *, status: int | None = None) -> None:
        super().__init__(cause, fix)
        self.status = status


class NotAGistError(GistError, SourceError):
    """The text is neither a gist id nor a gist URL (it is named, unmangled, in the message)."""


class ExportBugError(LoadError):
    """The model.py shows a known Transformer Builder generator bug."""
