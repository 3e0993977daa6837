"""The issue's budgets for a GPT-2-small geometry at 1024 tokens (12 × 12 heads): slow, CI runs it."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from tbwidgets.widgets._explorer_payload import synthetic_maps
from tbwidgets.widgets.explorer import AttentionExplorer, float_json_arrays, state_size

pytestmark = pytest.mark.slow


def test_gpt2_small_at_1024_tokens_within_all_budgets():
    maps = synthetic_maps(12, 12, 1024, seed=0)  # 302 MB of float16: the caller's, not the explorer's
    gc.collect()
    tracemalloc.start()
    explorer = AttentionExplorer(maps=maps, tokens=[f"t{i}" for i in range(1024)])
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert held <= 200_000_000, f"explorer holds {held / 1e6:.0f} MB"
    size = state_size(explorer)
    assert size["total"] <= 2_000_000, size
    content, buffers = explorer.head_message(11, 11)
    assert sum(memoryview(b).nbytes for b in buffers) + len(str(content)) <= 1_100_000
    from ipywidgets.widgets.widget import _remove_buffers

    assert float_json_arrays(_remove_buffers(explorer.get_state())[0]) == []
