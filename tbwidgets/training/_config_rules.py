"""The rules behind TrainingConfig.problems(): per-field ranges, cross-field conflicts, secret screening.

Every rule returns (field, message) pairs instead of raising, so one call can report everything that is
wrong and a form can show each message next to its input. Messages say what to do, not only what is bad.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

Problem = tuple[str, str]

_PRECISIONS = ("32", "bf16-mixed", "16-mixed")
_ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
_WANDB_MODES = ("offline", "online", "disabled")
_TASKS = ("causal-lm", "masked-lm", "classification", "regression")

# Shapes of the credentials users of this tool hold: GitHub, Hugging Face, OpenAI-style, AWS, W&B (40 hex).
_SECRET_PATTERNS = [
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"hf_[A-Za-z0-9]{20,}"),
    re.compile(r"sk-[A-Za-z0-9_-]{20,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{40}(?![0-9a-fA-F])"),
    re.compile(r"(?i)(api[_-]?key|token|secret|password|passwd)\s*[:=]\s*\S{8,}"),
]
# Environment variables whose values must never be copied into a file, whatever their shape.
_SECRET_ENV = (
    "WANDB_API_KEY",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "OPENAI_API_KEY",
)
_SECRET_KEY_NAME = re.compile(r"(?i)(api[_-]?key|token|secret|password|passwd|credential)")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def _int_at_least(name: str, v: Any, low: int, optional: bool = False, hint: str = "") -> list[Problem]:
    if v is None and optional:
        return []
    if not _is_int(v) or v < low:
        extra = " or empty" if optional else ""
        return [(name, f"must be a whole number ≥ {low}{extra}, got {v!r}.{hint}")]
    return []


def _choice(name: str, v: Any, choices: tuple[str, ...]) -> list[Problem]:
    if v not in choices:
        return [(name, f"must be one of {', '.join(map(repr, choices))}, got {v!r}.")]
    return []


def _field_rules(c: Any) -> list[Problem]:
    p: list[Problem] = []
    if not _is_num(c.learning_rate) or c.learning_rate <= 0:
        p.append(
            (
                "learning_rate",
                f"must be a positive number (e.g. 1e-3 from scratch, 5e-5 to fine-tune), got {c.learning_rate!r}.",
            )
        )
    elif c.learning_rate >= 1:
        p.append(("learning_rate", f"{c.learning_rate} is far too large for AdamW; use something like 1e-3."))
    p += _int_at_least("batch_size", c.batch_size, 1)
    p += _int_at_least("max_steps", c.max_steps, 1, optional=True)
    p += _int_at_least("epochs", c.epochs, 1, optional=True)
    if not _is_num(c.warmup_ratio) or not 0 <= c.warmup_ratio < 1:
        p.append(
            (
                "warmup_ratio",
                f"must be in [0, 1) (a fraction of the steps), got {c.warmup_ratio!r}; warmup would take the whole run.",
            )
        )
    if not _is_num(c.weight_decay) or c.weight_decay < 0:
        p.append(("weight_decay", f"must be a number ≥ 0, got {c.weight_decay!r}."))
    if c.max_grad_norm is not None and (not _is_num(c.max_grad_norm) or c.max_grad_norm <= 0):
        p.append(
            ("max_grad_norm", f"must be a positive number or empty (no clipping), got {c.max_grad_norm!r}.")
        )
    p += _int_at_least("gradient_accumulation_steps", c.gradient_accumulation_steps, 1)
    p += _choice("precision", c.precision, _PRECISIONS)
    if not isinstance(c.compile, bool):
        p.append(("compile", f"must be true or false, got {c.compile!r}."))
    p += _int_at_least("val_every_n_steps", c.val_every_n_steps, 1, optional=True)
    p += _int_at_least("early_stopping_patience", c.early_stopping_patience, 1, optional=True)
    if not _is_num(c.validation_split) or not 0 <= c.validation_split < 1:
        p.append(("validation_split", f"must be in [0, 1), got {c.validation_split!r}."))
    if not _is_int(c.random_seed) or not 0 <= c.random_seed < 2**32:
        p.append(("random_seed", f"must be a whole number in [0, 2**32), got {c.random_seed!r}."))
    if not isinstance(c.deterministic, bool):
        p.append(("deterministic", f"must be true or false, got {c.deterministic!r}."))
    return p + _device_rules(c) + _bookkeeping_rules(c)


def _device_rules(c: Any) -> list[Problem]:
    p = _choice("accelerator", c.accelerator, _ACCELERATORS)
    if not (c.devices == "auto" or (_is_int(c.devices) and c.devices >= 1)):
        p.append(("devices", f"must be a whole number ≥ 1 or 'auto', got {c.devices!r}."))
    if not isinstance(c.strategy, str) or not c.strategy:
        p.append(
            ("strategy", f"must be a Lightning strategy name such as 'auto' or 'ddp', got {c.strategy!r}.")
        )
    return p + _int_at_least("num_nodes", c.num_nodes, 1)


def _bookkeeping_rules(c: Any) -> list[Problem]:
    p: list[Problem] = []
    if not isinstance(c.checkpoint_dir, str) or not c.checkpoint_dir.strip():
        p.append(("checkpoint_dir", f"must be a folder path, got {c.checkpoint_dir!r}."))
    p += _int_at_least("checkpoint_every_n_steps", c.checkpoint_every_n_steps, 1, optional=True)
    p += _int_at_least("keep_last", c.keep_last, 0)
    p += _int_at_least("keep_best", c.keep_best, 0)
    for name in ("wandb_project", "wandb_entity", "wandb_run_name", "seq_len", "task"):
        v = getattr(c, name)
        if v is not None and name != "seq_len" and not isinstance(v, str):
            p.append((name, f"must be text or empty, got {v!r}."))
    p += _choice("wandb_mode", c.wandb_mode, _WANDB_MODES)
    if c.task is not None:
        p += _choice("task", c.task, _TASKS)
    p += _int_at_least("seq_len", c.seq_len, 2, optional=True)
    if not isinstance(c.notes, str):
        p.append(("notes", f"must be text, got {type(c.notes).__name__}."))
    return p


def _cross_rules(c: Any, n_train: int | None, cuda_available: bool | None) -> list[Problem]:
    p: list[Problem] = []
    if c.max_steps is None and c.epochs is None:
        p.append(("max_steps", "set max_steps or epochs (or both: training ends at whichever comes first)."))
    if c.precision == "16-mixed" and _on_cpu(c, cuda_available):
        p.append(
            ("precision", "'16-mixed' needs a CUDA GPU and this run is on the CPU; use '32' or 'bf16-mixed'.")
        )
    if _warmup_fills_run(c):
        p.append(("warmup_ratio", f"warmup covers all {c.max_steps} steps; lower warmup_ratio."))
    if c.early_stopping_patience is not None and (c.val_every_n_steps is None or c.validation_split == 0):
        p.append(
            (
                "early_stopping_patience",
                "early stopping watches the validation loss; turn validation on or clear patience.",
            )
        )
    if _is_int(c.batch_size) and _is_int(c.gradient_accumulation_steps) and n_train is not None:
        per_step = c.batch_size * c.gradient_accumulation_steps
        if c.batch_size > n_train:
            p.append(
                ("batch_size", f"{c.batch_size} is more than the {n_train} training examples; lower it.")
            )
        elif per_step > n_train:
            p.append(
                (
                    "gradient_accumulation_steps",
                    f"batch_size × accumulation = {per_step} examples per step, more than the {n_train} training examples; lower one of them.",
                )
            )
    if c.strategy == "ddp_notebook" and c.num_nodes > 1:
        p.append(("strategy", "ddp_notebook runs on one machine; use 'ddp' from the CLI for several nodes."))
    return p


def _warmup_fills_run(c: Any) -> bool:
    valid = _is_int(c.max_steps) and c.max_steps >= 1 and _is_num(c.warmup_ratio) and 0 < c.warmup_ratio < 1
    return valid and round(c.warmup_ratio * c.max_steps) >= c.max_steps


def _on_cpu(c: Any, cuda_available: bool | None) -> bool:
    if c.accelerator == "cpu":
        return True
    if c.accelerator == "auto":
        if cuda_available is None:
            import torch

            cuda_available = torch.cuda.is_available()
        return not cuda_available
    return False


def check_config(c: Any, *, n_train: int | None = None, cuda_available: bool | None = None) -> list[Problem]:
    """All field and cross-field problems of a TrainingConfig, in field order."""
    return _field_rules(c) + _cross_rules(c, n_train, cuda_available)


def looks_secret(value: str, env: Mapping[str, str] | None = None) -> bool:
    """True when `value` contains a credential's shape or the value of a secret environment variable."""
    env = os.environ if env is None else env
    if any(pat.search(value) for pat in _SECRET_PATTERNS):
        return True
    return any(len(s) >= 8 and s in value for s in (env.get(k, "") for k in _SECRET_ENV))


def secret_problems(data: Mapping[str, Any], check: Callable[[str], bool] = looks_secret) -> list[Problem]:
    """Fields whose text looks like a key or token, or whose name says it holds one (values never echoed)."""
    p: list[Problem] = []
    for name, value in data.items():
        texts = [value] if isinstance(value, str) else [str(v) for v in _flatten(value)]
        if _SECRET_KEY_NAME.search(name) or any(check(t) for t in texts):
            p.append(
                (
                    name,
                    "looks like a key or token; secrets come from the environment or `wandb login`, never a config "
                    "(a 40-character hex run of a git commit id matches a W&B key too: shorten it).",
                )
            )
    return p


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [*value.keys(), *[x for v in value.values() for x in _flatten(v)]]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flatten(v)]
    return [value] if isinstance(value, str) else []
