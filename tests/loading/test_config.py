"""normalize_config and config.json reading: both schemas, aliases, no invented defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tbwidgets.loading import LoadError, load_model, normalize_config
from tbwidgets.loading.config import canonical_key, read_config
from tbwidgets.loading.examples import TB_GIST_DIR


def test_flat_schema_with_aliases() -> None:
    raw = {
        "vocab_size": 1000,
        "d_model": 64,
        "nhead": 4,
        "num_layers": 2,
        "seq_length": 128,
        "model_name": "M",
    }
    assert normalize_config(raw) == {
        "vocab_size": 1000,
        "d_model": 64,
        "n_heads": 4,
        "n_layers": 2,
        "max_seq_len": 128,
        "model_name": "M",
    }


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("num_heads", "n_heads"),
        ("n_head", "n_heads"),
        ("hidden_size", "d_model"),
        ("n_embd", "d_model"),
        ("block_size", "max_seq_len"),
        ("max_position_embeddings", "max_seq_len"),
        ("n_positions", "max_seq_len"),
        ("dim_feedforward", "d_ff"),
        ("n_layer", "n_layers"),
        ("class_name", "model_name"),
    ],
)
def test_aliases(alias: str, canonical: str) -> None:
    assert canonical_key(alias) == canonical
    assert normalize_config({alias: 7}) == {canonical: 7}


def test_node_graph_schema() -> None:
    raw = json.loads((TB_GIST_DIR / "config.json").read_text())
    cfg = normalize_config(raw)
    assert cfg["model_name"] == "CustomTransformer" and cfg["version"] == "1.0"
    assert (cfg["vocab_size"], cfg["max_seq_len"], cfg["d_model"], cfg["n_heads"], cfg["d_ff"]) == (
        1000,
        128,
        64,
        4,
        256,
    )
    assert "nodes" not in cfg  # structure stays in raw_config


def test_top_level_keys_beat_node_params_and_canonical_beats_alias() -> None:
    raw = {"vocab_size": 10, "nodes": [{"params": {"vocab_size": 99, "seq_length": 16}}]}
    assert normalize_config(raw) == {"vocab_size": 10, "max_seq_len": 16}
    assert normalize_config({"nhead": 2, "n_heads": 8}) == {"n_heads": 8}


def test_unknown_keys_are_kept_and_no_defaults_invented() -> None:
    cfg = normalize_config({"d_model": "32", "rope_theta": 10000.0})
    assert cfg == {"d_model": 32, "rope_theta": 10000.0}
    assert "vocab_size" not in cfg and "max_seq_len" not in cfg
    assert normalize_config(None) == {} and normalize_config({}) == {}


def test_read_config_from_path_and_folder(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"vocab_size": 5}')
    assert read_config(tmp_path) == {"vocab_size": 5}
    assert read_config(tmp_path / "config.json") == {"vocab_size": 5}
    with pytest.raises(LoadError, match="Config file not found"):
        read_config(tmp_path / "other.json")


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{\n  "vocab_size": 5,\n}\n')
    with pytest.raises(LoadError, match=r"not valid JSON: .* at line 3"):
        read_config(tmp_path / "config.json")


def test_config_path_argument_overrides_the_folder_config(tmp_path: Path) -> None:
    cfg_file = tmp_path / "mine.json"
    cfg_file.write_text(
        json.dumps({"model_name": "CustomTransformer", "vocab_size": 1000, "max_seq_len": 128})
    )
    m = load_model(TB_GIST_DIR, config=cfg_file)
    assert m.raw_config == {"model_name": "CustomTransformer", "vocab_size": 1000, "max_seq_len": 128}
    assert m.findings == []


def test_config_mismatches_are_findings_not_crashes() -> None:
    m = load_model(TB_GIST_DIR, config={"vocab_size": 50257, "max_seq_len": 512})
    assert (m.facts.vocab_size, m.facts.max_len) == (1000, 128)  # the model wins
    warns = [f.message for f in m.findings if f.level == "warn"]
    assert len(warns) == 2
    assert "config vocab_size is 50257" in warns[0] and "1000 rows" in warns[0]
    assert "config max_seq_len is 512" in warns[1] and "would crash" in warns[1]
