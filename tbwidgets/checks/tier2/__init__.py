"""Tier 2: analysis (attention, attribution, perturbation)."""

from __future__ import annotations

from tbwidgets.core.check import Suite


def tier2_suite() -> Suite:
    return Suite("tier2", [])
