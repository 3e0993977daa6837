"""Helpers shared by the Tier 1 checks: standard inputs, the task loss, and small formatting tools.

Every check draws its inputs from here so that checks of one run see the same token batch and can
share its forward pass through `RunContext.cached` / `RunContext.eval_logits`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tbwidgets.core.check import Check
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status
from tbwidgets.loading.length import OTHER_CAP, PROBE_CAP
from tbwidgets.loading.model import LoadedModel, Task

STANDARD_BATCH = 4  # rows: enough to see batch effects, small enough for a laptop CPU
STANDARD_LENGTH = 64  # a typical length; clipped to the model's maximum
MASK_FRACTION = 0.15  # BERT's masking rate for the masked-LM loss
CPU_MAX_LEN = PROBE_CAP["cpu"]  # longest input tried on CPU: one forward at 128k tokens would take hours


class Tier1Check(Check):
    """Base of the Tier 1 checks: tables leave as JSON-safe rows (NaN/Inf cells become None)."""

    tier = 1

    def result(self, status: Status, summary: str, details: str = "", **fields: Any) -> CheckResult:
        if fields.get("table") is not None:
            fields["table"] = [{k: _json_safe(v) for k, v in row.items()} for row in fields["table"]]
        return super().result(status, summary, details, **fields)


def _json_safe(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def standard_length(loaded: LoadedModel) -> int:
    return max(1, min(STANDARD_LENGTH, loaded.facts.max_len))


def standard_ids(ctx: RunContext) -> torch.Tensor:
    """The run's shared random token batch (B, T); its eval logits are cached for all checks."""
    return ctx.random_tokens(STANDARD_BATCH, standard_length(ctx.loaded))


def max_probe_len(ctx: RunContext) -> int:
    """Longest input any check runs on this device: the load probe's cap (CPU 4096, others 8192).

    A claim beyond it (Mistral's 131072 positions) was trusted, not run, at load; running it here
    would take hours on CPU and run out of memory on most GPUs with eager attention.
    """
    return PROBE_CAP.get(ctx.device.type, OTHER_CAP)


def probe_len(ctx: RunContext, length: int) -> int:
    """`length`, capped per device (see max_probe_len)."""
    return min(length, max_probe_len(ctx))


def configured_max_len(loaded: LoadedModel) -> int:
    """The longest length the model promises: the usable length, or an explicit claim beyond it.

    Only explicit promises count (the user's config, a model config value that is not merely a
    table's row count): an offset table's extra rows (RoBERTa's 514 for 512) promise nothing.
    """
    return max(loaded.facts.max_len, loaded.facts.claimed_len or 0)


def per_position(loaded: LoadedModel) -> bool:
    """True when the model predicts one distribution per position (language models)."""
    return loaded.task is not Task.CLASSIFICATION


def shape_problem(loaded: LoadedModel, ids: torch.Tensor, logits: Any) -> str | None:
    """Why `logits` is not what the task expects for `ids` (None when it is)."""
    if not isinstance(logits, torch.Tensor):
        return f"the adapter returned {type(logits).__name__}, not a logits tensor"
    B, T = ids.shape
    got = tuple(logits.shape)
    if per_position(loaded):
        want = (B, T, loaded.facts.vocab_size)
        if got != want:
            return f"expected logits of shape {want} (batch, length, vocab), got {got}"
    else:
        labels = loaded.facts.num_labels
        if logits.dim() != 2 or logits.shape[0] != B or (labels is not None and logits.shape[1] != labels):
            return f"expected logits of shape ({B}, {labels or 'classes'}), got {got}"
    return None


def forward_problem(ctx: RunContext) -> str | None:
    """Skip reason shared by checks that need a working forward (cached per run).

    Probes the shared batch plus the one- and two-row batches other checks use, so that one
    shape bug gives one FAIL (Shape robustness) and clear skips, not a cascade of crashes.
    """

    def compute() -> str | None:
        short = min(16, ctx.loaded.facts.max_len)
        for ids in (standard_ids(ctx), ctx.random_tokens(1, short), ctx.random_tokens(2, short)):
            try:
                logits = ctx.eval_logits(ids)
            except Exception as exc:  # noqa: BLE001 - reported as a skip reason, shape_robustness fails it
                shape = tuple(ids.shape)
                return (
                    f"The model's forward fails on a {shape} batch ({first_line(exc)}); see Shape robustness."
                )
            problem = shape_problem(ctx.loaded, ids, logits)
            if problem:
                return f"The model's output has the wrong shape ({problem}); see Shape robustness."
        return None

    return ctx.cached(("tier1", "forward_problem"), compute)


def nondeterminism_problem(ctx: RunContext) -> str | None:
    """Skip reason for checks that compare two forwards: eval mode must be deterministic (cached)."""

    def compute() -> str | None:
        ids = ctx.random_tokens(1, min(16, ctx.loaded.facts.max_len))
        outs = []
        with eval_mode(ctx.model), torch.no_grad(), own_rng():
            for seed in (1, 2):
                torch.manual_seed(ctx.seed + seed)
                outs.append(ctx.adapter(ids).float())
        if max_abs_diff(outs[0], outs[1]) > 1e-5:
            return "Two identical eval forwards give different outputs, so this comparison means nothing; see Determinism."
        return None

    return forward_problem(ctx) or ctx.cached(("tier1", "nondeterminism_problem"), compute)


