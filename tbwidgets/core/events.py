"""Typed events a Runner emits; widgets, the CLI and tests are listeners of these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from tbwidgets.core.result import CheckResult

if TYPE_CHECKING:
    from tbwidgets.core.report import Report


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    check_ids: Sequence[str]
    titles: Sequence[str]


@dataclass(frozen=True)
class CheckStarted:
    run_id: str
    check_id: str
    index: int
    total: int


@dataclass(frozen=True)
class CheckProgress:
    run_id: str
    check_id: str
    fraction: float  # 0..1 within this check
    note: str


@dataclass(frozen=True)
class CheckFinished:
    run_id: str
    result: CheckResult
    index: int
    total: int


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    report: Report
    cancelled: bool


Event = Union[RunStarted, CheckStarted, CheckProgress, CheckFinished, RunFinished]
Listener = Callable[[Event], None]
