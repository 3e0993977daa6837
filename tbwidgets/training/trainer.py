"""One Trainer factory with quiet flags, and the plumbing around it (quiet logs, interrupts, RNG).

Lightning on its own prints a rich progress bar and a model summary to stdout, tips and
"GPU available" lines to stderr, and turns Ctrl-C into `SystemExit(1)`; none of that may reach a
notebook cell or the CLI's single progress line (training-recipes §1).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import lightning as L
import torch

_NOISY_WARNINGS = (
    r".*does not have many workers.*",
    r".*isinstance\(treespec, LeafSpec\).*",
    r".*IterableDataset.* has `__len__`.*",
    r".*The number of training batches .* is smaller than the logging interval.*",
    r".*Found \d+ module\(s\) in eval mode at the start of training.*",
)
_LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning")


def quiet_lightning() -> None:
    """Silence Lightning's info lines and tips, and its warnings that say nothing to our users."""
    for name in _LIGHTNING_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for pattern in _NOISY_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)


def lightning_precision(precision: str) -> str:
    return "32-true" if str(precision) in ("32", "32-true") else str(precision)


def make_trainer(config: Any, total_steps: int, callbacks: Sequence[L.Callback], out_dir: str) -> L.Trainer:
    """The only place a Trainer is built: quiet, no Lightning logger or checkpointing of its own."""
    quiet_lightning()
    return L.Trainer(
        accelerator=config.accelerator,
        devices=config.devices,
        strategy=config.strategy,
        num_nodes=config.num_nodes,
        precision=lightning_precision(config.precision),  # type: ignore[arg-type]
        max_steps=total_steps,
        max_epochs=-1,  # the step budget decides (epochs are converted to steps)
        accumulate_grad_batches=config.gradient_accumulation_steps,
        deterministic=bool(config.deterministic) or None,
        callbacks=list(callbacks),
        default_root_dir=out_dir,
        logger=False,  # metrics go through our events (and W&B through tracking.py)
        enable_checkpointing=False,  # tbwidgets.training.checkpoints writes them
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,  # validation runs in PeriodicValidation, at step boundaries
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # ResumableSampler shards by rank and keeps its position
    )


class CombinedStop:
    """Stop when the caller's signal or our own (Ctrl-C) is set; either may be missing."""

    def __init__(self, user: Any = None) -> None:
        self.user = user
        self.interrupted = threading.Event()

    def is_set(self) -> bool:
        if self.interrupted.is_set():
            return True
        user = self.user
        if user is None:
            return False
        if hasattr(user, "is_set"):
            return bool(user.is_set())
        if hasattr(user, "stop_requested"):
            return bool(user.stop_requested)
        return bool(user()) if callable(user) else False


@contextlib.contextmanager
def ctrl_c_stops(stop: CombinedStop) -> Iterator[None]:
    """On the main thread, the first Ctrl-C requests a Stop (checkpoint at the step boundary); a
    second one interrupts at once. Elsewhere signals cannot be caught, so nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if stop.interrupted.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        stop.interrupted.set()

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)  # Lightning may have set SIG_IGN during a shutdown


@contextlib.contextmanager
def users_rng_kept() -> Iterator[None]:
    """Training reseeds torch every step; give the caller their random state back afterwards."""
    devices = (
        [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    )
    with torch.random.fork_rng(devices=devices):
        yield
