"""Compact payloads for the attention explorer: quantised maps, thumbnails, head messages.

Attention maps are probabilities in [0, 1]. The explorer keeps each head as uint8 with one scale per
query row (the row's largest weight; error ≤ row max/510 per cell). Per-row scales matter for causal
maps: row 0 always holds a 1.0, and one scale per head would leave the ~1/T weights of long rows only a
level or two. That is half of float16 and a quarter of float32: 12 × 12 heads at 1024 tokens hold
151 MB instead of 302 MB / 604 MB. Everything sent to the browser travels as
binary buffers described by `{buffer, dtype, shape}`; no float array is ever written as JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

CAUSAL_TOL = 1e-6  # weight above the diagonal that still counts as masked (softmax gives exact zeros)
THUMB_SIZE = 32  # thumbnail side: 144 heads × 32² = 147 kB, enough to see diagonals and sinks


def array_payload(array: np.ndarray, **extra: Any) -> dict[str, Any]:
    """`{buffer, dtype, shape}`: ipywidgets sends `buffer` as a binary frame, not as JSON text."""
    data = np.ascontiguousarray(array)
    return {
        "buffer": memoryview(data.tobytes()),
        "dtype": str(data.dtype),
        "shape": list(data.shape),
        **extra,
    }


def decode_payload(payload: dict[str, Any], buffer: Any = None) -> np.ndarray:
    """Inverse of `array_payload` (tests, benchmarks): the array from its bytes, dtype and shape."""
    raw: Any = payload.get("buffer") if buffer is None else buffer
    return np.frombuffer(bytes(raw), dtype=np.dtype(payload["dtype"])).reshape(payload["shape"])


@dataclass
class QuantisedMaps:
    """All heads as uint8 `(L, H, T, T)` with per-row `scales` `(L, H, T)`.

    w[i, j] ≈ q[i, j] · scales[i] / 255 for each head.
    """

    q: np.ndarray  # (L, H, T, T) uint8
    scales: np.ndarray  # (L, H, T) float32: each query row's largest weight
    causal: np.ndarray  # (L,) bool: nothing above the diagonal got weight
    thumbs: np.ndarray  # (L, H + 1, S, S) uint8; index H is the layer's head average
    visible: np.ndarray  # (L, S, S) uint8: fraction of each thumbnail cell a query may attend (×255)
    stats: dict[str, np.ndarray]  # metric name -> (L, H) float32 (tier2 head metrics)
    classes: list[list[str]]  # [layer][head] head class (previous-token, first-token, self, local, broad)

    @property
    def shape(self) -> tuple[int, int, int]:
        n_layers, n_heads, length, _ = self.q.shape
        return int(n_layers), int(n_heads), int(length)

    def head(self, layer: int, head: int) -> np.ndarray:
        """One head's weights `(T, T)` as float32, decoded from uint8."""
        return self.q[layer, head].astype(np.float32) * (self.scales[layer, head][:, None] / 255.0)

    @property
    def nbytes(self) -> int:
        arrays = [self.q, self.scales, self.causal, self.thumbs, self.visible, *self.stats.values()]
        return sum(a.nbytes for a in arrays)


def as_layer_tensor(maps: Any) -> torch.Tensor:
    """The `(L, H, T, T)` tensor behind `maps` (AttentionMaps, tensor, array), without a float32 copy."""
    data = getattr(maps, "data", None)
    if not isinstance(data, torch.Tensor):
        data = getattr(maps, "weights", maps)
    tensor = data if isinstance(data, torch.Tensor) else torch.as_tensor(np.asarray(data))
    if tensor.dim() == 3:  # (H, T, T): one layer
        tensor = tensor.unsqueeze(0)
    if tensor.dim() != 4 or tensor.shape[-1] != tensor.shape[-2]:
        raise ValueError(
            f"Attention maps must have shape (layers, heads, T, T); got {tuple(tensor.shape)}. "
            "Pass `capture_attention(...)`'s result or a tensor of that shape."
        )
    return tensor.detach().cpu()


