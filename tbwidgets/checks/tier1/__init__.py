"""Tier 1: critical validation. Each module holds one check."""

from __future__ import annotations

from tbwidgets.core.check import Suite


def tier1_suite() -> Suite:
    return Suite("tier1", [])
