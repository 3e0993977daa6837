"""Search spaces: the default one, dict specs, `(trial) -> dict` functions, and where each value goes.

A dict spec maps a name to one of:
- a list or tuple of choices (`suggest_categorical`), e.g. `"batch_size": [16, 32, 64]`;
- a range dict `{"low": 1e-4, "high": 1e-2, "log": True}` (optional `"step"`; integers when low and
  high are both ints, or with `"type": "int"`);
- a plain value, fixed for every trial.
Names that are `TrainingConfig` fields change the config; any other name is passed as a keyword
argument to the model factory (so a factory `lambda d_model=64: ...` can search its width).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

SpaceSpec = Mapping[str, Any]
Space = SpaceSpec | Callable[[Any], Mapping[str, Any]]

DEFAULT_SPACE: dict[str, Any] = {
    "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},  # the parameter that matters most
    "batch_size": [16, 32, 64],
    "warmup_ratio": {"low": 0.0, "high": 0.2},  # fit turns it into warmup steps of the schedule
    "weight_decay": {"low": 1e-4, "high": 0.3, "log": True},
}


def config_fields() -> set[str]:
    from tbwidgets.training.config import TrainingConfig

    return {f.name for f in dataclasses.fields(TrainingConfig)}


def validate_spec(spec: SpaceSpec) -> None:
    """Raise ValueError naming every malformed entry of a dict spec."""
    problems = []
    for name, rule in spec.items():
        if isinstance(rule, Mapping):
            missing = {"low", "high"} - set(rule)
            if missing:
                problems.append(f"{name}: a range needs 'low' and 'high' (missing {sorted(missing)})")
            elif not rule["low"] < rule["high"]:
                problems.append(f"{name}: 'low' ({rule['low']}) must be below 'high' ({rule['high']})")
            elif rule.get("log") and rule["low"] <= 0:
                problems.append(f"{name}: a log range needs low > 0, got {rule['low']}")
        elif isinstance(rule, (list, tuple)) and not rule:
            problems.append(f"{name}: an empty list of choices")
    if problems:
        raise ValueError("Search space problems: " + "; ".join(problems) + ".")


def _suggest(trial: Any, name: str, rule: Any) -> Any:
    if isinstance(rule, Mapping):
        low, high = rule["low"], rule["high"]
        as_int = rule.get("type") == "int" or (
            isinstance(low, int) and isinstance(high, int) and rule.get("type") != "float"
        )
        if as_int:
            return trial.suggest_int(
                name, int(low), int(high), step=int(rule.get("step", 1)), log=bool(rule.get("log"))
            )
        return trial.suggest_float(
            name, float(low), float(high), step=rule.get("step"), log=bool(rule.get("log"))
        )
    if isinstance(rule, (list, tuple)):
        return trial.suggest_categorical(name, list(rule))
    return rule  # fixed


def sample(space: Space | None, trial: Any) -> dict[str, Any]:
    """The values of one trial: suggested through `trial` (so Optuna records them)."""
    if space is None:
        space = DEFAULT_SPACE
    if callable(space):
        values = space(trial)
        if not isinstance(values, Mapping):
            raise TypeError(
                f"A search-space function must return a dict of values, got {type(values).__name__}."
            )
        return dict(values)
    return {name: _suggest(trial, name, rule) for name, rule in space.items()}


def split_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(TrainingConfig changes, model-factory keyword arguments)."""
    fields = config_fields()
    config = {k: v for k, v in values.items() if k in fields}
    model = {k: v for k, v in values.items() if k not in fields}
    return config, model


def describe(space: Space | None) -> dict[str, Any] | None:
    """JSON-safe form of a dict spec (stored in the study so workers reuse it); None for a function."""
    if space is None:
        return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in DEFAULT_SPACE.items()}
    if callable(space):
        return None
    return {
        k: (list(v) if isinstance(v, tuple) else dict(v) if isinstance(v, Mapping) else v)
        for k, v in space.items()
    }
