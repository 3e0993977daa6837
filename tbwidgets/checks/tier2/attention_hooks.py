"""AttentionRecorder: hooks that collect attention weights during one forward pass.

Every module gets a pre-hook and a hook that keep a stack of the modules running, so an
intercepted SDPA call is attributed to the innermost module, and a module whose sub-modules
already gave a map (e.g. a block around an attention layer) is not counted again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

WEIGHT_ATTRS = (
    "attn_weights",
    "attention_weights",
    "attn_probs",
    "attention_probs",
    "last_attn_weights",
    "attn_map",
    "attention_map",
)  # names user code commonly stores softmax weights under
ROW_SUM_TOL = 1e-3  # a tensor counts as attention only when its rows are probability distributions
CAUSAL_TOL = 1e-6
_MHA_ARG_NAMES = ("key_padding_mask", "need_weights", "attn_mask", "average_attn_weights", "is_causal")


@dataclass
class Record:
    """One captured layer: `(H, T, T)` float16 weights on the CPU."""

    name: str
    kind: str
    weights: torch.Tensor
    causal: bool


@dataclass
class _Frame:
    name: str
    module: nn.Module
    attrs: dict[str, int]
    captured_inside: bool = False


def _mha_pre_hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Ask nn.MultiheadAttention for per-head weights, whatever the caller passed."""
    extra = dict(zip(_MHA_ARG_NAMES, args[3:], strict=False))
    kwargs = {**kwargs, **extra, "need_weights": True, "average_attn_weights": False}
    return args[:3], kwargs


def as_heads(t: torch.Tensor, seq_len: int, validate: bool = True) -> torch.Tensor | None:
    """`(H, T, T)` from `(1, H, T, T)`, `(1, T, T)` or `(H, T, T)`; None when it is not attention.

    With `validate`, only tensors whose rows are probability distributions count (for tensors found
    in outputs or attributes); known attention sources skip it so NaN maps still reach the checks.
    """
    if not t.is_floating_point() or t.dim() not in (3, 4) or tuple(t.shape[-2:]) != (seq_len, seq_len):
        return None
    if t.dim() == 4:
        if t.shape[0] < 1:
            return None
        t = t[0]
    t = t.detach().float()
    if not validate:
        return t
    rows = t.sum(-1)
    if t.min() < -CAUSAL_TOL or not torch.allclose(rows, torch.ones_like(rows), atol=ROW_SUM_TOL):
        return None
    return t


class AttentionRecorder:
    """Context manager: while active, collects `records` (in the order layers finish)."""

    def __init__(self, model: nn.Module, seq_len: int) -> None:
        self.model = model
        self.seq_len = seq_len
        self.records: list[Record] = []
        self._stack: list[_Frame] = []
        self._handles: list[Any] = []
        self._name_counts: dict[str, int] = {}
        self.softmax_found: list[tuple[str, torch.Tensor]] = []  # fallback: hand-written attention

    def __enter__(self) -> AttentionRecorder:
        for name, m in self.model.named_modules():
            name = name or "model"
            if isinstance(m, nn.MultiheadAttention):
                self._handles.append(m.register_forward_pre_hook(_mha_pre_hook, with_kwargs=True))
            self._handles.append(m.register_forward_pre_hook(functools.partial(self._pre, name)))
            self._handles.append(m.register_forward_hook(functools.partial(self._post, name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._stack.clear()

    # -- hooks ----------------------------------------------------------------------------------
    def _pre(self, name: str, module: nn.Module, args: Any) -> None:
        attrs = {a: id(getattr(module, a)) for a in WEIGHT_ATTRS if hasattr(module, a)}
        self._stack.append(_Frame(name, module, attrs))

    def _post(self, name: str, module: nn.Module, args: Any, output: Any) -> None:
        frame = self._stack.pop() if self._stack else _Frame(name, module, {})
        if frame.captured_inside:
            return  # a sub-module already gave this layer's map
        if isinstance(module, nn.MultiheadAttention):
            if isinstance(output, tuple) and isinstance(output[1], torch.Tensor):
                self._add(name, "nn.MultiheadAttention", output[1], validate=False)
            return
        for attr in WEIGHT_ATTRS:
            value = getattr(module, attr, None)
            if not isinstance(value, torch.Tensor) or frame.attrs.get(attr) == id(value):
                continue
            if self._add(name, f"attribute .{attr}", value):
                return
        if isinstance(output, (tuple, list)):
            for item in output:
                if isinstance(item, torch.Tensor) and self._add(name, "returned weights", item):
                    return

    def on_sdpa(self, probs: torch.Tensor) -> None:
        """Called by the SDPA interceptor with `(H, T, S)` probabilities."""
        frame = self._stack[-1] if self._stack else None
        if frame is not None and isinstance(frame.module, nn.MultiheadAttention):
            return  # its weights come from the module's own output
        self._add(frame.name if frame else "model", "scaled_dot_product_attention", probs, validate=False)

    def on_softmax(self, probs: torch.Tensor) -> None:
        """Called by the softmax interceptor with a `(…, T, T)` softmax output (kept as a fallback)."""
        heads = as_heads(probs if probs.dim() > 2 else probs.unsqueeze(0), self.seq_len, validate=False)
        if heads is not None:
            name = self._stack[-1].name if self._stack else "model"
            self.softmax_found.append((name, heads.to("cpu", torch.float16)))

    # -- records --------------------------------------------------------------------------------
    def _add(self, name: str, kind: str, weights: torch.Tensor, validate: bool = True) -> bool:
        heads = as_heads(weights, self.seq_len, validate)
        if heads is None:
            return False
        self.records.append(self.make_record(name, kind, heads))
        for frame in self._stack:
            frame.captured_inside = True
        return True

    def make_record(self, name: str, kind: str, weights: torch.Tensor) -> Record:
        """A Record from `(H, T, T)` or `(T, T)` weights, with a unique name (`#2` for repeat calls)."""
        w = weights.detach().float()
        w = w.unsqueeze(0) if w.dim() == 2 else w
        count = self._name_counts.get(name, 0) + 1
        self._name_counts[name] = count
        unique = name if count == 1 else f"{name}#{count}"
        causal = (
            bool((w.nan_to_num(0.0).triu(diagonal=1).abs().max() <= CAUSAL_TOL).item())
            if w.shape[-1] > 1
            else True
        )
        return Record(unique, kind, w.to("cpu", torch.float16), causal)
