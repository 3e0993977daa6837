"""Constructors and calling conventions of real model code: config objects, targets, dict outputs,
torch.compile, and the input kinds that are refused at load with a wrapper to use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from tbwidgets.loading import LoadError, load_model
from tbwidgets.loading.construct import flatten_config
from tests.regression import handwritten as hw

FIXTURES = Path(__file__).resolve().parents[1] / "regression" / "fixtures"


def test_nanogpt_style_dataclass_config_and_targets_dependent_output() -> None:
    m = load_model(FIXTURES / "nanogpt_style")
    assert "config object: a dataclass GPTConfig built from config.json" in m.build_note
    assert m.module.config.n_embd == 32 and m.adapter.pass_targets
    assert "dummy targets are passed" in m.build_note
    ids = torch.randint(0, 96, (2, 10))
    assert m.adapter(ids).shape == (2, 10, 96)
    assert (m.facts.vocab_size, m.facts.max_len) == (96, 64) and m.findings == []


def test_mingpt_style_default_config_from_a_nested_config() -> None:
    m = load_model(FIXTURES / "mingpt_style")
    assert "GPT.get_default_config() built from config.json" in m.build_note
    assert (m.facts.vocab_size, m.facts.max_len, m.facts.max_len_source) == (
        80,
        48,
        "position parameter pos_emb",
    )
    assert not m.adapter.pass_targets  # its logits cover every position without targets


def test_config_fields_are_filled_through_aliases(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "nanogpt_style" / "model.py", tmp_path / "model.py")
    (tmp_path / "config.json").write_text(json.dumps({"vocab_size": 40, "d_model": 16, "max_seq_len": 24}))
    m = load_model(tmp_path)
    assert (m.module.config.n_embd, m.module.config.block_size) == (16, 24)
    assert (m.facts.vocab_size, m.facts.max_len) == (40, 24)


def test_a_required_dataclass_field_missing_from_the_config_is_named(tmp_path: Path) -> None:
    code = (FIXTURES / "nanogpt_style" / "model.py").read_text()
    (tmp_path / "model.py").write_text(code.replace("block_size: int = 64", "block_size: int"))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(LoadError, match="GPTConfig needs block_size"):
        load_model(tmp_path)


def test_flatten_config_prefers_outer_keys() -> None:
    raw = {"n_embd": 8, "model": {"n_embd": 16, "n_layer": 3}, "train": {"lr": 0.1}}
    flat = flatten_config(raw)
    assert (flat["n_embd"], flat["n_layer"], flat["lr"]) == (8, 3, 0.1)


def test_a_compiled_model_is_checked_through_its_original_module() -> None:
    inner = hw.PerHeadLM()
    m = load_model(torch.compile(inner))  # lazy: nothing compiles unless the wrapper is called
    assert m.module is inner and "torch.compile'd PerHeadLM" in m.build_note


def test_a_dict_without_logits_uses_the_one_vocabulary_wide_entry() -> None:
    m = load_model(hw.DictOutputLM())
    assert m.adapter.output_kind == "dict_key" and m.adapter.logits_key == "scores"
    assert "dict['scores']" in m.build_note
    assert m.adapter(torch.randint(0, hw.V, (2, 5))).shape == (2, 5, hw.V)


def test_a_dict_with_two_vocabulary_wide_entries_is_not_guessed() -> None:
    class TwoHeads(hw.DictOutputLM):
        def forward(self, ids: torch.Tensor) -> dict[str, torch.Tensor]:
            out = super().forward(ids)
            return {**out, "other": out["scores"] * 2}

    m = load_model(TwoHeads())
    assert any("holds no logits tensor" in f.message for f in m.findings if f.level == "error")


def test_an_embedding_input_module_is_refused_with_a_wrapper() -> None:
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    with pytest.raises(LoadError, match="takes float embeddings") as err:
        load_model(nn.TransformerEncoder(layer, 1, enable_nested_tensor=False))
    assert "nn.Embedding" in err.value.fix and "class Wrapped" in err.value.fix


def test_a_model_without_embedding_that_crashes_on_ids_is_refused() -> None:
    class Mlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Linear(16, 16)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

    with pytest.raises(LoadError, match=r"has no nn\.Embedding and crashed on ids"):
        load_model(Mlp())


def test_a_sequence_first_model_is_refused_with_a_wrapper() -> None:
    with pytest.raises(LoadError, match="sequence-first") as err:
        load_model(hw.SeqFirstLM())
    assert "batch_first=True" in err.value.fix


def test_hf_labels_are_not_passed_when_the_logits_do_not_need_them() -> None:
    transformers = pytest.importorskip("transformers")
    cfg = transformers.GPT2Config(vocab_size=64, n_positions=32, n_embd=16, n_layer=1, n_head=2)
    m = load_model(transformers.GPT2LMHeadModel(cfg))
    assert m.adapter.targets_name == "labels" and not m.adapter.pass_targets


def test_a_model_without_embedding_crashing_for_another_reason_still_loads() -> None:
    class OwnTable(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = nn.Parameter(torch.randn(20, 8))

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("planted bug")

    m = load_model(OwnTable(), config={"vocab_size": 20})
    assert any("planted bug" in f.message for f in m.findings if f.level == "error")


def test_a_constructor_assertion_names_its_line(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "mingpt_style" / "model.py", tmp_path / "model.py")
    (tmp_path / "config.json").write_text(json.dumps({"vocab_size": 40}))  # block_size stays None
    with pytest.raises(LoadError, match=r"AssertionError: at `assert config\.vocab_size is not None"):
        load_model(tmp_path)


def test_sequence_first_layers_used_through_transposes_are_not_refused() -> None:
    class Transposing(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(30, 16)
            self.attn = nn.MultiheadAttention(16, 2)  # batch_first=False, fed (T, B, D) below
            self.head = nn.Linear(16, 30)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.tok(ids).transpose(0, 1)
            return self.head(self.attn(x, x, x, need_weights=False)[0].transpose(0, 1))

    m = load_model(Transposing(), task="masked-lm")
    assert m.adapter(torch.randint(0, 30, (3, 7))).shape == (3, 7, 30)


def test_a_batch_first_model_whose_rows_mix_is_left_to_batch_independence() -> None:
    from tests.checks.tier1.zoo import BUGS

    m = load_model(BUGS["batch_mixing"].factory(), task="causal-lm")
    assert not [f for f in m.findings if f.level == "error"]
