"""Built-in checks, registered by id, grouped into one explicit suite per tier."""

from __future__ import annotations

from tbwidgets.core.check import Suite


def tier_suite(tier: int) -> Suite:
    """The default suite of one tier (1: critical validation, 2: analysis)."""
    if tier == 1:
        from tbwidgets.checks.tier1 import tier1_suite

        return tier1_suite()
    if tier == 2:
        from tbwidgets.checks.tier2 import tier2_suite

        return tier2_suite()
    raise ValueError(f"No check suite for tier {tier}: tiers 1 and 2 hold checks; tier 3 is training.")


def _register_builtin() -> None:
    import tbwidgets.checks.tier1
    import tbwidgets.checks.tier2  # noqa: F401


_register_builtin()
