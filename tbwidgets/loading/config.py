"""config.json normalisation: flat and node-graph schemas, alias keys mapped to canonical names.

Canonical keys: vocab_size, d_model, n_heads, n_layers, max_seq_len, d_ff, dropout, model_name,
pad_token_id, task. Unknown keys are kept as they are. No defaults are invented: a key the config
does not hold is absent (a made-up 50257 once overrode real embedding sizes, study §5.4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tbwidgets.loading.errors import LoadError

ALIASES: dict[str, tuple[str, ...]] = {
    "vocab_size": ("vocab_size", "n_vocab", "ntoken", "num_tokens", "vocab"),
    "d_model": ("d_model", "hidden_size", "n_embd", "embed_dim", "emb_dim", "embedding_dim", "dim"),
    "n_heads": ("n_heads", "nhead", "num_heads", "n_head", "num_attention_heads", "heads"),
    "n_layers": ("n_layers", "num_layers", "n_layer", "num_hidden_layers", "nlayers", "depth"),
    "max_seq_len": (
        "max_seq_len",
        "seq_length",
        "max_position_embeddings",
        "block_size",
        "n_positions",
        "seq_len",
        "max_len",
        "max_length",
        "context_length",
        "n_ctx",
    ),
    "d_ff": ("d_ff", "dim_feedforward", "ffn_dim", "intermediate_size", "n_inner", "d_inner"),
    "dropout": ("dropout", "dropout_rate", "hidden_dropout_prob", "p_dropout"),
    "model_name": ("model_name", "class_name", "model_class"),
    "pad_token_id": ("pad_token_id", "pad_id", "pad_idx"),
    "task": ("task",),
}

_CANONICAL = {alias: canon for canon, aliases in ALIASES.items() for alias in aliases}
_GRAPH_KEYS = ("nodes", "edges", "connections", "links")  # structure, not settings


def canonical_key(name: str) -> str:
    """The canonical name for a config key or constructor parameter (unchanged when unknown)."""
    return _CANONICAL.get(name, name)


def _coerce(value: Any) -> Any:
    # Hand-written configs sometimes hold numbers as strings ("1000").
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _node_params(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out = []
    for node in raw.get("nodes") or []:
        if not isinstance(node, Mapping):
            continue
        params = node.get("params")
        if params is None and isinstance(node.get("data"), Mapping):
            params = node["data"].get("params")
        if isinstance(params, Mapping):
            out.append(params)
    return out


def _merge(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """Add source's keys under canonical names without overwriting; canonical spellings beat aliases."""
    for key, value in source.items():
        if key in ALIASES:
            target.setdefault(key, _coerce(value))
    for key, value in source.items():
        if key not in _GRAPH_KEYS and key not in ALIASES:
            target.setdefault(canonical_key(key), _coerce(value))


def normalize_config(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Flat or node-graph config → one flat dict with canonical keys; top-level keys beat node params."""
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise LoadError(
            f"The config must be a JSON object (a dict), not {type(raw).__name__}.",
            'Write config.json as {"vocab_size": ..., "d_model": ...}.',
        )
    out: dict[str, Any] = {}
    _merge(out, raw)
    for params in _node_params(raw):
        node: dict[str, Any] = {}
        _merge(node, params)
        for key, value in node.items():
            out.setdefault(key, value)
    return out


def read_config_text(text: str, where: str) -> dict[str, Any]:
    """Parse config.json text; a bad file is a LoadError that names the line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            "Fix the file (or re-export it), or pass config={...} as a dict.",
        ) from exc
    if not isinstance(data, dict):
        raise LoadError(
            f"{where} holds a {type(data).__name__}, not a JSON object.", "Re-export config.json."
        )
    return data


def read_config(config: Mapping[str, Any] | str | Path | None) -> dict[str, Any] | None:
    """The raw config: a dict as given, or the parsed contents of a config.json path."""
    if config is None:
        return None
    if isinstance(config, Mapping):
        return dict(config)
    path = Path(config)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        raise LoadError(f"Config file not found: {path}", "Check the path, or pass config as a dict.")
    return read_config_text(path.read_text(encoding="utf-8"), str(path))
