"""load_model: every source kind, re-tasking, findings, and the built-in example."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tbwidgets.loading import LoadedModel, LoadError, ModelAdapter, Task, load_model
from tbwidgets.loading.examples import TB_GIST_DIR
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


def test_gist_end_to_end_with_the_fake_api(fake_gist_api, tmp_path) -> None:
    from tests.fakes.gist_server import TB_EXAMPLE_GIST_ID

    gist = fake_gist_api.add_tb_example()
    url = f"https://gist.github.com/tb-user/{TB_EXAMPLE_GIST_ID}"
    m = load_model(url, api_url=fake_gist_api.url, cache_dir=tmp_path)
    assert m.name == "CustomTransformer" and m.source.kind == "gist"
    assert m.source.gist_id == TB_EXAMPLE_GIST_ID and m.source.revision == gist.sha
    assert set(m.source.files) == {"model.py", "config.json"}
    assert (m.facts.vocab_size, m.facts.max_len) == (1000, 128) and m.findings == []
    assert m.config["model_name"] == "CustomTransformer" and "class CustomTransformer" in (m.code or "")
    assert m.adapter.input_name == "input_0_tokens"
    local = load_model(TB_GIST_DIR)
    ids = torch.randint(0, 1000, (2, 12))
    with torch.no_grad():  # same code, same seed → same weights as the local copy
        assert torch.equal(m.adapter(ids), local.adapter(ids))


def test_gist_id_keyword_and_broken_export(fake_gist_api, tmp_path) -> None:
    from tbwidgets.loading import ExportBugError
    from tests.loading.fixtures import FIXTURES

    code = (FIXTURES / "tb_broken_intermediates.py").read_text()
    fake_gist_api.add_gist("f" * 32, {"model.py": code, "config.json": '{"model_name": "CustomTransformer"}'})
    with pytest.raises(ExportBugError, match="mhsa_0_output"):
        load_model(gist_id="f" * 32, api_url=fake_gist_api.url, cache_dir=tmp_path)


def test_unknown_gist_is_a_gist_error(fake_gist_api, tmp_path) -> None:
    from tbwidgets.loading import GistError

    with pytest.raises(GistError):
        load_model("e" * 32, api_url=fake_gist_api.url, cache_dir=tmp_path)


class _NoPositions(nn.Module):
    """Token embedding only, head narrower than the vocab: exercises the fallbacks and the width check."""

    def __init__(self, head: int = 40) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(40, 8)
        self.head = nn.Linear(8, head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.token_embedding(x))


def test_max_len_falls_back_to_config_then_default() -> None:
    m = load_model(_NoPositions())
    assert m.facts.max_len == 512 and m.facts.max_len_source.startswith("default 512: no position table")
    m = load_model(_NoPositions(), config={"block_size": 64})
    assert (m.facts.max_len, m.facts.max_len_source) == (
        64,
        "config max_seq_len (the model has no position table)",
    )
    assert m.findings == []


def test_position_parameter_is_a_position_table() -> None:
    module = _NoPositions()
    module.pos_embed = nn.Parameter(torch.zeros(1, 96, 8))
    assert load_model(module).facts.max_len_source == "position parameter pos_embed"


def test_logits_narrower_than_the_vocab_is_a_warning() -> None:
    m = load_model(_NoPositions(head=30))
    assert m.facts.vocab_size == 40
    assert any("30 columns" in f.message for f in m.findings if f.level == "warn")


def test_device_argument_moves_the_model() -> None:
    m = load_model(_NoPositions(), device="cpu")
    assert m.facts.device == torch.device("cpu") and m.facts.dtype == torch.float32


def test_gist_syntax_error_names_the_gist_file(fake_gist_api, tmp_path) -> None:
    fake_gist_api.add_gist("a" * 32, {"model.py": "import torch\ndef f(:\n", "config.json": "{}"})
    with pytest.raises(LoadError, match=r"<gist a{32}@[0-9a-f]{7}>/model\.py:2: syntax error") as info:
        load_model("a" * 32, api_url=fake_gist_api.url, cache_dir=tmp_path)
    assert "def f(:" in info.value.cause
