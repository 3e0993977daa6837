"""Hand-written model styles (config objects, targets, manual softmax, buffer/zero/offset position tables,
half precision, torch.compile): every Tier 1 and Tier 2 check, no FAIL and no ERROR."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from tbwidgets.loading import LoadedModel, load_model
from tbwidgets.loading.examples import TB_GIST_DIR
from tbwidgets.loading.examples.tiny_gpt import build_example
from tests.regression import handwritten as hw
from tests.regression.suite import run_tiers

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _seeded(make: Callable[[], torch.nn.Module]) -> torch.nn.Module:
    torch.manual_seed(0)
    return make()


CASES: dict[str, Callable[[], LoadedModel]] = {
    "nanogpt-style (GPTConfig, targets-dependent output)": lambda: load_model(FIXTURES / "nanogpt_style"),
    "mingpt-style (get_default_config, manual softmax, zero pos Parameter)": lambda: load_model(
        FIXTURES / "mingpt_style"
    ),
    "per-head modules, manual softmax": lambda: load_model(_seeded(hw.PerHeadLM)),
    "sinusoidal buffer (T, 1, D)": lambda: load_model(_seeded(lambda: hw.SinusoidalEncoderLM("T1D"))),
    "sinusoidal buffer (1, T, D)": lambda: load_model(_seeded(lambda: hw.SinusoidalEncoderLM("1TD"))),
    "offset position table": lambda: load_model(_seeded(hw.OffsetTableLM), task="causal-lm"),
    "dict output without logits": lambda: load_model(_seeded(hw.DictOutputLM)),
    "float16": lambda: load_model(build_example().to(torch.float16)),
    "bfloat16": lambda: load_model(build_example().to(torch.bfloat16)),
    "torch.compile": lambda: load_model(torch.compile(_seeded(hw.PerHeadLM))),
    "Transformer Builder export": lambda: load_model(TB_GIST_DIR),
}


@pytest.mark.parametrize("name", list(CASES))
def test_handwritten_style_passes_tier1_and_tier2(name: str) -> None:
    start = time.perf_counter()
    loaded = CASES[name]()
    outcome = run_tiers(f"hand/{name}", loaded, time.perf_counter() - start)
    assert not outcome.bad, "\n".join(outcome.bad)
