"""tier1.shape_robustness: the model runs on a grid of (batch, length) and returns finite logits of the right shape."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tbwidgets.checks.tier1._common import (
    STANDARD_BATCH,
    Tier1Check,
    configured_max_len,
    first_line,
    max_probe_len,
    probe_len,
    shape_problem,
    standard_length,
)
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status


@dataclass
class _Case:
    batch: int
    length: int
    problem: str | None = None
    output_shape: str = ""


@register
class ShapeRobustness(Tier1Check):
    check_id = "tier1.shape_robustness"
    title = "Shape robustness"
    budget_s = 60.0

    def __init__(self, max_batch: int = 8, mid_length: int = 32) -> None:
        self.max_batch = max_batch  # the batch a training run on a small GPU typically uses
        self.mid_length = mid_length  # length used with the largest batch

    def cases(self, max_len: int, config_len: int) -> list[tuple[int, int]]:
        std = (STANDARD_BATCH, min(64, max_len))  # shares its forward with the other checks
        grid = [(1, 1), (1, max_len), (self.max_batch, self.mid_length), std, (3, 17), (2, max_len // 2)]
        if config_len > max_len:
            grid.append((1, config_len))  # the config promises more than the position table holds
        out: list[tuple[int, int]] = []
        for b, t in grid:
            case = (b, max(1, t if t == config_len else min(t, max_len)))
            if case not in out:
                out.append(case)
        return out

    def run(self, ctx: RunContext) -> CheckResult:
        loaded = ctx.loaded
        max_len, config_len = probe_len(ctx, loaded.facts.max_len), configured_max_len(loaded)
        cap = max_probe_len(ctx)
        capped = max(loaded.facts.max_len, config_len) > cap and max_len == cap
        grid = self.cases(max_len, probe_len(ctx, config_len))
        results = []
        for i, (b, t) in enumerate(grid):
            ctx.progress(i / (len(grid) + 1), f"batch {b} × length {t}")
            results.append(self._try(ctx, b, t))
        table = [
            {
                "batch": c.batch,
                "length": c.length,
                "output_shape": c.output_shape,
                "status": "fail" if c.problem else "pass",
                "problem": c.problem or "",
            }
            for c in results
        ]
        failed = [c for c in results if c.problem]
        metrics = {"cases": float(len(results)), "failed_cases": float(len(failed))}
        if not failed:
            return self.result(
                Status.PASS,
                f"All {len(results)} shapes work, up to batch {max(c.batch for c in results)} and "
                f"length {max(c.length for c in results)}.",
                "Outputs have the expected shape and are finite for every (batch, length) tried."
                + (f" On {ctx.device.type}, lengths are tried up to {cap} only." if capped else ""),
                metrics=metrics,
                table=table,
            )
        return self._fail(ctx, results, failed[0], metrics, table)

    def _try(self, ctx: RunContext, batch: int, length: int) -> _Case:
        case = _Case(batch, length)
        ids = ctx.random_tokens(batch, length)
        try:
            shared = {
                (STANDARD_BATCH, standard_length(ctx.loaded)),
                (1, probe_len(ctx, ctx.loaded.facts.max_len)),
            }
            if (batch, length) in shared:
                logits = ctx.eval_logits(ids)  # numerical_stability and others reuse these
            else:
                with eval_mode(ctx.model), torch.no_grad():
                    logits = ctx.adapter(ids)
        except Exception as exc:  # noqa: BLE001 - a failing shape is the finding
            case.problem = first_line(exc)
            return case
        case.output_shape = (
            str(tuple(logits.shape)) if isinstance(logits, torch.Tensor) else type(logits).__name__
        )
        case.problem = shape_problem(ctx.loaded, ids, logits)
        if case.problem is None and not bool(torch.isfinite(logits).all()):
            case.problem = "output contains NaN or Inf"
        return case

    def _fail(
        self, ctx: RunContext, results: list[_Case], first: _Case, metrics: dict[str, float], table: list
    ) -> CheckResult:
        facts = ctx.loaded.facts
        summary = f"Fails at batch {first.batch} × length {first.length}: {first.problem}"
        details = [_advice(first, results)]
        short_ok = all(c.problem is None for c in results if c.length <= max(1, first.length // 2))
        if first.length > 1 and short_ok and _length_problem(first, results):
            ctx.progress(0.9, "searching the largest working length")
            longest = self._longest_working(ctx, first.length)
            metrics["longest_working_length"] = float(longest)
            config_len = configured_max_len(ctx.loaded)
            rows = f" (the position table has {facts.position_rows} rows)" if facts.position_rows else ""
            if config_len > facts.max_len:
                summary = (
                    f"{facts.claimed_len_source or 'The config'} promises length {config_len}, but the "
                    f"longest input that runs is {longest}{rows}."
                )
            details.append(
                f"The longest input that works is {longest} tokens ({facts.max_len_source}{rows}). "
                "Inputs longer than the position table index past its end: make the table as long as "
                "the promised max length, or lower max_seq_len in the config."
            )
        return self.result(Status.FAIL, summary, " ".join(details), metrics=metrics, table=table)

    def _longest_working(self, ctx: RunContext, failing: int) -> int:
        lo, hi = 1, failing  # lo works (length 1 passed), hi fails
        while hi - lo > 1:
            ctx.raise_if_cancelled()
            mid = (lo + hi) // 2
            if self._try(ctx, 1, mid).problem is None:
                lo = mid
            else:
                hi = mid
        return lo


def _length_problem(first: _Case, results: list[_Case]) -> bool:
    """The failure depends on length, not batch: a shorter input with the same batch worked."""
    return any(c.problem is None and c.length < first.length for c in results)


def _advice(first: _Case, results: list[_Case]) -> str:
    if first.problem and "expected logits of shape" in first.problem:
        return (
            "Every check and every training step assumes logits of shape (batch, length, vocab) — "
            "one distribution over the vocabulary per position. Check that the output layer's width "
            "equals the vocabulary size and that forward returns the logits (not hidden states)."
        )
    batches_fail = {c.batch for c in results if c.problem}
    if len(batches_fail) < len({c.batch for c in results}) and all(
        c.problem for c in results if c.batch == 1
    ):
        return (
            "Some batch sizes fail while others work: the forward probably hard-codes a batch size "
            "(e.g. view(4, ...)). Use x.shape[0] (or -1) instead of a literal."
        )
    return (
        "A model that fails on some input shapes will crash in training or generation. "
        "The table lists every case; fix the first failing one and re-run."
    )
