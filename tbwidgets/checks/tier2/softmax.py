"""Attention written by hand: every softmax over a `(…, T_q, T_k)` score tensor inside the forward.

minGPT computes `softmax(q @ kᵀ · scale)` itself, and many tutorials keep one module per head with
its own softmax: neither uses a known attention module or SDPA. A TorchFunctionMode sees `torch.softmax`,
`F.softmax` and `Tensor.softmax` calls from Python code; one over the last dimension of a tensor whose
last two dimensions are (T, T) for the T tokens of the input is an attention map. Such maps are only a
fallback (used when no module, SDPA call or returned weights gave any), so nothing is counted twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

_SOFTMAX = {torch.softmax, F.softmax, torch.Tensor.softmax, torch.special.softmax}
_INDEXED = re.compile(r"^(?P<parent>.+)[._](?P<i>\d+)$")  # heads.0, heads.1 → one layer "heads"


def _dim(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int | None:
    dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
    return dim if isinstance(dim, int) else None


class SoftmaxInterceptor(TorchFunctionMode):
    """While active, hands each softmax over a `(…, T, T)` tensor's last dim to `on_probs(probs)`."""

    def __init__(self, seq_len: int, on_probs: Callable[[torch.Tensor], None]) -> None:
        super().__init__()
        self.seq_len, self.on_probs = seq_len, on_probs

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in _SOFTMAX and isinstance(out, torch.Tensor) and self._is_scores(out, _dim(args, kwargs)):
            self.on_probs(out)
        return out

    def _is_scores(self, t: torch.Tensor, dim: int | None) -> bool:
        T = self.seq_len
        if t.dim() < 2 or tuple(t.shape[-2:]) != (T, T) or dim is None:
            return False
        return dim in (-1, t.dim() - 1)


def merge_heads(found: list[tuple[str, torch.Tensor]]) -> list[tuple[str, torch.Tensor]]:
    """Join single-head modules (`…heads.0`, `…heads.1`, called one after another) into one layer.

    `found` holds (module name, `(H, T, T)` maps) in call order; a run of indexed siblings with the
    same parent becomes one entry named after the parent, its heads stacked in index order.
    """
    merged: list[tuple[str, list[torch.Tensor], int]] = []  # (name, maps, last index)
    for name, maps in found:
        match = _INDEXED.match(name) if maps.shape[0] == 1 else None  # only single-head maps join
        if match and merged:
            parent, index = match["parent"], int(match["i"])
            last_name, last_maps, last_index = merged[-1]
            if last_name == parent and index == last_index + 1 and last_maps[0].shape[-1] == maps.shape[-1]:
                merged[-1] = (parent, [*last_maps, maps], index)
                continue
        if match and int(match["i"]) == 0:
            merged.append((match["parent"], [maps], 0))
        else:
            merged.append((name, [maps], -2))
    return [(name, torch.cat(maps, dim=0)) for name, maps, _ in merged]
