"""`tier2.attention_patterns`: what each attention head does, and the few patterns that are bugs.

Verdicts (calibrated so that untrained, healthy models pass):
- FAIL when attention maps hold NaN/Inf (the model's outputs are then garbage too);
- WARN when most heads of a layer are copies of each other (symmetric init or copied weights:
  the heads cannot learn different things), or when a causal language model attends to later
  tokens (it can read the answer during training).
Everything else — sink heads, sharp or uniform heads — is description, not a verdict.
"""

from __future__ import annotations

from typing import Any

import torch

from tbwidgets.checks.tier2.capture import AttentionMaps, capture_attention
from tbwidgets.checks.tier2.head_metrics import METRICS, HeadClassifier, all_metrics, duplicate_heads
from tbwidgets.core.check import Check, register
from tbwidgets.core.context import RunContext
from tbwidgets.core.result import CheckResult, Status
from tbwidgets.loading.model import Task
from tbwidgets.loading.tokenizer import DEFAULT_MAX_TOKENS

CLASSES = ("previous-token", "first-token", "self", "local", "broad", "focused")


def describe_heads(
    maps: AttentionMaps, classifier: HeadClassifier | None = None, **dup_kw: float
) -> tuple[dict[str, torch.Tensor], list[list[str]], list[tuple[Any, ...]]]:
    """Per-head metrics `(L, H)`, head classes `[layer][head]` and duplicated-head pairs."""
    classifier = classifier or HeadClassifier()
    metrics = all_metrics(maps.weights, maps.causal, maps.heads_per_layer)
    classes = [
        [classifier.classify({k: float(metrics[k][la, h]) for k in METRICS}) for h in range(n)]
        for la, n in enumerate(maps.heads_per_layer)
    ]
    dups = duplicate_heads(maps.weights, maps.heads_per_layer, metrics["deviation"], **dup_kw)
    return metrics, classes, dups


@register
class AttentionPatterns(Check):
    """Capture attention on a sample text, measure and classify every head."""

    check_id = "tier2.attention_patterns"
    title = "Attention patterns"
    tier = 2
    budget_s = 60.0

    def __init__(
        self,
        text: str | None = None,
        tokenizer: Any = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        classifier: HeadClassifier | None = None,
        duplicate_distance: float = 0.02,  # mean row L1 distance (0..2) under which two maps are copies
        duplicate_share: float = 0.5,  # WARN when at least this share of a layer's heads are copies
    ) -> None:
        self.text, self.tokenizer, self.max_tokens = text, tokenizer, max_tokens
        self.classifier = classifier or HeadClassifier()
        self.duplicate_distance = duplicate_distance
        self.duplicate_share = duplicate_share

    def run(self, ctx: RunContext) -> CheckResult:
        ctx.progress(0.05, "capturing attention")
        maps = capture_attention(
            ctx.loaded, text=self.text, tokenizer=self.tokenizer, max_tokens=self.max_tokens
        )
        ctx.raise_if_cancelled()
        if maps.n_layers == 0:
            return self.result(
                Status.SKIPPED,
                "No attention could be seen in this model's forward pass.",
                " ".join(maps.notes),
            )
        ctx.progress(0.5, "measuring heads")
        metrics, classes, dups = describe_heads(maps, self.classifier, max_distance=self.duplicate_distance)
        ctx.progress(0.9, "judging")
        return self._verdict(ctx, maps, metrics, classes, dups)

    def _verdict(
        self,
        ctx: RunContext,
        maps: AttentionMaps,
        metrics: dict[str, torch.Tensor],
        classes: list[list[str]],
        dups: list[tuple[Any, ...]],
    ) -> CheckResult:
        numbers = _metrics(maps, metrics, classes, len(dups))
        fields: dict[str, Any] = {
            "metrics": numbers,
            "table": _table(maps, metrics, classes, dups),
            "artifacts": _artifacts(maps, metrics, classes),
        }
        bad = [maps.layer_names[i] for i in range(maps.n_layers) if not torch.isfinite(maps.data[i]).all()]
        if bad:
            return self.result(
                Status.FAIL,
                f"Attention weights hold NaN/Inf in {len(bad)} layer(s): {', '.join(bad[:3])}.",
                "NaN attention makes every later output NaN. Look for -inf masks covering whole rows, "
                "overflowing scores in float16, or NaN weights; Tier 1's numerics check shows where.",
                **fields,
            )
        copied = _copied_layers(maps, dups, self.duplicate_share)
        leaking = [n for n, c in zip(maps.layer_names, maps.causal, strict=False) if not c]
        if ctx.loaded.task is Task.CAUSAL_LM and leaking:
            return self.result(
                Status.WARN,
                f"This causal language model attends to later tokens in {len(leaking)} layer(s).",
                f"Layers {', '.join(leaking[:3])} put weight above the diagonal: while training on next-token "
                "prediction the model can read the token it should predict. Pass a causal mask (attn_mask="
                "nn.Transformer.generate_square_subsequent_mask(T), or is_causal=True). See tier2.perturbation.",
                **fields,
            )
        if copied:
            return self.result(
                Status.WARN,
                f"Most heads are copies of each other in {', '.join(copied[:3])}.",
                "Identical heads learn identical things, wasting capacity. Usually the heads were "
                "initialised with the same weights (a constant init, or one head's weights copied).",
                **fields,
            )
        counts = ", ".join(f"{int(numbers['heads.' + c])} {c}" for c in CLASSES if numbers["heads." + c])
        return self.result(
            Status.PASS,
            f"{maps.n_layers} layers × {maps.n_heads} heads captured: {counts}.",
            "Head classes describe the model; none of them is a problem by itself. Untrained models "
            "usually show broad (near-uniform) heads.",
            **fields,
        )


