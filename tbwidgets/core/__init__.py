"""Core: checks, results, events, the Runner and Reports. Knows nothing of widgets or training."""

from tbwidgets.core.check import Check, Suite, checks_for, get_check, register, registered_checks
from tbwidgets.core.context import BudgetExceeded, Cancelled, RunContext, eval_mode
from tbwidgets.core.events import (
    CheckFinished,
    CheckProgress,
    CheckStarted,
    Event,
    Listener,
    RunFinished,
    RunStarted,
)
from tbwidgets.core.report import Report
from tbwidgets.core.result import CheckResult, Status, worst
from tbwidgets.core.runner import Runner

__all__ = [
    "BudgetExceeded",
    "Cancelled",
    "Check",
    "CheckFinished",
    "CheckProgress",
    "CheckResult",
    "CheckStarted",
    "Event",
    "Listener",
    "Report",
    "RunContext",
    "RunFinished",
    "RunStarted",
    "Runner",
    "Status",
    "Suite",
    "checks_for",
    "eval_mode",
    "get_check",
    "register",
    "registered_checks",
    "worst",
]
