"""Benchmark events, for a widget or the CLI to follow a run (frozen plain data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from tbwidgets.training.benchmarks.report import BenchmarkReport, BenchmarkRow


@dataclass(frozen=True)
class BenchmarkStarted:
    kind: str  # "glue" or "lm"
    tasks: tuple[str, ...]
    meta: dict[str, Any]


@dataclass(frozen=True)
class RunStarted:
    """Training of one model ("model" or "baseline") on one task begins."""

    task: str
    model: str


@dataclass(frozen=True)
class BenchmarkTrainingEvent:
    """A training event (StepMetrics, ...) of `model` on `task`."""

    task: str
    model: str
    event: Any


@dataclass(frozen=True)
class RowReady:
    row: BenchmarkRow


@dataclass(frozen=True)
class BenchmarkFinished:
    report: BenchmarkReport


BenchmarkEvent = Union[BenchmarkStarted, RunStarted, BenchmarkTrainingEvent, RowReady, BenchmarkFinished]
BenchmarkListener = Callable[[BenchmarkEvent], None]
