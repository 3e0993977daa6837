"""Shared by the GLUE and LM benchmarks: the budget, fresh copies, training a contender with events."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tbwidgets.training.benchmarks.events import BenchmarkTrainingEvent, RunStarted

BENCH_DEFAULTS: dict[str, Any] = {
    "max_steps": 300,  # the same budget for the model and the baseline, per task
    "val_every_n_steps": 50,
    "checkpoint_every_n_steps": None,  # benchmarks keep no checkpoints: the rows are the result
    "keep_best": 0,
    "batch_size": 32,
    "learning_rate": 1e-3,
}


def bench_config(config: Any) -> Any:
    """The TrainingConfig both contenders train with (benchmark defaults under the user's values)."""
    from tbwidgets.training.config import TrainingConfig
    from tbwidgets.training.fit import _config

    if config is None:
        return TrainingConfig(**BENCH_DEFAULTS)
    return _config(config)


def load(source: Any) -> Any:
    from tbwidgets.loading import LoadedModel, load_model

    return source if isinstance(source, LoadedModel) else load_model(source)


def fresh(loaded: Any) -> Any:
    """A copy to train, so the next task starts from the same untouched weights."""
    return copy.deepcopy(loaded)


def run_root(config: Any, kind: str) -> Path:
    return Path(config.checkpoint_dir) / f"bench-{kind}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(
    contender: Any,
    data: Any,
    config: Any,
    *,
    task: str,
    name: str,
    emit: Callable[[Any], None],
    stop: Any,
    out_dir: Path,
) -> Any:
    """fit() one contender, its events wrapped with the task and contender names."""
    from tbwidgets.training.fit import fit

    emit(RunStarted(task, name))
    return fit(
        contender,
        data,
        config,
        on_event=lambda e: emit(BenchmarkTrainingEvent(task, name, e)),
        stop=stop,
        out_dir=out_dir,
    )


def stopped(stop: Any) -> bool:
    return bool(stop is not None and stop.is_set())
