"""load_model: every source kind, re-tasking, findings, and the built-in example."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tbwidgets.loading import LoadedModel, LoadError, ModelAdapter, Task, load_model
from tbwidgets.loading.examples.tiny_gpt import build_example


def test_no_arguments_loads_the_builtin_example() -> None:
    m = load_model()
    assert isinstance(m, LoadedModel)
    assert m.name == "TinyGPT (built-in example)"
    assert m.source.kind == "example"
    assert m.task is Task.CAUSAL_LM
    assert (m.facts.vocab_size, m.facts.max_len) == (512, 128)
    assert m.facts.max_len_source == "position table pos_emb"
    assert m.token_embedding is m.module.tok_emb
    assert m.token_embedding_name == "tok_emb"
    assert m.facts.n_params == sum(p.numel() for p in m.module.parameters())
    assert m.facts.n_layers == 2 and m.facts.d_model == 64
    assert m.findings == []


def test_module_instance_gives_a_working_adapter() -> None:
    module = build_example().eval()
    m = load_model(model=module)
    assert m.module is module and m.source.kind == "module" and m.name == "TinyGPT"
    assert isinstance(m.adapter, ModelAdapter)
    ids = torch.randint(0, 512, (3, 17))
    with torch.no_grad():
        assert torch.equal(m.adapter(ids), module(ids))
    assert load_model(module).module is module  # positional source works too


def test_loaded_model_is_returned_as_is_or_retasked() -> None:
    m = load_model()
    assert load_model(m) is m
    again = load_model(m, task="masked-lm")
    assert again.task is Task.MASKED_LM and again.task_reason == "given"
    assert again.module is m.module and m.task is Task.CAUSAL_LM


def test_two_sources_at_once_are_refused() -> None:
    with pytest.raises(LoadError, match="more than one"):
        load_model(build_example(), path="somewhere")


def test_missing_path_says_so(tmp_path) -> None:
    with pytest.raises(LoadError, match="Path not found") as info:
        load_model(tmp_path / "nope" / "model.py")
    assert "gist" in info.value.fix


def test_folder_without_model_py(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(LoadError, match=r"No model\.py") as info:
        load_model(path=tmp_path)
    assert "notes.txt" in info.value.cause


def test_crashing_forward_is_a_finding_not_a_crash() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(50, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("shapes do not line up")

    m = load_model(Broken())
    errors = [f for f in m.findings if f.level == "error"]
    assert len(errors) == 1 and "shapes do not line up" in errors[0].message
    assert m.facts.vocab_size == 50


def test_probe_keeps_the_training_flag() -> None:
    module = build_example().train()
    load_model(module)
    assert module.training
