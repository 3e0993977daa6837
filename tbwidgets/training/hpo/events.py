"""Search events: what a widget or the CLI listens to while a study runs (frozen plain data).

Training events of the running trial arrive wrapped in `TrialEvent`, so a listener can draw the
intermediate curve of each trial on the optimizer-step axis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from tbwidgets.training.hpo.result import SearchResult

TRIAL_STATES = ("running", "complete", "pruned", "fail", "waiting")


@dataclass(frozen=True)
class SearchStarted:
    study_name: str
    storage: str  # URL without password
    n_trials: int  # the study's target of finished trials
    space: Mapping[str, Any] | None  # the dict spec (None for a function)
    run_dir: str
    finished_before: int = 0  # trials already finished when this call started (a resumed study)


@dataclass(frozen=True)
class TrialStarted:
    study_name: str
    number: int
    params: Mapping[str, Any]
    retry_of: int | None = None  # the trial this one repeats (its process died or was stopped)


@dataclass(frozen=True)
class TrialEvent:
    """A training event (StepMetrics, ValidationMetrics, ...) of trial `number`."""

    number: int
    event: Any


@dataclass(frozen=True)
class TrialFinished:
    study_name: str
    number: int
    state: str  # one of TRIAL_STATES
    value: float | None
    params: Mapping[str, Any] = field(default_factory=dict)
    duration_s: float | None = None
    steps: int | None = None  # optimizer steps trained
    pruned_at: int | None = None  # the step whose validation loss pruned it
    error: str | None = None


@dataclass(frozen=True)
class SearchFinished:
    study_name: str
    result: SearchResult


SearchEvent = Union[SearchStarted, TrialStarted, TrialEvent, TrialFinished, SearchFinished]
SearchListener = Callable[[SearchEvent], None]
