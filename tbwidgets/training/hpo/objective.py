"""One trial: a fresh model from the source, the sampled config, `fit`, and pruning at validation.

Pruning listens to `ValidationMetrics` (emitted at the optimizer step, several times per epoch),
reports the validation loss to the trial and, when the pruner says so, asks `fit` to stop: the
run ends within one optimizer step and the trial is recorded as PRUNED at that step.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tbwidgets.training.hpo import recovery
from tbwidgets.training.hpo.events import SearchEvent, TrialEvent, TrialStarted
from tbwidgets.training.hpo.space import Space, sample, split_values

OBJECTIVE = "val_loss"  # minimised: the validation loss at the last step


class SearchStopped(Exception):
    """The user pressed Stop during a trial; the trial is failed and queued again for a resume."""


class Pruning:
    """Listener + stop signal for `fit`: report val_loss per step, stop when pruned or on user Stop."""

    def __init__(self, trial: Any, user_stop: Any, forward: Callable[[Any], None]) -> None:
        self.trial, self.user_stop, self.forward = trial, user_stop, forward
        self.pruned_at: int | None = None
        self.last_value: float | None = None

    def __call__(self, event: Any) -> None:
        from tbwidgets.training.events import ValidationMetrics

        if isinstance(event, ValidationMetrics) and self.pruned_at is None:
            value = float(event.metrics.get(OBJECTIVE, math.nan))
            if math.isfinite(value):
                self.last_value = value
                self.trial.report(value, event.step)
                if self.trial.should_prune():
                    self.pruned_at = event.step
        self.forward(TrialEvent(self.trial.number, event))

    def is_set(self) -> bool:
        return self.pruned_at is not None or bool(self.user_stop is not None and self.user_stop.is_set())


def fresh_model(source: Any, model_kwargs: dict[str, Any], seed: int) -> Any:
    """A LoadedModel no earlier trial has touched: the factory called again, the source loaded again,
    or a copy of the pristine model taken before the first trial."""
    import torch

    from tbwidgets.loading import LoadedModel, load_model

    if isinstance(source, LoadedModel):
        if model_kwargs:
            raise ValueError(
                f"Model values {sorted(model_kwargs)} need a model factory as the source, not a model."
            )
        return copy.deepcopy(source)
    if callable(source) and not isinstance(source, torch.nn.Module):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # the same initial weights for the same model values
            built = source(**model_kwargs)
        return built if isinstance(built, LoadedModel) else load_model(model=built)
    if model_kwargs:
        raise ValueError(
            f"The search space has {sorted(model_kwargs)}, which are not TrainingConfig fields: pass a model "
            "factory (a function taking them as keyword arguments) as the source, or remove them."
        )
    if isinstance(source, torch.nn.Module):
        return load_model(model=copy.deepcopy(source))
    return load_model(source)


@dataclass
class TrialRunner:
    """The Optuna objective of one search call."""

    source: Any
    data: Any
    config: Any  # TrainingConfig
    space: Space | None
    run_dir: Path
    emit: Callable[[SearchEvent], None]
    user_stop: Any
    study_name: str
    tokenizer: Any = None
    durations: dict[int, float] = field(default_factory=dict)
    current_trial_id: int = -1
    on_start: Callable[[], None] = field(default=lambda: None)  # the trial exists: release the claim

    def __call__(self, trial: Any) -> float:
        from tbwidgets.training.fit import fit

        self.on_start()
        self.current_trial_id = trial._trial_id
        values = sample(self.space, trial)
        cfg_changes, model_kwargs = split_values(values)
        cfg = self.config.replace(**cfg_changes)
        retry_of = trial.study._storage.get_trial_system_attrs(trial._trial_id).get("failed_trial")
        trial.set_user_attr(recovery.OWNER_ATTR, recovery.owner())
        self.emit(TrialStarted(self.study_name, trial.number, dict(values), retry_of))
        loaded = fresh_model(self.source, model_kwargs, cfg.random_seed)
        pruning = Pruning(trial, self.user_stop, self.emit)
        recovery.mark_active(trial._trial_id, True)
        t0 = time.perf_counter()
        try:
            result = fit(
                loaded,
                self.data,
                cfg,
                on_event=pruning,
                stop=pruning,
                tokenizer=self.tokenizer,
                out_dir=self.run_dir / "trials" / f"trial-{trial.number:04d}",
            )
        except Exception as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            recovery.mark_active(trial._trial_id, False)
            self.durations[trial.number] = time.perf_counter() - t0
        trial.set_user_attr("steps", int(result.steps))
        trial.set_user_attr("out_dir", str(result.out_dir))
        return self._outcome(trial, pruning, result)

    def _outcome(self, trial: Any, pruning: Pruning, result: Any) -> float:
        import optuna

        if pruning.pruned_at is not None:
            trial.set_user_attr("pruned_at", pruning.pruned_at)
            raise optuna.TrialPruned(f"pruned at step {pruning.pruned_at}")
        if result.stopped:
            trial.set_user_attr("stopped", True)
            raise SearchStopped(f"trial {trial.number} stopped at step {result.steps}")
        value = result.final.get(OBJECTIVE, math.nan)
        if not math.isfinite(value):
            raise ValueError(
                "The trial finished without a validation loss: the search needs a validation split "
                "(set config.validation_split > 0 and val_every_n_steps)."
            )
        accuracy = result.final.get("val_accuracy")
        if accuracy is not None and math.isfinite(accuracy):
            trial.set_user_attr("val_accuracy", float(accuracy))
        return float(value)
