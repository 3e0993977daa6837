"""tier1.memory_profile: what one training step needs — weights, gradients, optimizer state, activations.

Activations are measured, not guessed: on CPU by summing the tensors autograd saves for backward
(`saved_tensors_hooks`, deduplicated by storage, weights excluded); on CUDA by peak allocated memory.
"""

from __future__ import annotations

import math

import torch

from tbwidgets.checks.tier1._common import (
    Tier1Check,
    forward_problem,
    own_rng,
    preserved_grads,
    task_batch,
)
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.memory import available_bytes, is_oom, oom_summary, release
from tbwidgets.core.result import CheckResult, Status

MB = 1024**2
GB = 1024**3


@register
class MemoryProfile(Tier1Check):
    check_id = "tier1.memory_profile"
    title = "Memory profile"
    budget_s = 90.0

    def __init__(
        self,
        budget_gb: float = 15.0,
        optimizer_states: int = 2,
        batches: tuple[int, ...] = (1, 2),
        cpu_max_len: int = 256,
        budget_name: str = "a Colab T4 GPU",
    ) -> None:
        self.budget_gb = budget_gb  # a Colab T4 has 15 GB: where most users train
        self.budget_name = budget_name  # what budget_gb refers to, named in the advice
        self.optimizer_states = optimizer_states  # Adam/AdamW keep two fp32 tensors per weight
        self.batches = batches  # two batch sizes show whether memory is linear in batch
        # on CPU, longer max lengths are extrapolated with the fitted exponent: GPT-2-small at 1024
        # tokens holds ~3 GB of activations per sample and takes tens of seconds per step
        self.cpu_max_len = cpu_max_len

    def measured_len(self, ctx: RunContext) -> int:
        L = ctx.loaded.facts.max_len
        return L if ctx.device.type == "cuda" else min(L, self.cpu_max_len)

    def skip_reason(self, ctx: RunContext) -> str | None:
        return forward_problem(ctx)

    def grid(self, max_len: int) -> list[tuple[int, int]]:
        lengths = sorted({max(2, max_len // 4), max(2, max_len // 2), max_len})
        return [(1, t) for t in lengths] + [(b, max_len) for b in self.batches if b != 1]

    def run(self, ctx: RunContext) -> CheckResult:
        static = _static_bytes(ctx.model, self.optimizer_states)
        rows, oom = [], None
        grid = self.grid(self.measured_len(ctx))
        for i, (b, t) in enumerate(grid):
            ctx.progress(i / len(grid), f"training step at batch {b} × length {t}")
            try:
                used = _step_bytes(ctx, b, t)
            except (torch.cuda.OutOfMemoryError, MemoryError, RuntimeError) as exc:
                if not is_oom(exc):
                    raise
                oom = f"batch {b} × length {t}. {oom_summary(exc, ctx.device)}"
                exc.__traceback__ = None  # its frames hold the half-built graph
                release(ctx.device)
                rows.append({"batch": b, "length": t, "activation_mb": float("nan"), "note": "out of memory"})
                break
            rows.append({"batch": b, "length": t, "activation_mb": used / MB, "note": ""})
        return self._verdict(ctx, static, rows, oom)

    def _verdict(
        self, ctx: RunContext, static: dict[str, int], rows: list[dict], oom: str | None
    ) -> CheckResult:
        L = ctx.loaded.facts.max_len
        metrics = {f"{k}_mb": v / MB for k, v in static.items()}
        fixed = sum(static.values())
        ones = [
            (r["length"], r["activation_mb"])
            for r in rows
            if r["batch"] == 1 and math.isfinite(r["activation_mb"])
        ]
        exponent = _fit_exponent(ones)
        if exponent is not None:
            metrics["length_exponent"] = exponent
        top = self.measured_len(ctx)
        per_sample = next((mb * MB for t, mb in ones if t == top), None)
        if per_sample is not None and top < L:  # extrapolate along the fitted power law
            per_sample *= (L / top) ** max(exponent or 1.0, 1.0)
        where = "peak allocated" if ctx.device.type == "cuda" else "saved-tensor accounting"
        basis = (
            f"Weights {static['params'] / MB:.1f} MB, gradients {static['grads'] / MB:.1f} MB, optimizer state "
            f"{static['optimizer'] / MB:.1f} MB; activations measured by {where}."
        )
        if exponent is not None:
            shape = (
                "about quadratic (attention maps dominate)"
                if exponent > 1.7
                else "between linear and quadratic (attention maps matter)"
                if exponent > 1.3
                else "about linear (attention maps are a small share)"
            )
            basis += f" Activation memory grows as length^{exponent:.2f}: {shape}."
        if top < L:
            basis += f" Measured up to length {top}; length {L} is extrapolated with that exponent."
        if oom is not None:
            return self.result(
                Status.WARN,
                f"Out of memory during one training step at {oom}",
                basis,
                metrics=metrics,
                table=rows,
            )
        if per_sample is None or per_sample <= 0:
            return self.result(
                Status.PASS,
                f"Weights and training state need {fixed / MB:.1f} MB.",
                basis,
                metrics=metrics,
                table=rows,
            )
        max_batch = int((self.budget_gb * GB - fixed) // per_sample)
        metrics["activation_mb_per_sample_at_max_len"] = per_sample / MB
        metrics["max_batch_at_max_len"] = float(max_batch)
        if max_batch < 1:
            return self.result(
                Status.WARN,
                f"Not even one sample of length {L} fits a training step in {self.budget_gb:g} GB "
                f"({self.budget_name}).",
                basis
                + _here_text(ctx, fixed, per_sample)
                + " Train with shorter sequences, gradient checkpointing, mixed precision or a smaller model.",
                metrics=metrics,
                table=rows,
            )
        return self.result(
            Status.PASS,
            f"Training state {fixed / MB:.1f} MB + {per_sample / MB:.2f} MB per sample at length {L}: "
            f"batch ≤ {max_batch} fits {self.budget_gb:g} GB ({self.budget_name}).",
            basis
            + _here_text(ctx, fixed, per_sample)
            + " The batch estimate assumes memory linear in batch size (see the batch-2 row).",
            metrics=metrics,
            table=rows,
        )


def _here_text(ctx: RunContext, fixed: int, per_sample: float | None) -> str:
    """This device's free memory, and the batch it allows, so the advice fits where the user is."""
    free = available_bytes(ctx.device)
    if free is None:
        return ""
    where = "free on this GPU" if ctx.device.type == "cuda" else "available on this machine now"
    text = f" This device ({ctx.device.type}) has {free / GB:.1f} GB {where}"
    if per_sample:
        fits = int((free - fixed) // per_sample)
        text += f": batch ≤ {max(fits, 0)} at the maximum length here"
    return text + "."


def _static_bytes(model: torch.nn.Module, optimizer_states: int) -> dict[str, int]:
    params = list(model.parameters())  # tied weights appear once
    trainable = [p for p in params if p.requires_grad]
    return {
        "params": sum(p.numel() * p.element_size() for p in params),
        "grads": sum(p.numel() * p.element_size() for p in trainable),
        "optimizer": optimizer_states * sum(p.numel() * 4 for p in trainable),
    }


def _step_bytes(ctx: RunContext, batch: int, length: int) -> int:
    ids = ctx.random_tokens(batch, length, offset=7)
    task = task_batch(ctx.loaded, ids, ctx.generator(7))
    model = ctx.model
    with preserved_grads(model), eval_mode(model, train=True), own_rng():
        if ctx.device.type == "cuda":
            torch.cuda.synchronize(ctx.device)
            before = torch.cuda.memory_allocated(ctx.device)
            torch.cuda.reset_peak_memory_stats(ctx.device)
            task.loss(ctx.adapter(task.inputs)).backward()
            torch.cuda.synchronize(ctx.device)
            return int(torch.cuda.max_memory_allocated(ctx.device) - before)
        return _saved_bytes(ctx, task)


def _saved_bytes(ctx: RunContext, task: object) -> int:
    """Bytes autograd keeps for backward, each storage counted once, weights and buffers excluded."""
    model = ctx.model
    skip = {p.untyped_storage().data_ptr() for p in model.parameters()}
    skip |= {b.untyped_storage().data_ptr() for b in model.buffers()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            seen[storage.data_ptr()] = storage.nbytes()
        # detached: returning `t` itself ties a saved output to its own grad_fn, a reference cycle
        # through C++ that Python's collector cannot see, so every run kept its whole graph alive
        return t.detach()

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = task.loss(ctx.adapter(task.inputs))  # type: ignore[attr-defined]
    del loss
    return sum(seen.values())


def _fit_exponent(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(memory) against log(length)."""
    pts = [(math.log(t), math.log(m)) for t, m in points if t > 0 and m > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    var = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / var if var > 0 else None
