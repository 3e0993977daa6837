"""The usable sequence length, measured once at load: what is claimed, what the tables hold, what runs.

Order of evidence (issue 9): the user's config, then the model's own config (a Hugging Face config's
`max_position_embeddings`, a config object's `block_size`…), then position tables (embeddings,
parameters and buffers of any layout), then a probe that bisects to the longest length that runs.
Every claim is verified by running the model at that length (capped, see `PROBE_CAP`), so the
length every check reads is one the model really accepts. A table longer than what runs (RoBERTa and
OPT start position ids after an offset) is a finding, not a failure; a promise the model cannot keep
is kept in `claimed` for Shape robustness to fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tbwidgets.loading.model import Finding

DEFAULT_MAX_LEN = 512
"""Tried when nothing states a length; a model without position limits is recorded as running at it."""

PROBE_CAP = {"cpu": 4096}
"""Longest length run at load per device type (others: 8192); one CPU forward at 128k tokens takes hours."""

OTHER_CAP = 8192
OFFSET_SLACK = 16  # position-id offsets are a few rows (RoBERTa and OPT: 2); only those are probed
MIN_LEN = 8  # the load probe's own length: below it the model is simply broken, not length-limited

_POS_NAME = re.compile(r"pos|wpe|position", re.I)
_TYPE_NAME = re.compile(r"token_type|segment", re.I)
_CONFIG_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "block_size",
    "max_seq_len",
    "seq_length",
    "max_len",
    "n_ctx",
    "context_length",
    "seq_len",
)


@dataclass(frozen=True)
class Table:
    """A position table: its qualified name, kind ("table", "parameter", "buffer") and row count."""

    name: str
    kind: str
    rows: int

    @property
    def label(self) -> str:
        return f"position {self.kind} {self.name}" if self.kind != "table" else f"position table {self.name}"


@dataclass
class LengthFacts:
    """`usable`: the length checks use; `claimed`: an explicit promise (None: only a table's size)."""

    usable: int
    source: str
    claimed: int | None = None
    claimed_source: str = ""
    table: Table | None = None
    verified: int = 0
    findings: list[Finding] = field(default_factory=list)


def _rows(shape: tuple[int, ...], width: int | None) -> int | None:
    """Rows of a position tensor in any common layout: (T, D), (1, T, D), (T, 1, D), (1, 1, T, D)…"""
    dims = [d for d in shape if d != 1]
    if width is not None and len(dims) == 2 and width in dims and dims[0] != dims[1]:
        return dims[1 - dims.index(width)]  # the dimension that is not the model width
    if len(dims) == 2:
        return dims[0] if shape[-1] == dims[1] else dims[1]
    return None


def position_tables(module: nn.Module, width: int | None = None) -> list[Table]:
    """Position tables in the order embeddings, parameters, buffers (names like pos_emb, wpe, pe)."""
    found: list[Table] = []
    for name, m in module.named_modules():
        if isinstance(m, nn.Embedding) and _pos_name(name):
            found.append(Table(name, "table", m.num_embeddings))
    emb_names = {t.name for t in found}
    tensors: list[tuple[str, str, torch.Tensor]] = [
        (n, "parameter", p) for n, p in module.named_parameters() if n.rsplit(".", 1)[0] not in emb_names
    ]
    tensors += [(n, "buffer", b) for n, b in module.named_buffers()]
    for name, kind, t in tensors:
        if not _pos_name(name, tensor=True) or not t.is_floating_point() or t.ndim < 2:
            continue
        rows = _rows(tuple(t.shape), width)
        if rows is not None and rows > 1:
            found.append(Table(name, kind, rows))
    return found


def _pos_name(name: str, tensor: bool = False) -> bool:
    """Position-like names: the whole path for modules, the last part for tensors (`pos_encoder.pe`)."""
    if _TYPE_NAME.search(name):
        return False
    if not tensor:
        return bool(_POS_NAME.search(name))
    last = name.removesuffix(".weight").rsplit(".", 1)[-1]
    return last == "pe" or bool(_POS_NAME.search(last))


def model_config_claim(module: nn.Module) -> tuple[int, str] | None:
    """A length the model's own config states: `model.config.<key>` or an attribute like `block_size`."""
    cfg = getattr(module, "config", None)
    holders: list[tuple[Any, str]] = [(cfg, "model config")] if cfg is not None else []
    holders.append((module, f"{type(module).__name__}"))
    for holder, label in holders:
        for key in _CONFIG_KEYS:
            value = getattr(holder, key, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value, f"{label} {key}"
    return None


def user_claim(config: Mapping[str, Any]) -> int | None:
    value = config.get("max_seq_len")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


Runs = Callable[[int], bool]


def measure_length(
    module: nn.Module, runs: Runs, user_config: Mapping[str, Any], *, width: int | None, device: str
) -> LengthFacts:
    """Decide the usable length; `runs(T)` says whether a (1, T) forward works (False on any crash)."""
    tables = position_tables(module, width)
    table = tables[0] if tables else None
    candidate, source, explicit = _candidate(module, user_config, table)
    claimed = candidate if explicit else None
    cap = PROBE_CAP.get(device, OTHER_CAP)
    if not runs(min(MIN_LEN, candidate)):  # broken at any length: the load probe's finding says so
        return LengthFacts(candidate, source, claimed, source, table, 0)
    target = min(candidate, cap)
    usable = verified = target if runs(target) else _bisect(runs, min(MIN_LEN, candidate), target)
    if verified == target:
        usable = candidate  # beyond the cap the claim is trusted, and the source says so
    facts = LengthFacts(usable, source, claimed, source, table, verified)
    reach = _table_reach(runs, table, verified, cap)
    _describe(facts, candidate, cap, reach)
    return facts


def _table_reach(runs: Runs, table: Table | None, works: int, cap: int) -> int | None:
    """How much of a table longer than the usable length runs (RoBERTa's 130 rows: 128); None if unknown."""
    if table is None or table.rows <= works or table.rows > min(cap, works + OFFSET_SLACK):
        return None  # a table far longer than the claim is normal headroom, not an offset
    return table.rows if runs(table.rows) else _bisect(runs, works, table.rows)


def _candidate(
    module: nn.Module, user_config: Mapping[str, Any], table: Table | None
) -> tuple[int, str, bool]:
    """(length to try, its source, whether it is an explicit promise rather than a table's size)."""
    claim = user_claim(user_config)
    if claim is not None:
        return claim, "config max_seq_len", table is None or claim != table.rows
    own = model_config_claim(module)
    if own is not None:
        return own[0], own[1], table is None or own[0] != table.rows
    if table is not None:
        return table.rows, table.label, False
    return DEFAULT_MAX_LEN, f"default {DEFAULT_MAX_LEN}", False


def _bisect(runs: Runs, lo: int, hi: int) -> int:
    """Longest length in [lo, hi) that runs, given that lo runs and hi does not."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if runs(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _describe(facts: LengthFacts, candidate: int, cap: int, reach: int | None) -> None:
    """Set the human source and add findings for tables and promises longer than what runs."""
    table, usable = facts.table, facts.usable
    if usable < candidate and table is not None and candidate == table.rows and facts.claimed is None:
        facts.source = f"{table.label}: {table.rows} rows, {usable} usable"
    elif usable < candidate:
        facts.source = f"longest length that runs (probe; {facts.claimed_source} says {candidate})"
    elif table is not None and table.rows == usable:
        facts.source = table.label
    elif facts.claimed_source.startswith("config") and table is None:
        facts.source = "config max_seq_len (the model has no position table)"
    elif facts.claimed_source.startswith("default"):
        facts.source = (
            f"default {DEFAULT_MAX_LEN}: no position table and no max_seq_len in the config "
            f"(runs at {facts.verified})"
        )
    if facts.verified < usable:
        facts.source += f"; verified up to {facts.verified} on this device"
    if table is not None and reach is not None and reach < table.rows:
        facts.findings.append(_offset_table(table, reach, usable))
    if facts.claimed is not None and usable < facts.claimed:
        facts.findings.append(_broken_promise(facts))


def _offset_table(table: Table, reach: int, usable: int) -> Finding:
    start = table.rows - reach
    return Finding(
        "info",
        f"{table.label} has {table.rows} rows, {reach} usable: position ids start at {start} "
        f"(an offset such as the padding index); tbwidgets uses length {usable}.",
        f"Nothing to fix. Inputs longer than {reach} tokens would index past the table.",
    )


def _broken_promise(facts: LengthFacts) -> Finding:
    where = f" ({facts.table.label} has {facts.table.rows} rows)" if facts.table is not None else ""
    key = facts.claimed_source.rsplit(" ", 1)[-1]
    return Finding(
        "warn",
        f"{facts.claimed_source} is {facts.claimed} but the model runs "
        f"only up to {facts.usable} tokens{where}; tbwidgets uses {facts.usable}. Sequences longer than "
        f"{facts.usable} would crash the model.",
        f"Make {key} match what the model accepts, or make the position table as long as {key}.",
    )
