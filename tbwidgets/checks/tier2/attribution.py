"""Integrated Gradients on the token embedding (captum LayerIntegratedGradients), with quality control.

Token ids are not differentiable, so the path integral runs over the token embedding layer's
output, from the embeddings of a baseline sequence (all pad tokens, or token 0) to the input's.
The path only ends at f(baseline) when the ids matter through that layer alone; models that also
read the raw ids (RoBERTa counts position ids from the non-padding tokens) get another baseline
token, the first whose all-baseline input agrees with the path's end (`consistent_baseline`).
The attributed value is the logit of the predicted next token (not its probability: a saturated
softmax has near-zero gradients). Completeness — sum(scores) = f(input) − f(baseline) — is
checked through captum's convergence delta; when the delta is large relative to that
difference, the number of steps is doubled up to a cap and every try is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from tbwidgets.checks.tier2._resolve import as_loaded, logits_of, model_device, token_input
from tbwidgets.core.context import eval_mode
from tbwidgets.loading.model import LoadedModel, Task

DEFAULT_TOLERANCE = 0.05  # |delta| ≤ 5% of |f(x) − f(baseline)| counts as converged
DEFAULT_MAX_STEPS = 400  # 8× captum's default; beyond that, more steps rarely help (captum#1334)
DIFF_FLOOR = 1e-3  # below this logit difference a relative delta is meaningless; use it instead
CPU_BUDGET_BYTES = 1 << 30  # activations per IG chunk on a CPU: 1 GiB
GPU_FREE_SHARE = 0.5  # on a GPU, chunks may use half of the free memory


@dataclass(frozen=True)
class Attribution:
    """Per-token signed attributions of one target logit, and how they were obtained."""

    scores: torch.Tensor  # (T,) float32: summed over the embedding dimension
    tokens: list[str]
    target: int  # token id whose logit was attributed
    target_token: str
    position: int  # the query position (0-based) whose output was attributed
    delta: float  # captum's convergence delta: sum(scores) − (f_input − f_baseline)
    n_steps: int
    f_input: float
    f_baseline: float
    baseline_id: int
    internal_batch_size: int
    tries: list[tuple[int, float]] = field(default_factory=list)  # (n_steps, delta) per try
    notes: list[str] = field(default_factory=list)
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def relative_delta(self) -> float:
        """|delta| relative to |f(input) − f(baseline)| (floored at DIFF_FLOOR)."""
        return abs(self.delta) / max(abs(self.f_input - self.f_baseline), DIFF_FLOOR)

    @property
    def converged(self) -> bool:
        return self.relative_delta <= self.tolerance

    def rows(self) -> list[dict[str, Any]]:
        """One row per token: position, token, score and share of the total absolute score."""
        total = float(self.scores.abs().sum()) or 1.0
        return [
            {"position": i, "token": t, "score": round(float(s), 6), "share": round(abs(float(s)) / total, 4)}
            for i, (t, s) in enumerate(zip(self.tokens, self.scores, strict=True))
        ]

    def __repr__(self) -> str:
        return (
            f"<Attribution of logit {self.target_token!r} at position {self.position}: {len(self.tokens)} tokens, "
            f"{self.n_steps} steps, delta {self.delta:+.2e} ({self.relative_delta:.1%})>"
        )


def auto_batch_size(loaded: LoadedModel, length: int, n_steps: int) -> int:
    """IG evaluations per chunk so the activations of one chunk fit the memory budget."""
    d = loaded.facts.d_model or (loaded.token_embedding.embedding_dim if loaded.token_embedding else 512)
    layers = loaded.facts.n_layers or 12
    per_step = 4 * length * (16 * d * layers + loaded.facts.vocab_size)  # bytes: ~16 saved tensors of d
    device = model_device(loaded.module)
    budget = float(CPU_BUDGET_BYTES)
    if device.type == "cuda":
        budget = torch.cuda.mem_get_info(device)[0] * GPU_FREE_SHARE
    return int(max(1, min(n_steps, budget // per_step)))


def integrated_gradients(
    source: Any,
    input_ids: Any = None,
    text: str | None = None,
    position: int = -1,
    target: int | None = None,
    n_steps: int = 50,
    *,
    tokenizer: Any = None,
    baseline_id: int | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    tolerance: float = DEFAULT_TOLERANCE,
    internal_batch_size: int | None = None,
    max_tokens: int = 128,
    time_budget_s: float | None = None,
    progress: Callable[[float, str], None] | None = None,
    check_stop: Callable[[], None] | None = None,
) -> Attribution:
    """Attribute the logit of `target` (default: the predicted next token) at `position` to each token.

    `source` is a LoadedModel or anything `load_model` accepts. Retries with doubled `n_steps`
    (up to `max_steps`, and within `time_budget_s`) while |delta| > `tolerance`·|f(x) − f(baseline)|.
    `check_stop` is called before every forward pass (captum runs many) and may raise to stop.
    """
    loaded = as_loaded(source)
    if loaded.token_embedding is None:
        raise ValueError(
            "Integrated Gradients needs the model's token embedding (an nn.Embedding), and none was found. "
            "Make the token embedding an nn.Embedding attribute of the model."
        )
    tok = token_input(loaded, input_ids=input_ids, text=text, tokenizer=tokenizer, max_tokens=max_tokens)
    ids = tok.ids.to(model_device(loaded.module))
    pos = position + ids.shape[1] if position < 0 else position
    if not 0 <= pos < ids.shape[1]:
        raise ValueError(f"position {position} is outside the input of {ids.shape[1]} tokens.")
    stop_hook = None
    if check_stop is not None:  # one IG try can take a minute on a CPU: let Stop interrupt it
        stop_hook = loaded.module.register_forward_pre_hook(lambda module, args: check_stop())
    try:
        return _attribute(loaded, tok, ids, pos, target, baseline_id, n_steps, max_steps, tolerance,
                          internal_batch_size, time_budget_s, progress, tokenizer)  # fmt: skip
    finally:
        if stop_hook is not None:
            stop_hook.remove()


def _attribute(
    loaded: LoadedModel, tok: Any, ids: torch.Tensor, pos: int, target: int | None, baseline_id: int | None,
    n_steps: int, max_steps: int, tolerance: float, internal_batch_size: int | None,
    time_budget_s: float | None, progress: Callable[[float, str], None] | None, tokenizer: Any,
) -> Attribution:  # fmt: skip
    from captum.attr import LayerIntegratedGradients  # lazy: captum imports take a second

    def forward(x: torch.Tensor) -> torch.Tensor:
        logits = logits_of(loaded, x)  # (B, T, V), or (B, 1, C) for one output per sequence
        return logits[:, pos if logits.shape[1] > 1 else 0, :]  # (B, V)

    notes: list[str] = []
    with eval_mode(loaded.module), torch.enable_grad():
        with torch.no_grad():
            if baseline_id is not None:
                base_id = baseline_id
            else:
                base_id, note = consistent_baseline(loaded, ids, forward)
                notes += [note] if note else []
            baseline = torch.full_like(ids, base_id)
            logits = forward(ids)[0]
            tgt = int(logits.argmax()) if target is None else int(target)
            f_x, f_b = float(logits[tgt]), float(forward(baseline)[0, tgt])
        lig = LayerIntegratedGradients(forward, loaded.token_embedding)
        ibs = internal_batch_size or auto_batch_size(loaded, ids.shape[1], max_steps)
        best, tries, converge_notes = _converge(
            lambda steps: lig.attribute(
                ids, baselines=baseline, target=tgt, n_steps=steps, internal_batch_size=min(ibs, steps),
                return_convergence_delta=True,
            ),
            n_steps, max_steps, tolerance * max(abs(f_x - f_b), DIFF_FLOOR), time_budget_s, progress,
        )  # fmt: skip
    attr, delta, steps = best
    notes += converge_notes
    if tok.truncated_from:
        notes.insert(0, f"input cut from {tok.truncated_from} to {tok.length} tokens")
    scores = attr[0].sum(-1).detach().float().cpu()  # (T,): summed over the embedding dimension
    label = _token_label(loaded, tgt, tokenizer)
    return Attribution(
        scores,
        tok.tokens,
        tgt,
        label,
        pos,
        delta,
        steps,
        f_x,
        f_b,
        base_id,
        min(ibs, steps),
        tries,
        notes,
        tolerance,
    )


def consistent_baseline(
    loaded: LoadedModel, ids: torch.Tensor, forward: Callable[[torch.Tensor], torch.Tensor]
) -> tuple[int, str | None]:
    """The baseline token: padding (or 0) unless the model reads that id outside its token embedding.

    The IG path feeds `ids` with the embedding layer's output swapped for the baseline's; it ends
    at f(baseline) only if the model sees the ids through that layer alone. A candidate passes when
    the swapped forward equals the plain forward of the all-baseline input. Returns (id, note).
    """
    vocab = loaded.facts.vocab_size or int(ids.max()) + 1
    first = loaded.facts.pad_token_id or 0
    candidates = list(dict.fromkeys(c for c in (first, 0, 2, 3, 4) if 0 <= c < vocab))
    for candidate in candidates:
        try:
            ends_there = _path_ends_at_baseline(loaded, ids, candidate, forward)
        except Exception:  # noqa: BLE001 - the swap itself failed (an embedding called twice): cannot tell
            return first, None
        if ends_there:
            if candidate == first:
                return candidate, None
            return candidate, (
                f"baseline token {candidate}, not {first}: the model reads token {first} outside its embedding "
                "(e.g. position ids counted from the non-padding tokens), so an all-padding baseline is not "
                "where the attribution path ends"
            )
    return first, f"no baseline token among {candidates} gives an exact path end; kept {first}"


def _path_ends_at_baseline(
    loaded: LoadedModel, ids: torch.Tensor, candidate: int, forward: Callable[[torch.Tensor], torch.Tensor]
) -> bool:
    embedding = loaded.token_embedding
    assert embedding is not None
    baseline = torch.full_like(ids, candidate)
    plain = forward(baseline)
    swapped_in = embedding(baseline)
    hook = embedding.register_forward_hook(lambda module, args, out: swapped_in)
    try:
        swapped = forward(ids)
    finally:
        hook.remove()
    scale = float(plain.abs().max()) or 1.0
    return float((plain - swapped).abs().max()) <= 1e-4 * scale + 1e-6


def _token_label(loaded: LoadedModel, token_id: int, tokenizer: Any) -> str:
    from tbwidgets.loading.tokenizer import id_strings

    if loaded.task is Task.CLASSIFICATION:
        return f"class {token_id}"
    return id_strings([token_id], loaded.facts.vocab_size, tokenizer)[0]


def _converge(
    attribute: Callable[[int], Any],
    n_steps: int,
    max_steps: int,
    max_abs_delta: float,
    time_budget_s: float | None,
    progress: Callable[[float, str], None] | None,
) -> tuple[tuple[torch.Tensor, float, int], list[tuple[int, float]], list[str]]:
    """Run IG, doubling the steps while |delta| > `max_abs_delta`; keep the try with the smallest delta."""
    started, steps = time.perf_counter(), n_steps
    tries: list[tuple[int, float]] = []
    notes: list[str] = []
    best: tuple[torch.Tensor, float, int] | None = None
    while True:
        t0 = time.perf_counter()
        attr, delta_t = attribute(steps)
        delta = float(delta_t.reshape(-1)[0])
        tries.append((steps, delta))
        if best is None or abs(delta) < abs(best[1]):
            best = (attr, delta, steps)
        if abs(delta) <= max_abs_delta:
            break
        if steps >= max_steps:
            notes.append(f"delta stayed large at the cap of {max_steps} steps")
            break
        cost = (time.perf_counter() - t0) * 2  # the next try has twice the steps
        if time_budget_s is not None and time.perf_counter() - started + cost > time_budget_s:
            notes.append(f"stopped raising n_steps at {steps}: the next try would exceed the time budget")
            break
        if progress is not None:
            progress(
                min(0.9, steps / max_steps),
                f"delta {delta:+.2e}: retrying with {min(2 * steps, max_steps)} steps",
            )
        steps = min(2 * steps, max_steps)
    if len(tries) > 1:
        notes.append("n_steps raised: " + ", ".join(f"{s} steps → delta {d:+.2e}" for s, d in tries))
    return best, tries, notes
