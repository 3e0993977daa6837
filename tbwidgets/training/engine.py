"""Engine: one run's parts put together (plan, module, callbacks, Trainer, trackers) and run."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import torch

from tbwidgets._version import __version__
from tbwidgets.training.callbacks import Emit, PeriodicValidation, RunState, StepEvents, StepSeed
from tbwidgets.training.checkpoints import Checkpoints, read_checkpoint
from tbwidgets.training.distributed import NotebookRelay, resolve_devices
from tbwidgets.training.module import OptimSettings, TrainingModule
from tbwidgets.training.outcome import TrainingInterrupted
from tbwidgets.training.runs import plan_run
from tbwidgets.training.tracking import WandbTracker, wandb_installed
from tbwidgets.training.trainer import CombinedStop, ctrl_c_stops, make_trainer, users_rng_kept


def _ignore(event: Any) -> None:
    return None


def checkpoint_step_of(path: Path | None) -> int:
    """global_step stored in a Lightning checkpoint (0 without one)."""
    if path is None:
        return 0
    return int(read_checkpoint(path).get("global_step", 0))


class Engine:
    """Builds everything for one `fit` call; `run(emit)` trains; the state is kept for the result."""

    def __init__(
        self, loaded: Any, data: Any, config: Any, *, out_dir: Any, resume_from: Any, stop: Any
    ) -> None:
        self.loaded, self.data = loaded, data
        self.config = resolve_devices(config)
        self.plan = plan_run(self.config, _n_batches(data, self.config), out_dir, resume_from)
        self.start_step = checkpoint_step_of(self.plan.resume_from)
        self.stop = CombinedStop(stop)
        self.state = RunState(self.plan.run_id, self.plan.total_steps, _ignore)
        self.messages: list[str] = list(getattr(data, "notes", []))
        self.tracker = self._tracker()

    def _tracker(self) -> WandbTracker | None:
        cfg = self.config
        if not cfg.wandb_project or cfg.wandb_mode == "disabled" or _rank() != 0:
            return None
        if not wandb_installed():
            self.messages.append(
                "W&B skipped: wandb is not installed (pip install wandb); the history is kept."
            )
            return None
        return WandbTracker(cfg, self.plan.out_dir, self.plan.run_id)

    def trackers(self) -> list[Any]:
        return [self.tracker] if self.tracker is not None else []

    def close_trackers(self, failed: bool = False) -> None:
        if self.tracker is not None:
            tracker, self.tracker = self.tracker, None
            tracker.close(failed=failed)
            self._sync = tracker.sync_command()

    def wandb_sync(self) -> str | None:
        self.close_trackers()
        return getattr(self, "_sync", None)

    def _module(self) -> TrainingModule:
        cfg, plan = self.config, self.plan
        optim = OptimSettings(
            learning_rate=cfg.learning_rate,
            weight_decay=cfg.weight_decay,
            warmup_steps=plan.warmup_steps,
            total_steps=plan.total_steps,
            max_grad_norm=cfg.max_grad_norm or 0.0,
        )
        return TrainingModule(
            self.loaded.module, self.loaded.adapter, self.data.kind, optim, bool(cfg.compile)
        )

    def _meta(self) -> dict[str, Any]:
        facts = self.loaded.facts
        return {
            "tbwidgets_version": __version__,
            "run_id": self.plan.run_id,
            "config": self.config.to_dict(),
            "model": {
                "name": self.loaded.name,
                "class": type(self.loaded.module).__name__,
                "n_params": facts.n_params,
                "vocab_size": facts.vocab_size,
                "max_len": facts.max_len,
            },
            "task": self.data.kind,
            "data": self.data.description,
        }

    def _callbacks(self, lag: bool, stop: Any) -> list[Any]:
        cfg, state = self.config, self.state
        events = StepEvents(state, lag=lag)
        validation = PeriodicValidation(state, self.data.val, cfg.val_every_n_steps, events)
        checkpoints = Checkpoints(
            state,
            self.plan.checkpoint_dir,
            every=cfg.checkpoint_every_n_steps,
            keep_last=cfg.keep_last,
            keep_best=cfg.keep_best,
            patience=cfg.early_stopping_patience,
            stop=stop,
            validation=validation,
            meta=self._meta(),
        )
        return [StepSeed(cfg.random_seed, cfg.gradient_accumulation_steps), events, validation, checkpoints]

    def run(self, emit: Emit) -> None:
        self.plan.out_dir.mkdir(parents=True, exist_ok=True)
        if _rank() == 0:
            self.config.save(self.plan.out_dir / "config.json")
        module = self._module()
        on_cuda = self.config.accelerator in ("gpu", "cuda") or (
            self.config.accelerator == "auto" and torch.cuda.is_available()
        )
        forked = self.config.strategy in ("ddp_notebook", "ddp_fork")
        relay = NotebookRelay(emit, self.stop) if forked else None
        self.state.emit = relay.child_emit if relay else emit  # the callbacks run in the children
        stop = relay.child_stop if relay else self.stop
        trainer = make_trainer(
            self.config, self.plan.total_steps, self._callbacks(on_cuda, stop), str(self.plan.out_dir)
        )
        ckpt = str(self.plan.resume_from) if self.plan.resume_from else None
        with relay or contextlib.nullcontext(), users_rng_kept(), ctrl_c_stops(self.stop):
            try:
                trainer.fit(module, train_dataloaders=self.data.train, ckpt_path=ckpt)
            except SystemExit as exc:  # a second Ctrl-C: Lightning turns it into sys.exit(1)
                raise TrainingInterrupted(self.state.step, self.state.last_checkpoint) from exc
        if self.stop.interrupted.is_set():
            raise TrainingInterrupted(self.state.step, self.state.stop_checkpoint)


def _n_batches(data: Any, config: Any) -> int:
    try:
        return len(data.train)
    except TypeError:  # an iterable without a length: count batches from the example count
        return -(-int(data.n_train) // int(config.batch_size))


def _rank() -> int:
    import os

    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) or 0)
