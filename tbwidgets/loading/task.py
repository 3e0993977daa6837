"""Which task a model does (causal LM, masked LM, classification), and why we think so.

Order: the caller's argument, then the config (`task`, `architectures`, `is_decoder`, `causal`), then class
names, then the shape of the logits, then a recorded guess (causal LM, the Transformer Builder default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from torch import nn

from tbwidgets.loading.errors import LoadError
from tbwidgets.loading.model import Task

_ALIASES = {
    "causal-lm": Task.CAUSAL_LM,
    "causal_lm": Task.CAUSAL_LM,
    "causal": Task.CAUSAL_LM,
    "lm": Task.CAUSAL_LM,
    "clm": Task.CAUSAL_LM,
    "text-generation": Task.CAUSAL_LM,
    "masked-lm": Task.MASKED_LM,
    "masked_lm": Task.MASKED_LM,
    "mlm": Task.MASKED_LM,
    "fill-mask": Task.MASKED_LM,
    "classification": Task.CLASSIFICATION,
    "text-classification": Task.CLASSIFICATION,
    "sequence-classification": Task.CLASSIFICATION,
}

# Checked in order: classification names first, since "BertForSequenceClassification" also says Bert.
_NAME_RULES: list[tuple[re.Pattern[str], Task]] = [
    (re.compile(r"ForSequenceClassification|Classifier|Classification", re.I), Task.CLASSIFICATION),
    (re.compile(r"ForCausalLM|LMHeadModel|GPT|Decoder|Llama|Mistral|Causal", re.I), Task.CAUSAL_LM),
    (re.compile(r"ForMaskedLM|MaskedLM|MLM|Bert|Roberta|Electra", re.I), Task.MASKED_LM),
]

GUESS_REASON = (
    "guessed: no task given and nothing in the config or class name says otherwise; "
    "pass task='masked-lm' or task='classification' if the model is not a causal language model"
)


def parse_task(value: str | Task) -> Task:
    """`Task` from a string like "causal-lm", "mlm" or "classification"."""
    if isinstance(value, Task):
        return value
    key = str(value).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise LoadError(
        f"Unknown task {value!r}.",
        "Use task='causal-lm', task='masked-lm' or task='classification'.",
    )


def _from_names(names: list[str]) -> tuple[Task, str] | None:
    for pattern, task in _NAME_RULES:
        for name in names:
            if pattern.search(name):
                return task, name
    return None


def _hf_dict(module: nn.Module) -> dict[str, Any]:
    cfg = getattr(module, "config", None)
    return cfg.to_dict() if cfg is not None and hasattr(cfg, "to_dict") else {}


def detect_task(
    module: nn.Module,
    config: Mapping[str, Any],
    given: str | Task | None = None,
    *,
    logits_ndim: int | None = None,
) -> tuple[Task, str]:
    """(task, reason). `logits_ndim` is the probe's output rank: 2 means one prediction per sequence."""
    if given is not None:
        return parse_task(given), "given"
    hf = _hf_dict(module)
    for source, cfg in (("config", config), ("model config", hf)):
        if isinstance(cfg.get("task"), str) and cfg["task"].strip().lower() in _ALIASES:
            return parse_task(cfg["task"]), f"{source} task={cfg['task']!r}"
    archs = [a for a in (config.get("architectures") or hf.get("architectures") or []) if isinstance(a, str)]
    found = _from_names(archs)
    if found:
        return found[0], f"config architectures name {found[1]}"
    if config.get("is_decoder") is True:
        return Task.CAUSAL_LM, "config is_decoder=True"
    if config.get("causal") is True or config.get("is_causal") is True:
        # Transformer Builder's attention nodes carry "causal": true when the canvas asks for a mask
        return Task.CAUSAL_LM, "config causal=true (causal attention)"
    found = _from_names([type(module).__name__])
    if found:
        return found[0], f"class name {found[1]}"
    if logits_ndim == 2:
        return Task.CLASSIFICATION, "the model returns one row of logits per sequence (B, C)"
    return Task.CAUSAL_LM, GUESS_REASON
