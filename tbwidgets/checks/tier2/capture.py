"""Capture attention maps from any architecture in one forward pass: `capture_attention(...)`.

Sources, all active during the same pass, de-duplicated by module and by tensor identity:
- `nn.MultiheadAttention`: a pre-hook asks for per-head weights (`need_weights=True,
  average_attn_weights=False`); the fused fast path (also used by `nn.TransformerEncoderLayer` in
  eval mode) is switched off for the pass so the Python path that computes weights runs.
- `F.scaled_dot_product_attention`: intercepted; probabilities recomputed from q, k, mask, scale.
- modules that store weights in an attribute (`attn_weights`, …) or return them in a tuple.
- Hugging Face models in eager mode: `output_attentions=True`.
- hand-written attention (minGPT's `softmax(q @ kᵀ · scale)`, one module per head): a softmax over a
  `(…, T, T)` score tensor inside the forward, as a last resort; per-head modules become one layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tbwidgets.checks.tier2._resolve import as_loaded, model_device, token_input
from tbwidgets.checks.tier2.attention_hooks import AttentionRecorder
from tbwidgets.checks.tier2.sdpa import SDPAInterceptor
from tbwidgets.checks.tier2.softmax import SoftmaxInterceptor, merge_heads
from tbwidgets.core.context import eval_mode
from tbwidgets.loading.tokenizer import DEFAULT_MAX_TOKENS

CAUSAL_TOL = 1e-6  # weight above the diagonal that still counts as "masked" (exact zeros expected)


@dataclass
class AttentionMaps:
    """Attention of one input: `weights` `(L, H, T, T)`, rows summing to 1 (stored as float16).

    `layer_names[i]` is the module that produced layer i (with `#2` for a second call of the same
    module), `sources[i]` how it was captured, `causal[i]` whether nothing above the diagonal got
    weight. Layers with fewer heads than the widest are zero-padded; `heads_per_layer` says so.
    """

    data: torch.Tensor  # (L, H, T, T) float16 on the CPU
    layer_names: list[str]
    tokens: list[str]
    sources: list[str]
    causal: list[bool]
    heads_per_layer: list[int]
    input_ids: torch.Tensor  # (1, T)
    notes: list[str] = field(default_factory=list)

    @property
    def weights(self) -> torch.Tensor:
        """`(L, H, T, T)` float32 copy of the stored maps."""
        return self.data.float()

    @property
    def n_layers(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.data.shape[1]) if self.data.dim() == 4 else 0

    @property
    def length(self) -> int:
        return int(self.data.shape[-1]) if self.data.dim() == 4 else len(self.tokens)

    @property
    def nbytes(self) -> int:
        """Memory held by the stored maps (float16: 2·L·H·T² bytes)."""
        return int(self.data.numel() * self.data.element_size())

    def head(self, layer: int, head: int) -> torch.Tensor:
        """One map `(T, T)` as float32."""
        return self.data[layer, head].float()

    def __repr__(self) -> str:
        kinds = ", ".join(sorted(set(self.sources))) or "none"
        return (
            f"<AttentionMaps {self.n_layers} layers × {self.n_heads} heads × {self.length} tokens ({kinds})>"
        )


@contextlib.contextmanager
def _no_fast_path() -> Iterator[None]:
    """Turn PyTorch's fused MHA/TransformerEncoderLayer path off (it never returns weights)."""
    mha = torch.backends.mha
    if hasattr(mha, "set_fastpath_enabled"):
        before = mha.get_fastpath_enabled()
        mha.set_fastpath_enabled(False)
        try:
            yield
        finally:
            mha.set_fastpath_enabled(before)
    else:  # older torch: the fast path is only taken without autograd
        with torch.enable_grad():
            yield


def _is_hf(module: nn.Module) -> bool:
    return any(c.__name__ == "PreTrainedModel" for c in type(module).__mro__)


def _run_forward(loaded: Any, ids: torch.Tensor) -> Any:
    module = loaded.module
    if _is_hf(module) and getattr(module.config, "_attn_implementation", "eager") == "eager":
        return module(input_ids=ids, output_attentions=True)
    return loaded.adapter(ids)


def _hf_attentions(out: Any) -> list[torch.Tensor]:
    atts = getattr(out, "attentions", None) or ()
    return [a for a in atts if isinstance(a, torch.Tensor)]


def capture_attention(
    source: Any,
    input_ids: Any = None,
    text: str | None = None,
    *,
    tokenizer: Any = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> AttentionMaps:
    """Run `source` once on `text` (or `input_ids`, or the sample text) and return its attention maps.

    `source` is a LoadedModel or anything `load_model` accepts. Inputs longer than `max_tokens`
    (and the model's maximum length) are cut, which bounds memory at L·H·T² float16 values.
    """
    loaded = as_loaded(source)
    tok = token_input(loaded, input_ids=input_ids, text=text, tokenizer=tokenizer, max_tokens=max_tokens)
    ids = tok.ids.to(model_device(loaded.module))
    recorder = AttentionRecorder(loaded.module, ids.shape[-1])
    with (
        eval_mode(loaded.module),
        torch.no_grad(),
        _no_fast_path(),
        recorder,
        SDPAInterceptor(recorder.on_sdpa),
        SoftmaxInterceptor(ids.shape[-1], recorder.on_softmax),
    ):
        out = _run_forward(loaded, ids)
    records = recorder.records
    notes = [f"input cut from {tok.truncated_from} to {tok.length} tokens"] if tok.truncated_from else []
    if not records:
        records = [
            recorder.make_record(f"attentions.{i}", "output_attentions", a[0])
            for i, a in enumerate(_hf_attentions(out))
        ]
    if not records:
        records = [
            recorder.make_record(name, "softmax in forward", maps)
            for name, maps in merge_heads(recorder.softmax_found)
        ]
    if not records:
        notes.append(_nothing_seen(loaded.module, ids.shape[-1]))
    return _assemble(records, tok.tokens, tok.ids, notes)


def _nothing_seen(module: nn.Module, T: int) -> str:
    """Why no attention was seen, and what would make it visible."""
    hf = " Load Hugging Face models with attn_implementation='eager'." if _is_hf(module) else ""
    return (
        "No attention found: the model has no nn.MultiheadAttention, calls no "
        f"F.scaled_dot_product_attention, computes no softmax over a ({T}, {T}) score tensor in Python "
        "and returns or stores no attention weights. Fused kernels (flash-attn, xformers, TorchScript "
        "or C++ extensions) hide the weights: call F.scaled_dot_product_attention or torch.softmax "
        "on the scores in forward, or keep the weights in self.attn_weights, to make them visible." + hf
    )


def _assemble(records: list[Any], tokens: list[str], ids: torch.Tensor, notes: list[str]) -> AttentionMaps:
    T = ids.shape[-1]
    heads = [r.weights.shape[0] for r in records]
    H = max(heads, default=0)
    data = torch.zeros(len(records), H, T, T, dtype=torch.float16)  # (L, H, T, T)
    for i, r in enumerate(records):
        data[i, : r.weights.shape[0]] = r.weights
    if len(set(heads)) > 1:
        notes.append("layers have different head counts; missing heads are zero-padded")
    return AttentionMaps(
        data=data,
        layer_names=[r.name for r in records],
        tokens=tokens,
        sources=[r.kind for r in records],
        causal=[r.causal for r in records],
        heads_per_layer=heads,
        input_ids=ids.cpu(),
        notes=notes,
    )