def abs_diff(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a - b| where NaN equals NaN (same failure twice) and NaN against a number is infinite."""
    a, b = a.float(), b.float()
    same = (torch.isnan(a) & torch.isnan(b)) | (a == b)  # a == b also covers equal infinities
    return (a - b).abs().masked_fill(same, 0.0).nan_to_num(nan=math.inf)


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    diff = abs_diff(a, b)
    return float(diff.max()) if diff.numel() else 0.0


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else '(no message)'}"[:240]


def mask_token_id(loaded: LoadedModel) -> int | None:
    value = loaded.config.get("mask_token_id")
    if value is None:
        value = getattr(getattr(loaded.module, "config", None), "mask_token_id", None)
    return int(value) if isinstance(value, int) and 0 <= value < loaded.facts.vocab_size else None


@dataclass
class TaskBatch:
    """Inputs for one training-style step and the task loss on the model's logits."""

    inputs: torch.Tensor  # (B, T) token ids fed to the model
    targets: torch.Tensor  # causal: (B, T-1); masked: (B, T) with -100 outside the mask; classification: (B,)
    task: Task

    def loss(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        if self.task is Task.CAUSAL_LM:
            V = logits.shape[-1]
            return F.cross_entropy(logits[:, :-1].reshape(-1, V), self.targets.reshape(-1))
        if self.task is Task.MASKED_LM:
            V = logits.shape[-1]
            return F.cross_entropy(logits.reshape(-1, V), self.targets.reshape(-1), ignore_index=-100)
        labels = (self.targets * logits.shape[-1]).long().clamp(max=logits.shape[-1] - 1)
        return F.cross_entropy(logits, labels)

    def chance_loss(self, logits: torch.Tensor) -> float:
        """What an untrained model should score: ln(number of choices)."""
        return math.log(logits.shape[-1])


def task_batch(loaded: LoadedModel, ids: torch.Tensor, generator: torch.Generator) -> TaskBatch:
    """Build the task's training batch from random ids: next token, masked tokens or random labels."""
    if loaded.task is Task.CAUSAL_LM:
        return TaskBatch(ids, ids[:, 1:], Task.CAUSAL_LM)
    if loaded.task is Task.MASKED_LM:
        noise = torch.rand(ids.shape, generator=generator).to(ids.device)
        chosen = noise < MASK_FRACTION
        chosen[torch.arange(ids.shape[0]), noise.argmin(dim=1)] = True  # at least one per row
        mask_id = mask_token_id(loaded)
        if mask_id is None:  # no mask token known: corrupt with random tokens instead
            fill = torch.randint(0, loaded.facts.vocab_size, ids.shape, generator=generator).to(ids.device)
        else:
            fill = torch.full_like(ids, mask_id)
        inputs = torch.where(chosen, fill, ids)
        return TaskBatch(inputs, torch.where(chosen, ids, torch.full_like(ids, -100)), Task.MASKED_LM)
    uniform = torch.rand(ids.shape[0], generator=generator).to(ids.device)  # labels drawn once C is known
    return TaskBatch(ids, uniform, Task.CLASSIFICATION)


def guessed_task_note(loaded: LoadedModel, alternative: str = "task='masked-lm'") -> str:
    """A sentence for verdicts that depend on the task, when the loader only guessed it ("" otherwise)."""
    reason = loaded.task_reason or ""
    if not reason.lower().startswith("guess"):
        return ""
    return (
        f" The task was not stated, only guessed ({reason}); if that is wrong, state it: "
        f"load_model(..., {alternative})."
    )


def loss_name(task: Task) -> str:
    return {
        Task.CAUSAL_LM: "next-token cross-entropy",
        Task.MASKED_LM: "masked-token cross-entropy (15% of positions masked)",
        Task.CLASSIFICATION: "cross-entropy on random labels",
    }[task]


@contextmanager
def preserved_grads(module: nn.Module) -> Iterator[list[nn.Parameter]]:
    """Clear `.grad` for a measurement and put the caller's gradients back afterwards."""
    params = list(module.parameters())
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None
    try:
        yield params
    finally:
        for p, g in zip(params, saved, strict=True):
            p.grad = g


@contextmanager
def own_rng() -> Iterator[None]:
    """Checks must not advance the user's global random state (dropout draws from it)."""
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if cuda else []):
        yield


def ranges(numbers: Iterable[int]) -> str:
    """[0, 1, 2, 5] -> "0–2, 5"."""
    values = sorted(set(numbers))
    parts: list[str] = []
    start = prev = None
    for n in [*values, None]:
        if start is not None and (n is None or n != prev + 1):  # type: ignore[operator]
            parts.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = None
        if n is not None and start is None:
            start = n
        prev = n
    return ", ".join(parts)


def tensor_finite(t: torch.Tensor) -> bool:
    return bool(torch.isfinite(t).all())


def safely(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """(value, None) or (None, exception) — for probing inputs the model may reject."""
    try:
        return fn(), None
    except Exception as exc:  # noqa: BLE001 - the caller reports the exception as a finding
        return None, exc
