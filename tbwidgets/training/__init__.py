"""Tier 3 training: configs, seeded data, and (lazily) the Lightning engine, usable without widgets.

`import tbwidgets.training` imports neither Lightning nor wandb nor optuna: every public name loads
its module on first use, so the config and data parts stay cheap for the widget and the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EVENTS = (
    "TrainingStarted",
    "StepMetrics",
    "ValidationMetrics",
    "CheckpointSaved",
    "TrainingStopped",
    "TrainingFinished",
    "TrainingFailed",
    "TrainingEvent",
    "TrainingListener",
)

_LAZY = {
    "TrainingConfig": "tbwidgets.training.config",
    "ConfigDiff": "tbwidgets.training.config",
    "compare_configs": "tbwidgets.training.config",
    "set_random_seed": "tbwidgets.training.seed",
    "seed_worker": "tbwidgets.training.seed",
    "create_seeded_generator": "tbwidgets.training.seed",
    "TrainingData": "tbwidgets.training.data",
    "make_data": "tbwidgets.training.data",
    "TASKS": "tbwidgets.training.data",
    "ResumableLoader": "tbwidgets.training.data",
    "fit": "tbwidgets.training.fit",
    "load_checkpoint": "tbwidgets.training.checkpoints",
    "TrainingResult": "tbwidgets.training.result",
    **dict.fromkeys(_EVENTS, "tbwidgets.training.events"),
    "search": "tbwidgets.training.hpo",
    "SearchResult": "tbwidgets.training.hpo",
    "BenchmarkReport": "tbwidgets.training.benchmarks",
}
_SUBPACKAGES = ("hpo", "benchmarks")  # `tbwidgets.training.benchmarks.glue(...)` after a bare import

if TYPE_CHECKING:
    from tbwidgets.training import benchmarks, hpo
    from tbwidgets.training.benchmarks import BenchmarkReport
    from tbwidgets.training.checkpoints import load_checkpoint
    from tbwidgets.training.config import ConfigDiff, TrainingConfig, compare_configs
    from tbwidgets.training.data import TASKS, ResumableLoader, TrainingData, make_data
    from tbwidgets.training.events import (
        CheckpointSaved,
        StepMetrics,
        TrainingEvent,
        TrainingFailed,
        TrainingFinished,
        TrainingListener,
        TrainingStarted,
        TrainingStopped,
        ValidationMetrics,
    )
    from tbwidgets.training.fit import fit
    from tbwidgets.training.hpo import SearchResult, search
    from tbwidgets.training.result import TrainingResult
    from tbwidgets.training.seed import create_seeded_generator, seed_worker, set_random_seed

__all__ = [
    "TASKS",
    "BenchmarkReport",
    "CheckpointSaved",
    "ConfigDiff",
    "ResumableLoader",
    "SearchResult",
    "StepMetrics",
    "TrainingConfig",
    "TrainingData",
    "TrainingEvent",
    "TrainingFailed",
    "TrainingFinished",
    "TrainingListener",
    "TrainingResult",
    "TrainingStarted",
    "TrainingStopped",
    "ValidationMetrics",
    "benchmarks",
    "compare_configs",
    "create_seeded_generator",
    "fit",
    "hpo",
    "load_checkpoint",
    "make_data",
    "search",
    "seed_worker",
    "set_random_seed",
]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"tbwidgets.training.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tbwidgets.training' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))
