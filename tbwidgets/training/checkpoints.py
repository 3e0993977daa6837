"""Checkpoints: periodic, best, final and at Stop, all written at an optimizer-step boundary.

Each file is a Lightning checkpoint (weights, optimizer, schedule, loop and data-loader position)
plus a `tbwidgets` entry: the tbwidgets version, the config (allow-listed), the model's name and
sizes, and why it was written. Every one of them resumes exactly (`fit(resume_from=path)`).
`save_last=True` would not help: Lightning skips it when a step checkpoint exists, so the Stop
checkpoint is written here, in `on_train_batch_end`, the one place that resumes at the right epoch.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Protocol

import lightning as L

from tbwidgets.training.callbacks import PeriodicValidation, RunState
from tbwidgets.training.events import CheckpointSaved, TrainingStopped

_STEP = re.compile(r"step-(\d+)-(periodic|best|stop|final)\.ckpt$")


class StopSignal(Protocol):
    def is_set(self) -> bool: ...


def checkpoint_name(step: int, reason: str) -> str:
    return f"step-{step:07d}-{reason}.ckpt"


def checkpoint_step(path: str | Path) -> int | None:
    """The step in a file name written here, else None."""
    m = _STEP.search(str(path))
    return int(m.group(1)) if m else None


class Checkpoints(L.Callback):
    """Writes checkpoints at step boundaries; honours Stop and early stopping there too."""

    def __init__(
        self,
        state: RunState,
        directory: Path,
        *,
        every: int | None,
        keep_last: int,
        keep_best: int,
        patience: int | None,
        stop: StopSignal | None,
        validation: PeriodicValidation,
        meta: dict[str, Any],
    ) -> None:
        self.state, self.dir = state, directory
        self.every, self.keep_last, self.keep_best, self.patience = every, keep_last, keep_best, patience
        self.stop, self.validation, self.meta = stop, validation, meta
        self._periodic: list[Path] = []
        self._best: list[tuple[float, Path]] = []

    # --- the step boundary
    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not self.state.boundary:
            return
        step = self.state.step
        written: dict[str, Path] = {}
        if self.every and step % self.every == 0:
            written["periodic"] = self._save(trainer, "periodic", written)
            self._prune_periodic(written["periodic"])
        if self.state.last_val_step == step:
            self._after_validation(trainer, written)
        if self._stop_requested(trainer):
            path = self._save(trainer, "stop", written)
            self.state.stopped_at, self.state.stop_checkpoint = step, str(path)
            self.state.stopping = True
            trainer.should_stop = True
            if trainer.is_global_zero:
                self.state.emit(TrainingStopped(self.state.run_id, step, str(path)))
        elif step >= self.state.total_steps or trainer.should_stop:
            self._save(trainer, "final", written)

    def _stop_requested(self, trainer: L.Trainer) -> bool:
        local = bool(self.stop is not None and self.stop.is_set())
        if trainer.world_size > 1:  # every rank must stop at the same step, or DDP hangs
            return bool(trainer.strategy.reduce_boolean_decision(local, all=False))
        return local

    def _after_validation(self, trainer: L.Trainer, written: dict[str, Path]) -> None:
        loss = self.state.last_val.get("val_loss", math.nan)
        if not math.isnan(loss) and loss < self.state.best_val_loss:
            self.state.best_val_loss, self.state.best_step = loss, self.state.step
            self.state.bad_validations = 0
            if self.keep_best > 0:
                self._keep_best(loss, self._save(trainer, "best", written))
            return
        self.state.bad_validations += 1
        if self.patience and self.state.bad_validations >= self.patience:
            trainer.should_stop = True  # early stopping: the "final" checkpoint follows in this call

    # --- writing and pruning
    def _save(self, trainer: L.Trainer, reason: str, written: dict[str, Path]) -> Path:
        path = self.dir / checkpoint_name(self.state.step, reason)
        self.meta.update(reason=reason, step=self.state.step)
        trainer.save_checkpoint(path)  # collective under DDP (rank 0 writes); on every rank
        written[reason] = path
        self.state.last_checkpoint = str(path)
        if trainer.is_global_zero:
            self.state.checkpoints.append(str(path))
            self.state.emit(CheckpointSaved(self.state.run_id, self.state.step, str(path), reason))
        return path

    def _prune_periodic(self, path: Path) -> None:
        self._periodic.append(path)
        while self.keep_last > 0 and len(self._periodic) > self.keep_last:
            self._forget(self._periodic.pop(0))

    def _keep_best(self, loss: float, path: Path) -> None:
        self._best.append((loss, path))
        self._best.sort(key=lambda lp: lp[0])
        while len(self._best) > self.keep_best:
            self._forget(self._best.pop()[1])

    def _forget(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        if str(path) in self.state.checkpoints:
            self.state.checkpoints.remove(str(path))

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: Any, checkpoint: dict[str, Any]) -> None:
        checkpoint["tbwidgets"] = dict(self.meta)


def find_last(root: Path) -> Path | None:
    """The most recently written checkpoint under `root` (sub-folders are runs), highest step on a tie."""
    found = [(p.stat().st_mtime, checkpoint_step(p), p) for p in root.rglob("*.ckpt")]
    ranked = sorted((t, s, p) for t, s, p in found if s is not None)
    return ranked[-1][2] if ranked else None


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint's contents on the CPU (tensors, numbers and strings only: no code is unpickled)."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)  # type: ignore[no-any-return]
    except FileNotFoundError:
        raise FileNotFoundError(f"Checkpoint {path} does not exist.") from None


def _mismatch(own: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    shapes = [
        f"{k}: model {tuple(own[k].shape)} vs checkpoint {tuple(saved[k].shape)}"
        for k in own
        if k in saved and tuple(own[k].shape) != tuple(saved[k].shape)
    ]
    out = []
    for label, items in (("missing in the checkpoint", missing), ("not in the model", unexpected)):
        if items:
            out.append(f"{len(items)} {label} (e.g. {', '.join(items[:3])})")
    if shapes:
        out.append(f"{len(shapes)} with another shape (e.g. {'; '.join(shapes[:3])})")
    return out


def load_checkpoint(loaded: Any, path: str | Path) -> dict[str, Any]:
    """Put a checkpoint's weights into `loaded` (a LoadedModel or nn.Module); return its tbwidgets entry.

    Raises ValueError naming the differences when the checkpoint belongs to another architecture.
    """
    ckpt = read_checkpoint(path)
    module = getattr(loaded, "module", loaded)
    weights = {
        k.removeprefix("model."): v for k, v in ckpt.get("state_dict", {}).items() if k.startswith("model.")
    }
    meta = ckpt.get("tbwidgets", {})
    problems = _mismatch(module.state_dict(), weights)
    if problems:
        trained = meta.get("model", {})
        origin = f"{trained.get('name', 'another model')} ({trained.get('n_params', '?')} parameters)"
        raise ValueError(
            f"Checkpoint {path} does not fit {type(module).__name__}: it was written for {origin}; "
            f"parameters {'; '.join(problems)}. Load it into the model it was trained from "
            "(same model code and config), or train this model from scratch."
        )
    module.load_state_dict(weights)
    return dict(meta)
