"""`fit`: train any loaded model with Lightning, emitting events; the blocking Python entry point.

It loads the model and data, plans the run (folder, step budget, resume point), composes the
callbacks (the seam: seeding, step metrics, validation, checkpoints + Stop) around one quiet
Trainer, and turns the outcome into a `TrainingResult`. A Stop (event or Ctrl-C) ends the run at an
optimizer-step boundary with a resumable checkpoint; Ctrl-C then re-raises as `TrainingInterrupted`
(a KeyboardInterrupt), never as Lightning's SystemExit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from tbwidgets.training.events import (
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingListener,
    TrainingStarted,
)
from tbwidgets.training.outcome import ResultBuilder, TrainingError, TrainingInterrupted, failure_advice

__all__ = ["TrainingError", "TrainingInterrupted", "fit"]


def _config(config: Any) -> Any:
    from tbwidgets.training.config import TrainingConfig

    if config is None:
        return TrainingConfig()
    if isinstance(config, TrainingConfig):
        return config
    if isinstance(config, (str, Path)):
        return TrainingConfig.load(config)
    return TrainingConfig.from_dict(dict(config))


def _loaded(source: Any) -> Any:
    from tbwidgets.loading import LoadedModel, load_model

    return source if isinstance(source, LoadedModel) else load_model(source)


def _data(data: Any, loaded: Any, config: Any, tokenizer: Any) -> Any:
    from tbwidgets.training.data import TrainingData, make_data

    if isinstance(data, TrainingData):
        return data
    return make_data(data, loaded, config, tokenizer=tokenizer)


def _fan_out(listeners: list[Callable[[TrainingEvent], None]]) -> Callable[[TrainingEvent], None]:
    def emit(event: TrainingEvent) -> None:
        for listener in listeners:
            listener(event)

    return emit


def fit(
    source: Any,
    data: Any,
    config: Any = None,
    *,
    on_event: TrainingListener | None = None,
    resume_from: str | Path | None = None,
    stop: Any = None,
    tokenizer: Any = None,
    out_dir: str | Path | None = None,
) -> Any:
    """Train `source` on `data` and return a TrainingResult.

    source: anything `load_model` takes, or a LoadedModel (trained in place).
    data: a task name ("copy", "reverse", "sort", "modular_addition", "random"), texts, a file or
    folder, a DataFrame column, a `datasets.Dataset`, or a TrainingData from `make_data`.
    config: a TrainingConfig, a dict of its fields or a saved config file; None for the defaults.
    on_event: called with every TrainingEvent, from the thread that runs the loop.
    resume_from: "last" (newest checkpoint under out_dir, else under config.checkpoint_dir), a run
    folder or a .ckpt file: training continues at that step with the same schedule and next batch.
    stop: a threading.Event (or anything with is_set()); setting it ends the run within one
    optimizer step, with a checkpoint to resume from.
    """
    from tbwidgets.training.engine import Engine

    cfg = _config(config)
    loaded = _loaded(source)
    tdata = _data(data, loaded, cfg, tokenizer)
    cfg.validate(n_train=tdata.n_train, cuda_available=torch.cuda.is_available())
    builder = ResultBuilder()
    listeners: list[Callable[[TrainingEvent], None]] = [builder]
    engine = Engine(loaded, tdata, cfg, out_dir=out_dir, resume_from=resume_from, stop=stop)
    if on_event is not None:
        listeners.append(on_event)
    listeners.extend(engine.trackers())
    emit = _fan_out(listeners)
    t0 = time.perf_counter()
    emit(
        TrainingStarted(
            engine.plan.run_id,
            engine.plan.total_steps,
            cfg.to_dict(),
            tdata.description,
            str(engine.plan.out_dir),
            start_step=engine.start_step,
        )
    )
    try:
        engine.run(emit)
    except TrainingInterrupted as exc:
        result = builder.build(engine, time.perf_counter() - t0)
        emit(TrainingFinished(engine.plan.run_id, result))
        exc.result, exc.checkpoint = result, result.stop_checkpoint
        raise
    except Exception as exc:
        engine.close_trackers(failed=True)
        message, advice = failure_advice(exc)
        step, ckpt = engine.state.step, engine.state.last_checkpoint
        emit(TrainingFailed(engine.plan.run_id, step, message, advice, ckpt))
        raise TrainingError(message, advice, step=step, checkpoint=ckpt) from exc
    result = builder.build(engine, time.perf_counter() - t0)
    emit(TrainingFinished(engine.plan.run_id, result))
    return result
