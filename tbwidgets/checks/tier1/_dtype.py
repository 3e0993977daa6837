"""The model's floating dtype, and what it means for the checks' optimizers and tolerances.

float16 has 10 mantissa bits and underflows below 6e-8, bfloat16 has 7: an Adam epsilon of 1e-8 is 0
in float16 (0/0 = NaN on every zero-gradient element), and a tolerance of 1e-5 is below one rounding
step of either. Checks scale with `torch.finfo(dtype).eps` and keep optimizer state in float32.
"""

from __future__ import annotations

import torch
from torch import nn


def param_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the model's first floating parameter (float32 when it has none)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


def is_low_precision(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point and torch.finfo(dtype).bits < 32


def scaled_tol(base: float, dtype: torch.dtype, ulps: float = 50.0) -> float:
    """`base` for float32/64 models; `ulps` rounding steps of the dtype when that is larger."""
    return max(base, ulps * torch.finfo(dtype).eps) if dtype.is_floating_point else base
