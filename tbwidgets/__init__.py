"""tbwidgets: check, understand and train a transformer model from a notebook.

`import tbwidgets` stays fast: the public names load their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tbwidgets._version import __version__

_LAZY = {
    "load_model": "tbwidgets.loading",
    "LoadedModel": "tbwidgets.loading",
    "validate": "tbwidgets.api",
    "Report": "tbwidgets.core",
    "Status": "tbwidgets.core",
    "ValidatorWidget": "tbwidgets.widgets.validator",
    "AttentionExplorer": "tbwidgets.widgets.explorer",
    "capture_attention": "tbwidgets.checks.tier2.capture",
    "integrated_gradients": "tbwidgets.checks.tier2.attribution",
}

if TYPE_CHECKING:
    from tbwidgets.api import validate
    from tbwidgets.checks.tier2.attribution import integrated_gradients
    from tbwidgets.checks.tier2.capture import capture_attention
    from tbwidgets.core import Report, Status
    from tbwidgets.loading import LoadedModel, load_model
    from tbwidgets.widgets.explorer import AttentionExplorer
    from tbwidgets.widgets.validator import ValidatorWidget

__all__ = [
    "AttentionExplorer",
    "LoadedModel",
    "Report",
    "Status",
    "ValidatorWidget",
    "__version__",
    "capture_attention",
    "integrated_gradients",
    "load_model",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tbwidgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
