"""Tier 2: analysis (attention, attribution, perturbation)."""

from __future__ import annotations

from tbwidgets.checks.tier2.attribution_check import AttributionCheck
from tbwidgets.checks.tier2.patterns import AttentionPatterns
from tbwidgets.checks.tier2.perturbation_check import Perturbation
from tbwidgets.core.check import Suite


def tier2_suite() -> Suite:
    """Attention patterns, token attribution and perturbation sensitivity, in that order."""
    return Suite("tier2", [AttentionPatterns(), AttributionCheck(), Perturbation()])
