"""Constructors that real model code has: a config object (nanoGPT's dataclass, minGPT's get_default_config),
and `torch.compile`d modules, which are unwrapped so the checks see the eager model.

`build_with_config_object` returns None when the constructor does not take a config object, so the
plain keyword path (`source.instantiate`) handles every other model.
"""

from __future__ import annotations

import dataclasses
import inspect
import traceback
import types
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from tbwidgets.loading.config import canonical_key, normalize_config
from tbwidgets.loading.errors import LoadError

INIT_SEED = 0  # same seed as source.instantiate: re-loading the same code gives the same weights
_CONFIG_PARAM_NAMES = ("config", "cfg", "conf", "args", "hparams", "params", "model_config", "gpt_config")


def unwrap_compiled(module: nn.Module) -> tuple[nn.Module, str]:
    """(eager module, note): a torch.compile'd OptimizedModule is checked through its `_orig_mod`.

    Checks switch grad modes and shapes constantly; dynamo would recompile on each switch (minutes
    for a small model) while the compiled graph computes the same function as the eager module.
    """
    inner = getattr(module, "_orig_mod", None)
    if isinstance(inner, nn.Module) and type(module).__name__ == "OptimizedModule":
        return inner, (
            f"torch.compile'd {type(inner).__name__}: checked through its _orig_mod (the eager module; "
            "same weights, no recompilation)"
        )
    return module, ""


def flatten_config(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Nested sections ({"model": {...}}) flattened; outer keys win, node graphs as normalize_config reads them."""
    if not raw:
        return {}
    flat: dict[str, Any] = {}
    nested: list[Mapping[str, Any]] = []
    for key, value in raw.items():
        if isinstance(value, Mapping):
            nested.append(value)
        elif key != "nodes":
            flat[key] = value
    for section in nested:
        for key, value in flatten_config(section).items():
            flat.setdefault(key, value)
    for key, value in normalize_config(raw).items():
        flat.setdefault(key, value)
    return flat


def _required(cls: type[nn.Module]) -> list[inspect.Parameter]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p for p in params if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _annotation_class(param: inspect.Parameter, namespace: types.ModuleType) -> type | None:
    ann = param.annotation
    if ann is param.empty:
        return None
    if isinstance(ann, str):
        ann = vars(namespace).get(ann.strip("'\""))
    return ann if isinstance(ann, type) and not issubclass(ann, (int, float, str, nn.Module)) else None


def _config_dataclass(namespace: types.ModuleType) -> type | None:
    """The one dataclass model.py defines (preferring one named *Config*)."""
    defined = [
        obj
        for obj in vars(namespace).values()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == namespace.__name__
    ]
    named = [c for c in defined if "config" in c.__name__.lower() or "cfg" in c.__name__.lower()]
    pool = named or defined
    return pool[0] if len(pool) == 1 else None


def _value(name: str, flat: Mapping[str, Any]) -> tuple[bool, Any]:
    if name in flat:
        return True, flat[name]
    canon = canonical_key(name)
    if canon != name and canon in flat:
        return True, flat[canon]
    return False, None


def _fill_dataclass(cfg_cls: type, flat: Mapping[str, Any]) -> tuple[Any, list[str]]:
    kwargs: dict[str, Any] = {}
    missing = []
    for f in dataclasses.fields(cfg_cls):
        found, value = _value(f.name, flat)
        if found:
            kwargs[f.name] = value
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            missing.append(f.name)
    if missing:
        raise LoadError(
            f"{cfg_cls.__name__} needs {', '.join(missing)}, which config.json does not give.",
            f"Add {', '.join(missing)} to config.json (the fields of {cfg_cls.__name__} in model.py).",
        )
    return cfg_cls(**kwargs), list(kwargs)


def _fill_default_config(maker: Callable[[], Any], flat: Mapping[str, Any]) -> tuple[Any, list[str]]:
    obj = maker()
    names = [n for n in (vars(obj) if hasattr(obj, "__dict__") else {}) if not n.startswith("_")]
    used = []
    for name in names:
        found, value = _value(name, flat)
        if found:
            setattr(obj, name, value)
            used.append(name)
    return obj, used


def build_with_config_object(
    cls: type[nn.Module], namespace: types.ModuleType, raw: Mapping[str, Any] | None
) -> tuple[nn.Module, str] | None:
    """Build `cls(config)` when its one required argument is a config object model.py can make."""
    required = _required(cls)
    if len(required) != 1:
        return None
    param = required[0]
    flat = flatten_config(raw)
    if param.name in flat or canonical_key(param.name) in flat:
        return None  # a plain value the keyword path passes
    target = _annotation_class(param, namespace)
    default_cfg = getattr(cls, "get_default_config", None)
    if target is None and callable(default_cfg):
        obj, used = _fill_default_config(default_cfg, flat)
        kind = f"{cls.__name__}.get_default_config()"
    else:
        target = target or (_config_dataclass(namespace) if param.name in _CONFIG_PARAM_NAMES else None)
        if target is None or not dataclasses.is_dataclass(target):
            return None
        obj, used = _fill_dataclass(target, flat)
        kind = f"dataclass {target.__name__}"
    return _call(cls, obj, kind, used)


def _failing_line(exc: BaseException) -> str:
    """The source line that raised (a bare `assert` has no message of its own)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"at `{frames[-1].line}`" if frames and frames[-1].line else "(no message)"


def _call(cls: type[nn.Module], obj: Any, kind: str, used: list[str]) -> tuple[nn.Module, str]:
    shown = ", ".join(f"{k}={getattr(obj, k)!r}" for k in used)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(INIT_SEED)
            model = cls(obj)
    except Exception as exc:  # user code: report which call failed
        raise LoadError(
            f"{cls.__name__}(config) with a {kind} ({shown or 'its defaults'}) raised "
            f"{type(exc).__name__}: {str(exc) or _failing_line(exc)}",
            f"Check config.json against the fields of the {kind} in model.py.",
        ) from exc
    note = (
        f"{cls.__name__}(config) — config object: a {kind} built from config.json "
        f"({shown or 'all defaults: no config key matched'})"
    )
    return model, note
