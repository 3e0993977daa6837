"""tier1.padding_invariance: padding a batch must not move the outputs at the real tokens.

Sequences of several lengths are padded to one batch (right and left, pad id 0 and a random id) and
run with the attention mask; each real token's output must equal what the sequence gives alone.
Left padding also moves absolute positions, which is not the mask's fault, so it is compared only
when positions can follow the mask (the model takes `position_ids`) or the model has no absolute
position table; otherwise right padding is checked and the reason is noted.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

import torch

from tbwidgets.checks.tier1._common import Tier1Check, first_line, nondeterminism_problem, per_position
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status

_ABS_POS = re.compile(r"(^|[._])(pos|wpe|position|pe)(?=$|[._])", re.I)  # pos_emb, wpe, pe, position_ids
_RELATIVE = re.compile(r"(rotary|rope|inv_freq|alibi|relative)", re.I)


@dataclass
class Case:
    side: str  # "right" or "left"
    pad_id: int
    ids: torch.Tensor  # (B, T) padded batch
    mask: torch.Tensor  # (B, T) 1 at real tokens


def tolerance(dtype: torch.dtype, scale: float, floor: float = 1e-4, eps_factor: float = 50.0) -> float:
    """Allowed move: float32 summation-order noise (1e-4) or 50 ulps of a low-precision dtype, times the output scale."""
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else 0.0
    return max(floor, eps_factor * eps) * max(1.0, scale)


def absolute_positions(model: torch.nn.Module) -> bool:
    """True when a learned or fixed position table (parameter or buffer) is added to the tokens."""
    for name, _ in [*model.named_parameters(), *model.named_buffers()]:
        if _ABS_POS.search(name) and not _RELATIVE.search(name):
            return True
    return False


def takes_position_ids(model: torch.nn.Module) -> bool:
    try:
        return "position_ids" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


@register
class PaddingInvariance(Tier1Check):
    check_id = "tier1.padding_invariance"
    title = "Padding invariance"
    budget_s = 60.0

    def __init__(self, length: int = 16, seed_offset: int = 23) -> None:
        self.length = length  # three sequences up to this long: padding bugs show at any length
        self.seed_offset = seed_offset

    def skip_reason(self, ctx: RunContext) -> str | None:
        if not ctx.adapter.accepts_mask:
            causal = "causal" in ctx.loaded.task.value
            return "The model's forward takes no attention mask, so there is no padding to respect. " + (
                "For a causal model that is fine with right padding (pads come after every real token)."
                if causal
                else "A bidirectional model then lets real tokens attend to padding: add an "
                "attention_mask argument and pass it to attention."
            )
        if min(self.length, ctx.loaded.facts.max_len) < 4:
            return "The model's usable length is under 4 tokens: too short to pad."
        return nondeterminism_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        T = min(self.length, ctx.loaded.facts.max_len)
        seqs = self._sequences(ctx, T)
        left_ok, left_note = self._left_padding_ok(ctx)
        sides = ["right", "left"] if left_ok else ["right"]
        cases = [_pad(seqs, T, side, pad) for side in sides for pad in self._pad_ids(ctx)]
        ctx.progress(0.2, "each sequence alone")
        try:
            with eval_mode(ctx.model), torch.no_grad():
                alone = [self._call(ctx, _pad([s], len(s), "right", 0))[0].float() for s in seqs]
                moves = [self._moves(ctx, case, alone) for case in cases]
        except Exception as exc:  # noqa: BLE001 - a model that rejects a padding mask is a finding
            return self.result(
                Status.SKIPPED,
                f"The model rejects a padded batch with a (batch, length) mask: {first_line(exc)}",
                f"The mask was passed as {ctx.adapter.mask_name}=… (1 = real token, 0 = padding).",
            )
        return self._verdict(ctx, seqs, alone, list(zip(cases, moves, strict=True)), left_note)

    def _sequences(self, ctx: RunContext, T: int) -> list[torch.Tensor]:
        pads = sorted({0, max(1, T // 4), max(2, T // 2)})
        full = ctx.random_tokens(len(pads), T, offset=self.seed_offset)
        return [full[i, : T - p] for i, p in enumerate(pads)]

    def _pad_ids(self, ctx: RunContext) -> list[int]:
        declared = _declared_pad_id(ctx)
        if not per_position(ctx.loaded) and declared is not None:
            return [declared]  # classifiers may find the last real token by the pad id (HF GPT-2)
        gen = ctx.generator(self.seed_offset + 1)
        return [0, int(torch.randint(1, ctx.loaded.facts.vocab_size, (1,), generator=gen))]

    def _left_padding_ok(self, ctx: RunContext) -> tuple[bool, str]:
        if not per_position(ctx.loaded):
            return False, "Left padding was not checked: a classifier's pooled position depends on the side."
        if takes_position_ids(ctx.model):
            return True, "Left padding was run with position_ids that follow the mask."
        if not absolute_positions(ctx.model):
            return True, "Left padding was checked too (no absolute position table found)."
        return False, (
            "Left padding was not checked: the model adds an absolute position table and takes no "
            "position_ids, so left-padded tokens sit at other positions whatever the mask does. "
            "Pad on the right (or accept position_ids that follow the mask) when batching."
        )

    def _moves(self, ctx: RunContext, case: Case, alone: list[torch.Tensor]) -> list[tuple[float, int, int]]:
        """(largest move, row, position) per sequence of the batch, positions counted in the sequence."""
        logits = self._call(ctx, case).float()
        out = []
        for row, ref in enumerate(alone):
            n = int(case.mask[row].sum())
            start = case.ids.shape[1] - n if case.side == "left" else 0
            got = logits[row, start : start + n] if per_position(ctx.loaded) else logits[row]
            diff = (got - ref).abs().nan_to_num(nan=float("inf"))
            flat = int(diff.argmax())
            pos = flat // diff.shape[-1] if diff.dim() == 2 else 0
            out.append((float(diff.max()), row, pos))
        return out

    def _call(self, ctx: RunContext, case: Case) -> torch.Tensor:
        """The model on a padded batch; positions follow the mask whenever the model takes position_ids.

        Alone and padded calls both get explicit positions then, so a model whose own default
        differs (RoBERTa counts from its padding index + 1) is compared like with like.
        """
        adapter = ctx.adapter
        if not takes_position_ids(ctx.model):
            mask = None if bool(case.mask.all()) else case.mask  # alone: called as users call it
            return adapter(case.ids, attention_mask=mask)  # type: ignore[no-any-return]
        positions = (case.mask.cumsum(-1) - 1).clamp(min=0)
        kwargs = {adapter.mask_name: case.mask, "position_ids": positions}
        out = (
            adapter.module(input_ids=case.ids, **kwargs)
            if adapter.by_keyword
            else adapter.module(case.ids, **kwargs)
        )
        return adapter.extract_logits(out)  # type: ignore[no-any-return]

    def _verdict(
        self,
        ctx: RunContext,
        seqs: list[torch.Tensor],
        alone: list[torch.Tensor],
        results: list[tuple[Case, list[tuple[float, int, int]]]],
        left_note: str,
    ) -> CheckResult:
        dtype = next((p.dtype for p in ctx.model.parameters() if p.is_floating_point()), torch.float32)
        scale = max(float(a.abs().max()) for a in alone)
        tol = tolerance(dtype, scale)
        T = max(len(s) for s in seqs)
        rows = [(case, move) for case, moves in results for move in moves]
        worst_case, (move, row, pos) = max(rows, key=lambda cm: cm[1][0])
        table = [
            {"padding": c.side, "pad_id": c.pad_id, "pads": T - len(seqs[r]), "max_abs_move": m}
            for c, (m, r, _) in rows
        ]
        metrics = {"max_abs_move": move, "tolerance": tol, "output_scale": scale}
        how = (
            f"{len(seqs)} sequences of {', '.join(str(len(s)) for s in seqs)} tokens, padded to {T} "
            f"(pad ids {', '.join(sorted({str(c.pad_id) for c, _ in results}))}), mask passed as "
            f"{ctx.adapter.mask_name}=…; tolerance {tol:.2g} for {str(dtype).removeprefix('torch.')}."
        )
        if move > tol:
            pads = T - len(seqs[row])
            ignored = _mask_ignored(ctx, worst_case)
            why = (
                "the model accepts the mask but ignores it (outputs are identical with and without it)"
                if ignored
                else "the mask does not keep attention off the padding"
            )
            return self.result(
                Status.FAIL,
                f"Padding moves real-token outputs by up to {move:.3g} ({worst_case.side} padding, {pads} pads "
                f"of id {worst_case.pad_id}, sequence {row} at position {pos}): {why}.",
                f"{how} Outputs at real tokens must not depend on padding, or every padded batch "
                "(training and inference) computes something else than each sequence alone. Pass the "
                "mask to attention as key_padding_mask (nn.MultiheadAttention: True marks padding) or "
                "as an additive −inf bias on the key axis, e.g. scores.masked_fill(mask[:, None, None, "
                ":] == 0, float('-inf')), before the softmax. " + left_note,
                metrics=metrics,
                table=table,
            )
        return self.result(
            Status.PASS,
            f"Padding leaves real-token outputs unchanged (max move {move:.2g} ≤ {tol:.2g}).",
            f"{how} {left_note}",
            metrics=metrics,
            table=table,
        )


@torch.no_grad()
def _mask_ignored(ctx: RunContext, case: Case) -> bool:
    """True when the padded batch gives the very same outputs without its mask."""
    if ctx.adapter.mask_required:
        return False
    with eval_mode(ctx.model):
        with_mask = ctx.adapter(case.ids, attention_mask=case.mask)
        without = ctx.adapter(case.ids)
    return bool(torch.equal(with_mask, without))


def _declared_pad_id(ctx: RunContext) -> int | None:
    value = ctx.loaded.config.get("pad_token_id")
    if value is None:
        value = getattr(getattr(ctx.model, "config", None), "pad_token_id", None)
    return int(value) if isinstance(value, int) and 0 <= value < ctx.loaded.facts.vocab_size else None


def _pad(seqs: list[torch.Tensor], T: int, side: str, pad_id: int) -> Case:
    ids = torch.full((len(seqs), T), pad_id, dtype=seqs[0].dtype, device=seqs[0].device)
    mask = torch.zeros((len(seqs), T), dtype=torch.long, device=seqs[0].device)
    for row, s in enumerate(seqs):
        span = slice(T - len(s), T) if side == "left" else slice(0, len(s))
        ids[row, span], mask[row, span] = s, 1
    return Case(side, pad_id, ids, mask)
