"""The Check base class, suites, and the registry that lets the CLI and widgets select checks by id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from tbwidgets.core.result import CheckResult, Status

if TYPE_CHECKING:
    from tbwidgets.core.context import RunContext

ENTRY_POINT_GROUP = "tbwidgets.checks"


class Check:
    """One verdict about a model. Settings go in `__init__`; `run` returns a CheckResult.

    Subclasses set `check_id` (stable, e.g. ``tier1.gradient_flow``), `title`, `tier` and may
    override `skip_reason` to declare unmet requirements (the Runner turns them into SKIPPED).
    A check reports with `ctx.progress(...)`, calls `ctx.raise_if_cancelled()` between steps, and
    never prints or plots.
    """

    check_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    tier: ClassVar[int] = 0
    budget_s: float = 60.0  # wall-time budget; generous because CPUs vary by 10x

    def skip_reason(self, ctx: RunContext) -> str | None:
        """Why this check cannot run on this model/device, or None when it can."""
        return None

    def run(self, ctx: RunContext) -> CheckResult:
        raise NotImplementedError

    def result(self, status: Status, summary: str, details: str = "", **fields: Any) -> CheckResult:
        """Build a result stamped with this check's id and title."""
        return CheckResult(self.check_id, status, summary, details, title=self.title, **fields)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.check_id}>"


@dataclass(frozen=True)
class Suite:
    """An explicit, ordered list of checks (one per tier, or any selection)."""

    name: str
    checks: Sequence[Check]

    @property
    def check_ids(self) -> list[str]:
        return [c.check_id for c in self.checks]


_REGISTRY: dict[str, type[Check]] = {}
_entry_points_loaded = False


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: make a check selectable by its id."""
    if not cls.check_id:
        raise ValueError(f"{cls.__name__} has no check_id")
    _REGISTRY[cls.check_id] = cls
    return cls


def registered_checks() -> dict[str, type[Check]]:
    """All known checks: ours (imported with tbwidgets.checks) and those from entry points."""
    import tbwidgets.checks  # noqa: F401  (registers the built-in checks)

    _load_entry_points()
    return dict(_REGISTRY)


def get_check(check_id: str) -> type[Check]:
    checks = registered_checks()
    if check_id not in checks:
        known = ", ".join(sorted(checks))
        raise KeyError(f"Unknown check {check_id!r}. Known checks: {known}")
    return checks[check_id]


def checks_for(ids: Iterable[str]) -> list[Check]:
    """Instantiate checks by id with their default settings."""
    return [get_check(i)() for i in ids]


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, Check):
            register(cls)
