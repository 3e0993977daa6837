"""Loading: any model source (gist, path, module, built-in example) → a LoadedModel ready to check."""

from tbwidgets.loading.adapter import ModelAdapter
from tbwidgets.loading.config import normalize_config
from tbwidgets.loading.errors import ExportBugError, GistError, LoadError
from tbwidgets.loading.loader import load_model
from tbwidgets.loading.model import Finding, LoadedModel, ModelFacts, Provenance, Task

__all__ = [
    "ExportBugError",
    "Finding",
    "GistError",
    "LoadError",
    "LoadedModel",
    "ModelAdapter",
    "ModelFacts",
    "Provenance",
    "Task",
    "load_model",
    "normalize_config",
]