def _layer_causal(layer: torch.Tensor) -> bool:
    """True when no head of this layer `(H, T, T)` put weight above the diagonal."""
    length = layer.shape[-1]
    if length < 2:
        return False
    upper = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
    return bool(layer[:, upper].abs().max() <= CAUSAL_TOL)


def _thumbnails(layer: torch.Tensor, size: int, causal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Area-averaged thumbnails `(H + 1, S, S)` uint8 (each scaled to its own max) and visibility."""
    length = layer.shape[-1]
    heads = torch.cat([layer, layer.mean(0, keepdim=True)])  # (H + 1, T, T)
    pooled = F.adaptive_avg_pool2d(heads.unsqueeze(1), size).squeeze(1)  # (H + 1, S, S)
    vis = torch.ones(1, 1, length, length)
    if causal:
        vis = torch.tril(vis)
    seen = F.adaptive_avg_pool2d(vis, size)[0, 0]  # (S, S): share of each cell a query may see
    # average over the visible part only, so cells cut by the diagonal are not darkened by the mask
    pooled = pooled / seen.clamp_min(1e-6)
    peak = pooled.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    thumbs = torch.round(pooled / peak * 255).clamp(0, 255).to(torch.uint8)
    return thumbs.numpy(), torch.round(seen * 255).to(torch.uint8).numpy()


def quantise(
    maps: Any,
    thumb_size: int = THUMB_SIZE,
    causal: list[bool] | None = None,
    known: tuple[dict[str, Any], list[list[str]]] | None = None,
) -> QuantisedMaps:
    """Quantise `(L, H, T, T)` maps one layer at a time, so the peak extra memory is one float32 layer.

    Head metrics and classes come from Tier 2's `head_metrics` (the same numbers the check reports),
    computed in the same pass so the float maps are read once; `known` = (metrics `name -> (L, H)`,
    classes) from a `tier2.attention_patterns` result skips that work.
    """
    from tbwidgets.checks.tier2.head_metrics import METRICS

    tensor = as_layer_tensor(maps)
    n_layers, n_heads, length, _ = tensor.shape
    size = max(1, min(thumb_size, length))
    q = np.empty((n_layers, n_heads, length, length), dtype=np.uint8)
    scales = np.zeros((n_layers, n_heads, length), dtype=np.float32)
    flags = np.zeros(n_layers, dtype=bool)
    thumbs = np.zeros((n_layers, n_heads + 1, size, size), dtype=np.uint8)
    visible = np.zeros((n_layers, size, size), dtype=np.uint8)
    stats = {name: np.full((n_layers, n_heads), np.nan, dtype=np.float32) for name in METRICS}
    classes: list[list[str]] = []
    if known is not None:
        for name, values in known[0].items():
            stats[name] = np.asarray(values, dtype=np.float32).reshape(n_layers, n_heads)
        classes = [list(row) for row in known[1]]
    for index in range(n_layers):
        layer = tensor[index].to(torch.float32, copy=True)  # (H, T, T); a copy: modified in place below
        flags[index] = causal[index] if causal is not None and index < len(causal) else _layer_causal(layer)
        thumbs[index], visible[index] = _thumbnails(layer, size, bool(flags[index]))
        if known is None:
            classes.append(_layer_stats(layer, bool(flags[index]), stats, index))
        peak = layer.amax(dim=-1).clamp_min(1e-12)  # (H, T): each row's largest weight
        scales[index] = peak.numpy()
        # in place, last: the float32 layer is not needed after this, so no second 50 MB temporary
        q[index] = layer.mul_(255.0 / peak[..., None]).round_().clamp_(0, 255).to(torch.uint8).numpy()
        del layer  # free the float32 layer before the next one
    return QuantisedMaps(q, scales, flags, thumbs, visible, stats, classes)


def _layer_stats(layer: torch.Tensor, causal: bool, stats: dict[str, np.ndarray], index: int) -> list[str]:
    """Tier 2's metrics of one layer `(H, T, T)` written into `stats`; returns the head classes."""
    from tbwidgets.checks.tier2.head_metrics import METRICS, HeadClassifier, layer_metrics

    metrics = {k: v.numpy() for k, v in layer_metrics(layer, causal).items()}
    for name in METRICS:
        stats[name][index] = metrics[name]
    classifier = HeadClassifier()
    return [classifier.classify({k: float(v[h]) for k, v in metrics.items()}) for h in range(layer.shape[0])]


def _layer_average(quant: QuantisedMaps, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """The layer's head-average map as uint8 plus its per-row scales (decoded, averaged, requantised)."""
    total = np.zeros(quant.q.shape[-2:], dtype=np.float32)  # (T, T)
    for head in range(quant.q.shape[1]):
        total += quant.head(layer, head)
    total /= quant.q.shape[1]
    peak = np.maximum(total.max(axis=1), 1e-12)  # (T,)
    return np.rint(total * (255.0 / peak[:, None])).astype(np.uint8), peak.astype(np.float32)


def head_content(quant: QuantisedMaps, layer: int, head: int) -> tuple[dict[str, Any], list[memoryview]]:
    """The message answering a front-end request for one head: metadata and two buffers.

    Buffer 0: uint8 values `(T, T)`; buffer 1: float32 `row_scale` `(T,)`, with
    weight[i, j] = value[i, j] · row_scale[i]. `head == n_heads` asks for the layer's head average.
    """
    n_layers, n_heads, length = quant.shape
    if not (0 <= layer < n_layers and 0 <= head <= n_heads):
        raise IndexError(f"No head ({layer}, {head}): the maps have {n_layers} layers × {n_heads} heads.")
    if head == n_heads:
        values, peak = _layer_average(quant, layer)
    else:
        values, peak = quant.q[layer, head], quant.scales[layer, head]
    row_scale = (peak / np.float32(255.0)).astype(np.float32)  # (T,)
    causal = bool(quant.causal[layer])
    content = {
        "type": "head",
        "layer": layer,
        "head": head,
        "average": head == n_heads,
        "dtype": "uint8",
        "shape": [length, length],
        "row_scale": {"dtype": "float32", "shape": [length], "buffer": 1},  # weight = value · row_scale[row]
        "max_weight": float(peak.max()),
        # row 0 of a causal map is always 1.0: the largest weight elsewhere sets a useful colour scale
        "max_weight_after_first": float(peak[1:].max()) if causal and length > 1 else float(peak.max()),
        "mask": "causal" if causal else "none",
    }
    buffers = [np.ascontiguousarray(values).data, row_scale.data]
    return content, [memoryview(b).cast("B") for b in buffers]


def synthetic_maps(
    n_layers: int = 12, n_heads: int = 12, length: int = 1024, *, causal: bool = True, seed: int = 0
) -> torch.Tensor:
    """Softmax maps `(L, H, T, T)` float16 with planted patterns, for demos, tests and benchmarks.

    Heads cycle through previous-token, first-token, self, local and random (broad) attention, so a
    GPT-2-sized explorer can be tried without a model. Built one layer at a time (one float32 layer).
    """
    gen = torch.Generator().manual_seed(seed)
    idx = torch.arange(length)
    offset = (idx[:, None] - idx[None, :]).float()  # (T, T): query minus key
    patterns = [
        (offset == 1).float() * 8,  # previous token
        (idx[None, :] == 0).float().expand(length, length) * 8,  # first token (sink)
        (offset == 0).float() * 8,  # self
        -offset.abs() / 4,  # local
        torch.zeros(length, length),  # broad
    ]
    blocked = offset < 0 if causal else torch.zeros(length, length, dtype=torch.bool)
    out = torch.empty(n_layers, n_heads, length, length, dtype=torch.float16)
    for layer in range(n_layers):
        noise = torch.randn(n_heads, length, length, generator=gen)  # (H, T, T)
        for head in range(n_heads):
            noise[head] += patterns[(layer + head) % len(patterns)]
        out[layer] = torch.softmax(noise.masked_fill(blocked, float("-inf")), dim=-1).half()
    return out
