"""tier1.parameter_init: parameter statistics by kind, and how activation scale changes through the blocks.

PyTorch's defaults (LayerNorm weight 1, zero biases, N(0, 1) embeddings) are normal and never flagged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from tbwidgets.checks.tier1._blocks import describe_modules, find_blocks
from tbwidgets.checks.tier1._common import Tier1Check, forward_problem
from tbwidgets.checks.tier1._zeros import ZeroVerdict, judge_zeros
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status

_NORMS = (
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.batchnorm._NormBase,
    *([nn.RMSNorm] if hasattr(nn, "RMSNorm") else []),
)


def param_kind(module: nn.Module, name: str, p: torch.Tensor) -> str:
    """embedding, linear weight, bias, norm weight or other — the groups whose normal ranges differ."""
    if isinstance(module, nn.Embedding):
        return "embedding"
    if name.endswith("bias"):
        return "bias"
    if p.dim() >= 2:
        return "linear weight"
    if isinstance(module, _NORMS) or "norm" in type(module).__name__.lower():
        return "norm weight"
    return "other"


@register
class ParameterInit(Tier1Check):
    check_id = "tier1.parameter_init"
    title = "Parameter initialisation"
    budget_s = 60.0

    def __init__(self, growth_limit: float = 1e3, batch: int = 2, length: int = 32) -> None:
        # activations growing or shrinking by more than this across the blocks: orders of magnitude
        self.growth_limit = growth_limit
        self.batch, self.length = batch, length  # activation scale needs no big batch

    def run(self, ctx: RunContext) -> CheckResult:
        ctx.progress(0.1, "parameter statistics")
        table, bad, zero = _param_table(ctx.model)
        metrics: dict[str, float] = {"parameters": float(len(table))}
        for kind, stds in _by_kind(table).items():
            metrics[f"median_std.{kind}"] = stds
        if bad:
            return self.result(
                Status.FAIL,
                f"NaN/Inf values in {describe_modules(bad)}.",
                "Any computation touching these weights gives NaN. Re-initialise the model, and check "
                "custom init code or a checkpoint that was saved after training diverged.",
                metrics=metrics,
                table=table,
            )
        notes = ""
        if zero:
            ctx.progress(0.3, "what the all-zero matrices do to gradients")
            verdict = judge_zeros(ctx, zero) if not forward_problem(ctx) else None
            if verdict is not None and verdict.stuck:
                _mark(table, verdict.stuck, "all zero, no gradient")
                return self.result(
                    Status.FAIL,
                    f"All-zero weight matrix that gets no gradient: {describe_modules(verdict.stuck)}.",
                    "These matrices are zero and one backward pass gives them an exactly zero gradient, "
                    "so training can never move them: what they multiply stays cut off (typically two "
                    "zeroed layers in a row, each blocking the other's gradient). Use the default init "
                    "(or nn.init.normal_(w, std=0.02)); zero-init at most one matrix per branch, e.g. "
                    "the output projection of a residual branch or LoRA's B.",
                    metrics=metrics,
                    table=table,
                )
            notes = _zero_notes(zero, verdict, table)
        ctx.progress(0.5, "activation scale through the blocks")
        result = self._activation_verdict(ctx, metrics, table)
        return replace(result, details=f"{result.details} {notes}".strip()) if notes else result

    def _activation_verdict(
        self, ctx: RunContext, metrics: dict[str, float], table: list[dict]
    ) -> CheckResult:
        scales = None if forward_problem(ctx) else _activation_scales(ctx, self.batch, self.length)
        if not scales or any(math.isnan(rms) for _, rms in scales):
            why = (
                "the forward gives NaN (see Numerical stability)"
                if scales
                else "no repeated blocks were found"
            )
            return self.result(
                Status.PASS,
                f"{len(table)} parameters look sane (no NaN/Inf, no all-zero matrix stuck at zero).",
                f"Activation scale through the blocks was not measured: {why}.",
                metrics=metrics,
                table=table,
            )
        growth = scales[-1][1] / scales[0][1] if scales[0][1] > 0 else float("inf")
        if math.isfinite(growth):
            metrics["activation_growth"] = growth
        path = ", ".join(f"{name}: {rms:.3g}" for name, rms in scales)
        if not math.isfinite(growth) or growth > self.growth_limit or growth < 1 / self.growth_limit:
            way = "grow" if not math.isfinite(growth) or growth > 1 else "shrink"
            return self.result(
                Status.FAIL,
                f"Activations {way} {growth:.3g}× from the first block's input to the last block's output.",
                f"RMS through the blocks: {path}. Scale changing by orders of magnitude with depth means "
                "weights initialised too large (or too small) for their fan-in and nothing re-normalising "
                "the signal. Use init std ≈ 1/sqrt(fan_in) (PyTorch's default) or 0.02, and add LayerNorm "
                "and residual connections.",
                metrics=metrics,
                table=table,
            )
        return self.result(
            Status.PASS,
            f"{len(table)} parameters look sane; activation scale changes {growth:.3g}× across {len(scales) - 1} blocks.",
            f"No NaN/Inf, no all-zero matrix stuck at zero; PyTorch defaults (norm weights of 1, zero biases) are "
            f"expected. RMS through the blocks: {path}.",
            metrics=metrics,
            table=table,
        )


def _param_table(model: nn.Module) -> tuple[list[dict], list[str], list[str]]:
    """One row per parameter; also the names holding NaN/Inf and the all-zero matrices."""
    rows, bad, zero = [], [], []
    for module_name, module in model.named_modules():
        for name, p in module.named_parameters(recurse=False):
            full = f"{module_name}.{name}" if module_name else name
            data = p.detach().float()
            kind = param_kind(module, name, p)
            finite = bool(torch.isfinite(data).all())
            row: dict[str, Any] = {"parameter": full, "kind": kind, "shape": str(tuple(p.shape))}
            if not finite:
                bad.append(full)
                nan = float("nan")
                row.update(mean=nan, std=nan, min=nan, max=nan, abs_max=nan, note="NaN/Inf")
            else:
                std = float(data.std()) if data.numel() > 1 else 0.0
                absmax = float(data.abs().max()) if data.numel() else 0.0
                note = "all zero" if p.dim() >= 2 and absmax == 0.0 and p.numel() else ""
                if note:
                    zero.append(full)
                empty = data.numel() == 0
                row.update(
                    mean=0.0 if empty else float(data.mean()),
                    std=std,
                    min=0.0 if empty else float(data.min()),
                    max=0.0 if empty else float(data.max()),
                    abs_max=absmax,
                    note=note,
                )
            rows.append(row)
    return rows, bad, zero


def _mark(table: list[dict], names: list[str], note: str) -> None:
    for row in table:
        if row["parameter"] in names:
            row["note"] = note


def _zero_notes(zero: list[str], verdict: ZeroVerdict | None, table: list[dict]) -> str:
    """A sentence per kind of all-zero matrix that is not a problem (or could not be judged)."""
    if verdict is None or verdict.error:
        why = verdict.error if verdict is not None and verdict.error else "the forward fails"
        return f"All-zero matrices ({describe_modules(zero)}) were not judged: {why}."
    parts = []
    if verdict.training:
        _mark(table, verdict.training, "all zero, trains from step one")
        held = sorted({n for names in verdict.blocked.values() for n in names})
        parts.append(
            f"Zero-initialised but getting a gradient, so they train from the first step: "
            f"{describe_modules(verdict.training)} (zero position tables, zero-init residual "
            "projections, LoRA's B and layer-scale are common on purpose)."
            + (f" Until then they hold back the gradient of {describe_modules(held)}." if held else "")
        )
    if verdict.frozen:
        _mark(table, verdict.frozen, "all zero, frozen")
        parts.append(f"Frozen all-zero matrices stay zero: {describe_modules(verdict.frozen)}.")
    if verdict.unused:
        _mark(table, verdict.unused, "all zero, not in the loss")
        parts.append(
            f"All-zero matrices that get no gradient because the loss does not use them: "
            f"{describe_modules(verdict.unused)} (see Gradient flow)."
        )
    return " ".join(parts)


def _by_kind(table: list[dict]) -> dict[str, float]:
    groups: dict[str, list[float]] = defaultdict(list)
    for row in table:
        if math.isfinite(row["std"]):
            groups[row["kind"]].append(row["std"])
    return {kind: float(torch.tensor(v).median()) for kind, v in groups.items()}


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value:
        return _first_tensor(value[0])
    return getattr(value, "last_hidden_state", None) if hasattr(value, "last_hidden_state") else None


def _rms(t: torch.Tensor | None) -> float:
    return (
        float(t.detach().float().pow(2).mean().sqrt())
        if t is not None and t.is_floating_point()
        else float("nan")
    )


def _activation_scales(ctx: RunContext, batch: int, length: int) -> list[tuple[str, float]]:
    """RMS of the first block's input, then of every block's output (forward hooks, eval mode)."""
    blocks = find_blocks(ctx.model)
    if len(blocks) < 2:
        return []
    scales: list[tuple[str, float]] = []

    def record_input(_m: nn.Module, args: tuple, kwargs: dict) -> None:
        first = _first_tensor(args)
        scales.append(("input", _rms(first if first is not None else _first_tensor(list(kwargs.values())))))

    handles = [blocks[0].modules[0].register_forward_pre_hook(record_input, with_kwargs=True)]
    for block in blocks:
        handles.append(
            block.modules[-1].register_forward_hook(
                lambda _m, _a, out, name=block.name: scales.append((name, _rms(_first_tensor(out))))
            )
        )
    ids = ctx.random_tokens(batch, min(length, ctx.loaded.facts.max_len), offset=3)
    try:
        with eval_mode(ctx.model), torch.no_grad():
            ctx.adapter(ids)
    finally:
        for h in handles:
            h.remove()
    seen: dict[str, float] = {}
    for name, rms in scales:  # a block called twice (weight sharing) keeps its first call
        seen.setdefault(name, rms)
    return list(seen.items())
