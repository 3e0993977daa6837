"""Check a requested device before any work, so `device="cuda"` without CUDA says what exists here."""

from __future__ import annotations

import torch

from tbwidgets.loading.errors import DeviceError


def available_devices() -> list[str]:
    """Device names usable on this machine: cpu, then cuda:N and mps where present."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names


def _cuda_reason() -> str:
    if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
        return "CUDA is not available in this torch build (it is a CPU-only build)"
    return "CUDA is not available on this machine (torch has CUDA support, but no GPU is visible)"


def check_device(device: str | torch.device | None) -> torch.device | None:
    """`device` as a torch.device, or a DeviceError naming what is available and what to pass."""
    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise DeviceError(
            f"{device!r} is not a device name ({exc}).",
            f"Pass one of: {', '.join(available_devices())} (e.g. device='cpu').",
        ) from None
    have = available_devices()
    shown = ", ".join(have)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"{_cuda_reason()}; available: {shown}; use device='cpu'.",
            "Pass device='cpu' (CLI: --device cpu), or run where a CUDA GPU is visible (Colab: Runtime → Change runtime type → GPU).",
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise DeviceError(
            f"{dev} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s); "
            f"available: {shown}.",
            "Use device='cuda' (the first GPU) or one of the names above.",
        )
    if dev.type == "mps" and "mps" not in have:
        raise DeviceError(f"MPS (Apple GPU) is not available here; available: {shown}.", "Use device='cpu'.")
    return dev
