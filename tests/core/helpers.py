"""Small checks and a hand-built LoadedModel for testing the core without the loader."""

from __future__ import annotations

import time

import torch
from torch import nn

from tbwidgets.core import Check, CheckResult, RunContext, Status
from tbwidgets.loading.model import LoadedModel, ModelFacts, Provenance, Task


def tiny_loaded() -> LoadedModel:
    module = nn.Sequential(nn.Embedding(16, 8), nn.Linear(8, 16))
    facts = ModelFacts(16, 8, "test", 264, 264, torch.device("cpu"), torch.float32)
    return LoadedModel(
        module=module,
        adapter=lambda ids, attention_mask=None: module(ids),
        name="Tiny",
        task=Task.CAUSAL_LM,
        task_reason="stated by the test",
        facts=facts,
        source=Provenance(kind="module"),
    )


class FixedCheck(Check):
    check_id = "test.fixed"
    title = "Fixed"

    def __init__(self, status: Status = Status.PASS, check_id: str = "test.fixed") -> None:
        self.status = status
        self.check_id = check_id  # type: ignore[misc]

    def run(self, ctx: RunContext) -> CheckResult:
        ctx.progress(0.5, "halfway")
        return self.result(self.status, f"{self.status.value} on purpose", metrics={"x": 1.0})


class CrashingCheck(Check):
    check_id = "test.crash"
    title = "Crash"

    def run(self, ctx: RunContext) -> CheckResult:
        raise ZeroDivisionError("planted crash")


class SteppingCheck(Check):
    """Takes many short steps, honouring cancellation between them."""

    check_id = "test.stepping"
    title = "Stepping"

    def __init__(self, steps: int = 200, step_s: float = 0.01, budget_s: float = 60.0) -> None:
        self.steps = steps
        self.step_s = step_s
        self.budget_s = budget_s

    def run(self, ctx: RunContext) -> CheckResult:
        for i in range(self.steps):
            ctx.progress(i / self.steps, f"step {i}")
            time.sleep(self.step_s)
        return self.result(Status.PASS, "all steps done")


class SkippingCheck(Check):
    check_id = "test.skipping"
    title = "Needs CUDA"

    def skip_reason(self, ctx: RunContext) -> str | None:
        return "needs a CUDA device; this run is on cpu"

    def run(self, ctx: RunContext) -> CheckResult:  # pragma: no cover - must never run
        raise AssertionError("skipped checks must not run")
