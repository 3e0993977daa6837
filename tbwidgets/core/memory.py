"""Memory facts for checks and the Runner: out-of-memory errors from any allocator, free memory, cleanup.

PyTorch words out-of-memory differently per allocator: CUDA raises `torch.cuda.OutOfMemoryError`
("CUDA out of memory. Tried to allocate 2.00 GiB ..."), the CPU allocator a plain RuntimeError
("DefaultCPUAllocator: can't allocate memory: you tried to allocate 123456 bytes"), Python a
MemoryError. All of them mean "this device is too small for this step", never "the check crashed".
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import re
import sys

import torch

GB = 1024**3
_OOM_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory", "failed to allocate")
_TRIED = re.compile(r"tried to allocate\s+([\d.]+)\s*(bytes|[KMGT]i?B)?", re.I)
_UNITS = {"": 1, "bytes": 1, "kb": 1e3, "kib": 1024, "mb": 1e6, "mib": 1024**2, "gb": 1e9, "gib": GB}


def is_oom(exc: BaseException) -> bool:
    """True for out-of-memory from the CUDA allocator, the CPU allocator or Python."""
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(word in text for word in _OOM_WORDS)


def requested_bytes(exc: BaseException) -> int | None:
    """How much the failing allocation asked for, when the message says it."""
    match = _TRIED.search(str(exc))
    if not match:
        return None
    unit = (match[2] or "").lower()
    return int(float(match[1]) * _UNITS.get(unit, _UNITS.get(unit.replace("i", ""), 1)))


def available_bytes(device: torch.device) -> int | None:
    """Memory free for new tensors on `device` now (None when unknown)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type != "cpu":
        return None
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def oom_summary(exc: BaseException, device: torch.device) -> str:
    """One line: where memory ran out, how much was asked for and how much is free."""
    asked = requested_bytes(exc)
    free = available_bytes(device)
    parts = [f"Out of memory on {device.type}"]
    if asked is not None:
        parts.append(f"one allocation asked for {asked / GB:.2f} GB")
    if free is not None:
        parts.append(
            f"{free / GB:.1f} GB {'free on the GPU' if device.type == 'cuda' else 'available on this machine'}"
        )
    return ": ".join(parts[:1]) + (" (" + "; ".join(parts[1:]) + ")" if len(parts) > 1 else "") + "."


def release(device: torch.device, collect: bool = True) -> None:
    """Collect garbage and hand freed memory back: CUDA's cache, and glibc's heap on Linux.

    Without `malloc_trim`, memory freed by large CPU tensors often stays in the process (RSS), so
    repeated runs look like a leak even when nothing is referenced any more. `collect=False` skips
    the full garbage collection (≈0.3 s once transformers is imported) where nothing cyclic is left.
    """
    if collect:
        gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl): nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)
