"""SearchResult: the study's outcome as plain data, with the trials table and `train_best()`."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

TRIAL_COLUMNS = (
    "number",
    "state",
    "value",
    "params",
    "duration_s",
    "steps",
    "pruned_at",
    "retry_of",
    "error",
)


def _state(trial: Any) -> str:
    return str(trial.state.name).lower()


def trial_row(trial: Any) -> dict[str, Any]:
    """One row of the trials table (plus one column per parameter)."""
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    return {
        "number": trial.number,
        "state": _state(trial),
        "value": trial.value,
        "params": dict(trial.params),
        "duration_s": duration,
        "steps": trial.user_attrs.get("steps"),
        "pruned_at": trial.user_attrs.get("pruned_at"),
        "retry_of": trial.system_attrs.get("failed_trial"),
        "error": trial.user_attrs.get("error"),
        **dict(trial.params),
    }


def trials_frame(trials: list[Any]) -> pd.DataFrame:
    import pandas as pd

    rows = [trial_row(t) for t in sorted(trials, key=lambda t: t.number)]
    return pd.DataFrame(rows, columns=None if rows else list(TRIAL_COLUMNS))


def importances(study: Any) -> tuple[dict[str, float], str | None]:
    """Parameter importances (Optuna's default evaluator, PED-ANOVA), or ({}, why not)."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}, "Parameter importances need at least 2 completed trials."
    try:
        with warnings.catch_warnings():  # "quantiles select the same set of trials": few trials, said below
            warnings.simplefilter("ignore", UserWarning)
            found = optuna.importance.get_param_importances(study)
        return {k: float(v) for k, v in found.items()}, None
    except (RuntimeError, ValueError) as exc:
        return {}, f"Parameter importances unavailable: {exc}"


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _plain(value.item())
    return value


@dataclass
class SearchResult:
    """What a search found. `trials` has one row per trial; `best_*` come from completed trials only."""

    study_name: str
    storage: str  # URL without password
    direction: str
    best_params: dict[str, Any]
    best_value: float | None
    best_trial: int | None
    trials: pd.DataFrame
    importances: dict[str, float]
    n_complete: int
    n_pruned: int
    n_failed: int
    duration_s: float
    stopped: bool
    run_dir: str
    config: dict[str, Any]
    messages: list[str] = field(default_factory=list)
    _rerun: Any = field(default=None, repr=False, compare=False)  # (source, data, config, tokenizer)

    def to_dict(self) -> dict[str, Any]:
        trials = self.trials[[c for c in TRIAL_COLUMNS if c in self.trials.columns]]
        return _plain(
            {
                "study_name": self.study_name,
                "storage": self.storage,
                "direction": self.direction,
                "best_params": self.best_params,
                "best_value": self.best_value,
                "best_trial": self.best_trial,
                "importances": self.importances,
                "n_complete": self.n_complete,
                "n_pruned": self.n_pruned,
                "n_failed": self.n_failed,
                "duration_s": self.duration_s,
                "stopped": self.stopped,
                "run_dir": self.run_dir,
                "config": self.config,
                "messages": self.messages,
                "trials": trials.to_dict(orient="records"),
            }
        )

    def to_json(self, path: str | Path | None = None) -> str:
        """Strict JSON text (NaN → null); also written to `path` when given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def train_best(
        self, *, config: Any = None, on_event: Any = None, stop: Any = None, out_dir: str | Path | None = None
    ) -> Any:
        """Train a fresh model with the best parameters (full budget, no pruning); a TrainingResult."""
        if not self.best_params and self.best_trial is None:
            raise ValueError("No trial completed, so there are no best parameters: run more trials first.")
        if self._rerun is None:
            raise ValueError(
                "This SearchResult was read back without its model and data: call "
                "fit(source, data, config.replace(**result.best_params)) yourself."
            )
        from tbwidgets.training.fit import fit
        from tbwidgets.training.hpo.objective import fresh_model
        from tbwidgets.training.hpo.space import split_values

        source, data, base, tokenizer = self._rerun
        cfg_changes, model_kwargs = split_values(self.best_params)
        cfg = (config or base).replace(**cfg_changes)
        loaded = fresh_model(source, model_kwargs, cfg.random_seed)
        target = out_dir or Path(self.run_dir) / "best"
        return fit(loaded, data, cfg, on_event=on_event, stop=stop, tokenizer=tokenizer, out_dir=target)

    def __repr__(self) -> str:
        best = (
            f"best {self.best_value:.4g} (trial {self.best_trial})"
            if self.best_value is not None
            else "no completed trial"
        )
        return (
            f"<SearchResult {self.study_name}: {self.n_complete} complete, {self.n_pruned} pruned, "
            f"{self.n_failed} failed; {best}>"
        )
