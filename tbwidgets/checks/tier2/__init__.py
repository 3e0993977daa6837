"""Tier 2: analysis (attention, attribution, perturbation)."""

from __future__ import annotations

from typing import Any

from tbwidgets.checks.tier2.attribution_check import AttributionCheck
from tbwidgets.checks.tier2.patterns import AttentionPatterns
from tbwidgets.checks.tier2.perturbation_check import Perturbation
from tbwidgets.core.check import Suite


def tier2_suite(text: str | None = None, tokenizer: Any = None) -> Suite:
    """Attention patterns, token attribution and perturbation sensitivity, in that order.

    `text` (default: a built-in sample) and `tokenizer` (default: bytes as token ids; or a Hugging
    Face tokenizer) choose what every Tier 2 check reads.
    """
    kw = {"text": text, "tokenizer": tokenizer}
    return Suite("tier2", [AttentionPatterns(**kw), AttributionCheck(**kw), Perturbation(**kw)])
