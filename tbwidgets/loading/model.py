"""LoadedModel and its parts: the one object every check, view and command works from."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn


class Task(str, enum.Enum):
    CAUSAL_LM = "causal-lm"
    MASKED_LM = "masked-lm"
    CLASSIFICATION = "classification"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Finding:
    """Something the loader noticed: `level` is "info", "warn" or "error"; `fix` says what to do."""

    level: str
    message: str
    fix: str = ""


@dataclass(frozen=True)
class Provenance:
    """Where the model came from. `kind` is "gist", "path", "module" or "example"."""

    kind: str
    gist_id: str | None = None
    revision: str | None = None
    html_url: str | None = None
    owner: str | None = None
    path: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)  # file name -> sha256
    fetched_at: str | None = None  # ISO 8601, UTC
    from_cache: bool = False

    @property
    def label(self) -> str:
        """Short human label: `gist 0123abcd@5f3e1a2`, a path, or the kind."""
        if self.kind == "gist" and self.gist_id:
            rev = f"@{self.revision[:7]}" if self.revision else ""
            return f"gist {self.gist_id}{rev}"
        return self.path or self.kind


@dataclass(frozen=True)
class ModelFacts:
    """Facts measured once at load; every check reads length, vocabulary, dtype and task from here.

    `max_len` is the usable length: the longest input the model ran at load (or its claim, where the
    device cap stopped the probe short: see `length_verified`). `claimed_len` is an explicit promise
    (the user's config, or a model config value other than a table's row count) that Shape robustness
    holds the model to; None when only a table's size speaks.
    """

    vocab_size: int
    max_len: int
    max_len_source: str  # e.g. "position table embedding_0_pos", "config max_seq_len"
    n_params: int
    n_trainable: int
    device: torch.device
    dtype: torch.dtype
    pad_token_id: int | None = None
    n_layers: int | None = None
    d_model: int | None = None
    num_labels: int | None = None  # classification heads only
    claimed_len: int | None = None
    claimed_len_source: str = ""  # e.g. "config max_seq_len", "model config block_size"
    position_rows: int | None = None  # rows of the position table, when one was found
    length_verified: int | None = None  # longest length actually run at load (None: not measured)


@dataclass
class LoadedModel:
    """A model ready to check: the module, one calling convention, facts, config and provenance."""

    module: nn.Module
    adapter: Callable[..., torch.Tensor]  # ModelAdapter: adapter(input_ids, attention_mask=None)
    name: str
    task: Task
    task_reason: str
    facts: ModelFacts
    source: Provenance
    config: dict[str, Any] = field(default_factory=dict)  # normalised keys
    raw_config: dict[str, Any] | None = None
    code: str | None = None  # model.py text, when there is one
    build_note: str = ""  # how the model was built, e.g. "CustomTransformer() — no constructor arguments"
    findings: list[Finding] = field(default_factory=list)
    token_embedding: nn.Embedding | None = None  # found by the loader; IG attributes through it
    token_embedding_name: str | None = None
    missing_packages: list[Mapping[str, str]] = field(default_factory=list)  # {"module", "package"}

    def describe(self) -> dict[str, Any]:
        """Plain-data summary for reports and headers (no tensors, no token)."""
        facts = asdict(self.facts)
        facts["device"] = str(self.facts.device)
        facts["dtype"] = str(self.facts.dtype).replace("torch.", "")
        return {
            "name": self.name,
            "task": self.task.value,
            "task_reason": self.task_reason,
            "facts": facts,
            "source": {**asdict(self.source), "label": self.source.label},
            "build_note": self.build_note,
            "config": self.config,
            "findings": [asdict(f) for f in self.findings],
            "token_embedding": self.token_embedding_name,
        }

    def __repr__(self) -> str:
        return (
            f"<LoadedModel {self.name}: {self.facts.n_params:,} params, {self.task.value}, "
            f"vocab {self.facts.vocab_size}, max_len {self.facts.max_len}, {self.source.label}>"
        )
