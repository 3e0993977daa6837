"""Attention probabilities behind `F.scaled_dot_product_attention`, recomputed from its arguments.

SDPA never materialises the attention matrix, so we intercept the call (a TorchFunctionMode sees
every call from Python code) and compute softmax(q·kᵀ·scale + mask) ourselves for the first batch
element, in float32, a few heads at a time so long inputs do not need a (B, H, T, T) float32 buffer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

HEAD_CHUNK = 4  # heads per float32 block: bounds the transient memory at 4·T·S floats

_SDPA_ARGS = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")


def _first_sample(t: torch.Tensor) -> torch.Tensor:
    """`(H, L, E)` of the first batch element from `(B, H, L, E)`; `(N, L, E)` counts as one head."""
    return t[0] if t.dim() == 4 else t[:1]


def _mask_for_first(mask: torch.Tensor, q_dim: int) -> torch.Tensor:
    """The part of a broadcastable mask that applies to the first batch element: `(H|1, L, S)`."""
    if mask.dim() == 4 or (mask.dim() == 3 and q_dim == 3):
        mask = mask[:1] if q_dim == 3 else mask[0]
    return mask if mask.dim() == 3 else mask.reshape(1, *mask.shape[-2:])


@torch.no_grad()
def sdpa_probabilities(
    query: torch.Tensor,
    key: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> torch.Tensor:
    """The attention probabilities SDPA uses, `(Hq, L, S)` float32, for the first batch element.

    Grouped-query attention (fewer key heads than query heads) repeats each key head for its
    group, as SDPA does with `enable_gqa=True`. Rows with every key masked become zeros.
    """
    q, k = _first_sample(query), _first_sample(key)  # (Hq, L, E), (Hk, S, E)
    if q.shape[0] != k.shape[0]:
        if q.shape[0] % k.shape[0]:
            raise ValueError(f"{q.shape[0]} query heads cannot share {k.shape[0]} key heads evenly.")
        k = k.repeat_interleave(q.shape[0] // k.shape[0], dim=0)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    L, S = q.shape[1], k.shape[1]
    mask = _mask_for_first(attn_mask, query.dim()) if attn_mask is not None else None
    causal = torch.ones(L, S, dtype=torch.bool, device=q.device).tril() if is_causal else None
    out = torch.empty(q.shape[0], L, S, dtype=torch.float32, device=q.device)
    for h0 in range(0, q.shape[0], HEAD_CHUNK):
        sl = slice(h0, h0 + HEAD_CHUNK)
        scores = torch.matmul(q[sl].float(), k[sl].float().transpose(-1, -2)) * scale  # (h, L, S)
        if causal is not None:
            scores = scores.masked_fill(~causal, float("-inf"))
        if mask is not None:
            m = mask[sl] if mask.shape[0] > 1 else mask
            scores = scores.masked_fill(~m, float("-inf")) if m.dtype == torch.bool else scores + m.float()
        dead = torch.isneginf(scores).all(dim=-1, keepdim=True)  # every key masked: SDPA gives NaN
        out[sl] = torch.softmax(scores, dim=-1).masked_fill(dead, 0.0)
    return out


def _bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    bound = dict(zip(_SDPA_ARGS, args, strict=False))
    bound.update(kwargs)
    return bound


class SDPAInterceptor(TorchFunctionMode):
    """While active, hands the probabilities of every SDPA call to `on_probs(probs)`.

    The call itself still runs unchanged, so the model's outputs are exactly what they would be.
    """

    def __init__(self, on_probs: Callable[[torch.Tensor], None]) -> None:
        super().__init__()
        self.on_probs = on_probs
        self.calls = 0

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention:
            self.calls += 1
            a = _bind(args, kwargs)
            if a["query"].dim() in (3, 4):
                probs = sdpa_probabilities(
                    a["query"], a["key"], a.get("attn_mask"), bool(a.get("is_causal")), a.get("scale")
                )
                self.on_probs(probs)
        return func(*args, **kwargs)