def _copied_layers(maps: AttentionMaps, dups: list[tuple[Any, ...]], share: float) -> list[str]:
    copied: dict[int, set[int]] = {}
    for (la, ha), (lb, hb), _ in dups:
        if la == lb:
            copied.setdefault(la, set()).update((ha, hb))
    return [
        maps.layer_names[la]
        for la, heads in copied.items()
        if maps.heads_per_layer[la] > 1 and len(heads) >= share * maps.heads_per_layer[la]
    ]


def _metrics(
    maps: AttentionMaps, m: dict[str, torch.Tensor], classes: list[list[str]], n_dups: int
) -> dict[str, float]:
    flat = [c for layer in classes for c in layer]
    out: dict[str, float] = {
        "layers": maps.n_layers,
        "heads": len(flat),
        "tokens": maps.length,
        "duplicate_pairs": n_dups,
    }
    out.update({f"heads.{c}": float(flat.count(c)) for c in CLASSES})
    for k in ("entropy", "sink", "previous", "max_weight"):
        out[f"mean.{k}"] = float(m[k].nanmean())
        for la in range(maps.n_layers):
            out[f"layer{la}.{k}"] = float(m[k][la].nanmean())
    return out


def _table(
    maps: AttentionMaps, m: dict[str, torch.Tensor], classes: list[list[str]], dups: list[tuple[Any, ...]]
) -> list[dict[str, Any]]:
    dup_of = {b: a for a, b, _ in dups}
    return [
        {
            "layer": la,
            "layer_name": maps.layer_names[la],
            "head": h,
            "class": classes[la][h],
            **{k: round(float(m[k][la, h]), 4) for k in METRICS},
            "duplicate_of": "{}.{}".format(*dup_of[(la, h)]) if (la, h) in dup_of else "",
        }
        for la in range(maps.n_layers)
        for h in range(maps.heads_per_layer[la])
    ]


def _artifacts(maps: AttentionMaps, m: dict[str, torch.Tensor], classes: list[list[str]]) -> dict[str, Any]:
    return {
        "maps": maps.data.numpy(),  # (L, H, T, T) float16
        "tokens": list(maps.tokens),
        "layer_names": list(maps.layer_names),
        "causal": list(maps.causal),
        "head_metrics": {k: v.numpy() for k, v in m.items()},  # each (L, H)
        "head_classes": classes,
    }
