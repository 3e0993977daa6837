"""Seeding: one call seeds Python, NumPy and torch; deterministic mode can be switched on and back off.

`set_random_seed(seed, deterministic=True)` changes process-wide torch flags; a later call with
`deterministic=False` puts them back the way they were before, so one deterministic run does not leave
every later run in a notebook slow (the reference system never undid it).
"""

from __future__ import annotations

import os
import random
from typing import Any

import torch

_CUBLAS_ENV = "CUBLAS_WORKSPACE_CONFIG"
_CUBLAS_VALUE = ":4096:8"  # what torch's docs require for deterministic cuBLAS on CUDA ≥ 10.2

_saved: dict[str, Any] | None = None  # flags as they were before our deterministic call


def _flags() -> dict[str, Any]:
    return {
        "algorithms": torch.are_deterministic_algorithms_enabled(),
        "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cublas_env": os.environ.get(_CUBLAS_ENV),
    }


def _enter_deterministic() -> None:
    global _saved
    if _saved is None:
        _saved = _flags()
    os.environ.setdefault(_CUBLAS_ENV, _CUBLAS_VALUE)
    # warn_only: an op without a deterministic kernel should warn, not kill a long run
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def _leave_deterministic() -> None:
    global _saved
    if _saved is None:
        return
    saved, _saved = _saved, None
    torch.use_deterministic_algorithms(saved["algorithms"], warn_only=saved["warn_only"])
    torch.backends.cudnn.deterministic = saved["cudnn_deterministic"]
    torch.backends.cudnn.benchmark = saved["cudnn_benchmark"]
    if saved["cublas_env"] is None:
        os.environ.pop(_CUBLAS_ENV, None)
    else:
        os.environ[_CUBLAS_ENV] = saved["cublas_env"]


def set_random_seed(seed: int, deterministic: bool = False) -> None:
    """Seed `random`, NumPy (when installed) and torch (CPU and every CUDA device).

    deterministic=True also forces deterministic kernels; deterministic=False undoes an earlier
    deterministic call, restoring the flags that were set before it.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be a whole number in [0, 2**32), got {seed!r}.")
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # numpy is optional for the engine
        pass
    else:
        np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA devices too
    if deterministic:
        _enter_deterministic()
    else:
        _leave_deterministic()


def seed_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: seed `random` and NumPy in a worker from torch's per-worker seed."""
    worker_seed = torch.initial_seed() % 2**32
    random.seed(worker_seed)
    try:
        import numpy as np
    except ImportError:
        return
    np.random.seed(worker_seed)


def create_seeded_generator(seed: int) -> torch.Generator:
    """A CPU `torch.Generator` seeded with `seed`, for a DataLoader's `generator=` or sampling."""
    return torch.Generator().manual_seed(int(seed))
