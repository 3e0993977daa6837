"""tier1.inference_speed: p50/p95 latency and tokens per second per (batch, length), time-boxed.

Warm-up first, `torch.inference_mode`, and CUDA events with synchronisation on GPU.
"""

from __future__ import annotations

import statistics
import time

import torch

from tbwidgets.checks.tier1._common import Tier1Check, forward_problem
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status


@register
class InferenceSpeed(Tier1Check):
    check_id = "tier1.inference_speed"
    title = "Inference speed"
    budget_s = 60.0

    def __init__(
        self,
        cases: tuple[tuple[int, int], ...] = ((1, 64), (8, 64)),
        warmup: int = 2,
        max_repeats: int = 30,
        time_box_s: float = 1.0,
    ) -> None:
        self.cases = cases  # (batch, length): one interactive request and one small batch
        self.warmup = warmup  # first calls pay for allocation and kernel selection
        self.max_repeats = max_repeats  # enough for a p95 estimate
        self.time_box_s = time_box_s  # per case; the whole check stays a few seconds on CPU

    def skip_reason(self, ctx: RunContext) -> str | None:
        return forward_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        rows, latencies = [], {}
        L = ctx.loaded.facts.max_len
        cases = list(dict.fromkeys((b, max(1, min(t, L))) for b, t in self.cases))
        for i, (b, t) in enumerate(cases):
            ctx.progress(i / len(cases), f"timing batch {b} × length {t}")
            times = self._time(ctx, ctx.random_tokens(b, t, offset=8))
            latencies[f"{b}x{t}"] = [s * 1e3 for s in times]
            p50 = statistics.median(times)
            p95 = _percentile(times, 0.95)
            rows.append(
                {
                    "batch": b,
                    "length": t,
                    "runs": len(times),
                    "p50_ms": p50 * 1e3,
                    "p95_ms": p95 * 1e3,
                    "tokens_per_s": b * t / p50 if p50 > 0 else float("inf"),
                }
            )
        first, best = rows[0], max(rows, key=lambda r: r["tokens_per_s"])
        metrics = {
            "p50_ms": first["p50_ms"],
            "p95_ms": first["p95_ms"],
            "tokens_per_s": best["tokens_per_s"],
        }
        return self.result(
            Status.PASS,
            f"Batch {first['batch']} × {first['length']} tokens: p50 {first['p50_ms']:.1f} ms, "
            f"p95 {first['p95_ms']:.1f} ms; up to {best['tokens_per_s']:,.0f} tokens/s on {ctx.device.type}.",
            "Latency of one forward pass in inference mode after warm-up. Numbers depend on the device "
            "and on other work running on it; compare them on the same machine only.",
            metrics=metrics,
            table=rows,
            artifacts={"latency_ms": latencies},  # per "BxT" case, every timed run
        )

    def _time(self, ctx: RunContext, ids: torch.Tensor) -> list[float]:
        cuda = ctx.device.type == "cuda"
        times: list[float] = []
        with eval_mode(ctx.model), torch.inference_mode():
            for _ in range(self.warmup):
                t0 = time.perf_counter()
                ctx.adapter(ids)
                if time.perf_counter() - t0 > self.time_box_s:  # one slow call is warm enough: a
                    break  # 124M model at 8×64 on a CPU spends seconds per call, not on allocation
            stop = time.perf_counter() + self.time_box_s
            while len(times) < self.max_repeats and (not times or time.perf_counter() < stop):
                ctx.raise_if_cancelled()
                times.append(_cuda_time(ctx, ids) if cuda else _cpu_time(ctx, ids))
        return times


def _cpu_time(ctx: RunContext, ids: torch.Tensor) -> float:
    t0 = time.perf_counter()
    ctx.adapter(ids)
    return time.perf_counter() - t0


def _cuda_time(ctx: RunContext, ids: torch.Tensor) -> float:
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    ctx.adapter(ids)
    end.record()
    torch.cuda.synchronize(ctx.device)
    return start.elapsed_time(end) / 1e3


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
