"""model.py → model class → instance: import the code, find the model class, call its constructor.

The import itself (a private package per load, its sibling files as submodules) lives in
user_import; this module picks the class and builds it.
"""

from __future__ import annotations

import ast
import inspect
import types
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from tbwidgets.loading.config import canonical_key
from tbwidgets.loading.errors import LoadError
from tbwidgets.loading.model import Finding
from tbwidgets.loading.user_import import ImportedCode, import_code

__all__ = ["ImportedCode", "defined_modules", "discover_class", "import_code", "instantiate"]

INIT_SEED = 0
"""Seed for the constructor's random init, so re-loading the same code gives the same weights."""

_TOKEN_PARAM = ("token", "ids", "idx")


def defined_modules(module: types.ModuleType) -> list[type[nn.Module]]:
    """nn.Module subclasses defined in the file (imported ones such as torch.nn.Linear excluded), in order."""
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, nn.Module) and obj.__module__ == module.__name__
    ]


def _used_names(code: str) -> set[str]:
    """Class names that other classes call (submodules) or inherit from (bases)."""
    used: set[str] = set()
    for cls in (n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.ClassDef)):
        used |= {b.id for b in cls.bases if isinstance(b, ast.Name)}
        for node in ast.walk(cls):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id != cls.name:
                used.add(node.func.id)
    return used


def _takes_tokens(cls: type[nn.Module]) -> bool:
    try:
        params = list(inspect.signature(cls.forward).parameters)[1:]
    except (TypeError, ValueError):
        return False
    return bool(params) and any(t in params[0].lower() for t in _TOKEN_PARAM)


def discover_class(
    module: types.ModuleType, code: str, model_name: str | None, *, name_from: str = "model_name"
) -> tuple[type[nn.Module], str, list[Finding]]:
    """(class, how it was picked, findings). `name_from` says where model_name came from."""
    defined = defined_modules(module)
    names = ", ".join(c.__name__ for c in defined)
    if model_name:
        obj = vars(module).get(model_name)
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            return obj, f"class {model_name} named by {name_from}", []
        if name_from == "model_name argument":
            raise LoadError(
                f"model.py has no nn.Module class named {model_name!r} (it defines: {names or 'none'}).",
                "Pass model_name= one of the classes model.py defines.",
            )
    if not defined:
        raise LoadError(
            "model.py defines no nn.Module subclass, so there is no model to build.",
            "Check that the file is the model export (a class deriving from torch.nn.Module).",
        )
    used = _used_names(code)
    roots = [c for c in defined if c.__name__ not in used] or defined
    picked, how = _pick_root(roots)
    findings = []
    if model_name:
        findings.append(
            Finding(
                "warn",
                f"{name_from} is {model_name!r} but model.py has no such class; using {picked.__name__}.",
                "Set model_name in config.json to the class name in model.py.",
            )
        )
    return picked, how, findings


def _pick_root(roots: list[type[nn.Module]]) -> tuple[type[nn.Module], str]:
    if len(roots) == 1:
        return roots[0], f"class {roots[0].__name__}: the only model class not used inside another"
    token = [c for c in roots if _takes_tokens(c)]
    if len(token) == 1:
        return token[0], f"class {token[0].__name__}: the only top-level class whose forward takes tokens"
    raise LoadError(
        "model.py defines several top-level model classes: " + ", ".join(c.__name__ for c in roots) + ".",
        "Pass model_name='<class name>' to load_model (or set model_name in config.json).",
    )


def _constructor_args(
    cls: type[nn.Module], config: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str], bool]:
    """(kwargs from config, required parameters the config lacks, whether __init__ takes **kwargs)."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    kwargs: dict[str, Any] = {}
    missing: list[str] = []
    var_kw = False
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind is p.VAR_POSITIONAL:
            continue
        elif p.name in config or canonical_key(p.name) in config:
            kwargs[p.name] = config[p.name] if p.name in config else config[canonical_key(p.name)]
        elif p.default is p.empty:
            missing.append(p.name)
    return kwargs, missing, var_kw


def instantiate(cls: type[nn.Module], config: Mapping[str, Any]) -> tuple[nn.Module, str]:
    """Build the model, passing only the config keys the constructor accepts (aliases understood)."""
    kwargs, missing, var_kw = _constructor_args(cls, config)
    if missing:
        raise LoadError(
            f"{cls.__name__}.__init__ needs {', '.join(missing)}, which the config does not give.",
            "Add them to config.json, or pass config={" + ", ".join(f"'{m}': ..." for m in missing) + "}.",
        )
    if var_kw:
        taken = {canonical_key(k) for k in kwargs}
        kwargs.update({k: v for k, v in config.items() if k not in taken and k not in kwargs})
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(INIT_SEED)
            model = cls(**kwargs)
    except Exception as exc:  # user code: report which call failed
        raise LoadError(
            f"{cls.__name__}({shown}) raised {type(exc).__name__}: {exc}",
            "Check the constructor arguments in config.json against model.py's __init__.",
        ) from exc
    if not kwargs:
        note = f"{cls.__name__}() — no constructor arguments"
    else:
        note = f"{cls.__name__}({shown}) — arguments from the config" + (" (**kwargs)" if var_kw else "")
    return model, note
