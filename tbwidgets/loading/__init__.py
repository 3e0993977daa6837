"""Loading: any model source (gist, path, module, built-in example) → a LoadedModel ready to check."""

from tbwidgets.loading.adapter import ModelAdapter
from tbwidgets.loading.config import normalize_config
from tbwidgets.loading.errors import (
    DeviceError,
    EmptySourceError,
    ExportBugError,
    GistError,
    LoadError,
    LoadInterrupted,
    NotAGistError,
    SourceError,
)
from tbwidgets.loading.loader import load_model
from tbwidgets.loading.model import Finding, LoadedModel, ModelFacts, Provenance, Task
from tbwidgets.loading.progress import LoadProgress

__all__ = [
    "DeviceError",
    "EmptySourceError",
    "ExportBugError",
    "Finding",
    "GistError",
    "LoadError",
    "LoadInterrupted",
    "LoadProgress",
    "LoadedModel",
    "ModelAdapter",
    "ModelFacts",
    "NotAGistError",
    "Provenance",
    "SourceError",
    "Task",
    "load_model",
    "normalize_config",
]
