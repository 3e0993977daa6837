"""Hugging Face architectures from tiny configs: every Tier 1 and Tier 2 check, no FAIL and no ERROR."""

from __future__ import annotations

import time

import pytest

from tbwidgets.loading import load_model
from tests.regression.hf_models import CASES
from tests.regression.suite import run_tiers

pytest.importorskip("transformers")
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", list(CASES))
def test_hf_architecture_passes_tier1_and_tier2(name: str) -> None:
    build, load_kwargs = CASES[name]
    start = time.perf_counter()
    loaded = load_model(build(), **load_kwargs)
    outcome = run_tiers(f"hf/{name}", loaded, time.perf_counter() - start)
    assert not outcome.bad, "\n".join(outcome.bad)
    attribution = [w for w in outcome.warns if w.startswith("tier2.attribution")]
    assert not attribution, attribution  # IG's path ends at its baseline on every architecture
