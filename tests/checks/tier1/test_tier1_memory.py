"""No memory left behind: checks free their graphs, out-of-memory is a clear verdict, advice names the device."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch

from tbwidgets.checks.tier1 import GradientFlow, MemoryProfile, OverfitBatch, ParameterInit, tier1_suite
from tbwidgets.core import Runner, Status
from tbwidgets.core.check import Check
from tbwidgets.core.context import RunContext
from tbwidgets.core.memory import is_oom, requested_bytes
from tbwidgets.core.result import CheckResult
from tbwidgets.loading import load_model
from tests.checks.tier1.zoo import ZooLM

CPU_OOM = "DefaultCPUAllocator: can't allocate memory: you tried to allocate 3221225472 bytes. Error code 12"
CUDA_OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 14.75 GiB total capacity)"


def _activations_alive(checks: list[Check]) -> list[str]:
    """Run `checks` with a hook keeping weak references to every block output; return those still alive."""
    torch.manual_seed(0)
    loaded = load_model(model=ZooLM(), task="causal-lm")
    refs: list[weakref.ref] = []
    for block in loaded.module.blocks:
        block.register_forward_hook(lambda _m, _a, out: refs.append(weakref.ref(out)))
    gc.collect()
    gc.disable()  # freed by reference counting alone: no cycle may hold an activation
    try:
        Runner(loaded, checks).run()
        return [f"activation {i}" for i, r in enumerate(refs) if r() is not None]
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "check", [MemoryProfile(), GradientFlow(), OverfitBatch(max_steps=3), ParameterInit()]
)
def test_no_activation_outlives_its_check(check: Check) -> None:
    """memory_profile on CPU used to keep every run's autograd graph alive (a cycle through saved outputs)."""
    assert not _activations_alive([check])


def test_the_whole_suite_leaves_no_activation_behind() -> None:
    assert not _activations_alive(list(tier1_suite().checks))


@pytest.mark.parametrize(("text", "asked"), [(CPU_OOM, 3 * 1024**3), (CUDA_OOM, 2 * 1024**3)])
def test_out_of_memory_is_recognised_in_every_allocators_words(text: str, asked: int) -> None:
    assert is_oom(RuntimeError(text)) and requested_bytes(RuntimeError(text)) == asked
    assert is_oom(MemoryError()) and not is_oom(RuntimeError("shape mismatch"))


class _OOMCheck(Check):
    check_id = "test.oom"
    title = "Allocates too much"

    def run(self, ctx: RunContext) -> CheckResult:
        raise RuntimeError(CPU_OOM)


def test_out_of_memory_in_a_check_is_a_skip_saying_how_much_not_a_crash() -> None:
    result = Runner(load_model(model=ZooLM(), task="causal-lm"), [_OOMCheck()]).run()["test.oom"]
    assert result.status is Status.SKIPPED and result.error is None
    assert "Out of memory on cpu" in result.summary and "3.00 GB" in result.summary
    assert "more memory" in result.details


def test_memory_advice_names_the_budget_device_and_this_machine() -> None:
    torch.manual_seed(0)
    result = Runner(load_model(model=ZooLM(), task="causal-lm"), [MemoryProfile()]).run()[
        "tier1.memory_profile"
    ]
    assert result.status is Status.PASS
    assert "15 GB (a Colab T4 GPU)" in result.summary
    assert "This device (cpu) has" in result.details and "available on this machine now" in result.details
