"""model.py import, class discovery and instantiation (through load_model and source.py directly)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import torch

from tbwidgets.loading import LoadError, load_model
from tbwidgets.loading.source import import_code
from tests.loading.fixtures import FIXTURES


def write(tmp_path: Path, code: str, name: str = "model.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def test_helpers_and_imported_modules_are_not_picked() -> None:
    m = load_model(FIXTURES / "helpers_and_imports.py")
    assert m.name == "Model"
    assert "only model class not used inside another" in m.build_note
    assert m.token_embedding_name == "wte" and m.facts.vocab_size == 300
    assert m.source.kind == "path" and "helpers_and_imports.py" in m.source.files


def test_user_module_is_isolated_and_registered() -> None:
    before = set(sys.path)
    m = load_model(FIXTURES / "helpers_and_imports.py")
    mod_name = type(m.module).__module__
    assert mod_name.startswith("tbwidgets_user_model_") and len(mod_name) == len("tbwidgets_user_model_") + 8
    assert sys.modules[mod_name].Sizes().vocab == 300  # the dataclass needed the module registered
    assert "Model" not in globals() and set(sys.path) == before


def test_sibling_files_import_while_loading_only(tmp_path: Path) -> None:
    write(tmp_path, "from torch import nn\nclass Block(nn.Module):\n    pass\n", "tbw_sibling_layers.py")
    write(
        tmp_path,
        """
        import torch
        from torch import nn
        from tbw_sibling_layers import Block

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.tok_embeddings = nn.Embedding(40, 8)
                self.block = Block()

            def forward(self, ids):
                return self.tok_embeddings(ids) @ self.tok_embeddings.weight.T
        """,
    )
    m = load_model(tmp_path)
    assert m.name == "Net" and m.facts.vocab_size == 40
    assert str(tmp_path) not in sys.path


def test_several_top_level_classes_need_model_name() -> None:
    with pytest.raises(LoadError, match="several top-level model classes: SmallLM, OtherLM") as info:
        load_model(FIXTURES / "two_models.py")
    assert "model_name=" in info.value.fix
    m = load_model(FIXTURES / "two_models.py", model_name="OtherLM")
    assert m.name == "OtherLM" and m.facts.vocab_size == 200
    assert "named by model_name argument" in m.build_note
    m = load_model(FIXTURES / "two_models.py", config={"model_name": "SmallLM"})
    assert m.name == "SmallLM" and "config model_name" in m.build_note


def test_unknown_model_name() -> None:
    with pytest.raises(LoadError, match=r"no nn\.Module class named 'Nope'"):
        load_model(FIXTURES / "two_models.py", model_name="Nope")
    # A stale config model_name only warns when discovery finds one model anyway.
    m = load_model(FIXTURES / "helpers_and_imports.py", config={"model_name": "CustomTransformer"})
    assert m.name == "Model"
    assert any(f.level == "warn" and "CustomTransformer" in f.message for f in m.findings)


def test_no_module_class(tmp_path: Path) -> None:
    write(tmp_path, "from torch.nn import Linear\nX = 1\n")
    with pytest.raises(LoadError, match=r"defines no nn\.Module subclass"):
        load_model(tmp_path)


def test_parameterless_constructor_ignores_config() -> None:
    from tbwidgets.loading.examples import TB_GIST_DIR

    m = load_model(path=TB_GIST_DIR)
    assert m.build_note.startswith("CustomTransformer() — no constructor arguments")


def test_constructor_gets_only_accepted_keys_via_aliases() -> None:
    cfg = {"vocab_size": 120, "n_heads": 2, "n_layers": 1, "hidden_size": 16, "max_seq_len": 24, "extra": 1}
    m = load_model(FIXTURES / "param_ctor.py", config=cfg)
    assert m.name == "ParamModel"
    assert "ParamModel(vocab_size=120, d_model=16, nhead=2, num_layers=1, block_size=24)" in m.build_note
    assert (m.facts.vocab_size, m.facts.max_len) == (120, 24)


def test_kwargs_constructor_gets_the_normalised_config() -> None:
    m = load_model(
        FIXTURES / "kwargs_ctor.py", config={"n_vocab": 77, "n_embd": 8, "model_name": "KwargsModel"}
    )
    assert m.module.seen == {"vocab_size": 77, "d_model": 8, "model_name": "KwargsModel"}
    assert "(**kwargs)" in m.build_note


def test_missing_constructor_argument() -> None:
    with pytest.raises(LoadError, match="needs secret_sauce") as info:
        load_model(FIXTURES / "needs_args.py", config={"vocab_size": 10})
    assert "'secret_sauce': ..." in info.value.fix


def test_constructor_that_raises(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        from torch import nn

        class Net(nn.Module):
            def __init__(self, d_model):
                super().__init__()
                raise ValueError("d_model must be even")
        """,
    )
    with pytest.raises(LoadError, match=r"Net\(d_model=7\) raised ValueError: d_model must be even"):
        load_model(tmp_path, config={"d_model": 7})


def test_syntax_error_names_file_line_and_text(tmp_path: Path) -> None:
    path = write(tmp_path, "import torch\n\nclass Net(torch.nn.Module)\n    pass\n")
    with pytest.raises(LoadError) as info:
        load_model(path)
    assert f"{path}:3: syntax error" in info.value.cause
    assert "class Net(torch.nn.Module)" in info.value.cause


def test_error_while_importing_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "import torch\n\nSIZE = 1 // 0\n")
    with pytest.raises(LoadError, match=r"ZeroDivisionError.*:3\)"):
        load_model(path)


def test_same_code_twice_gives_same_weights(tmp_path: Path) -> None:
    a = load_model(FIXTURES / "helpers_and_imports.py").module
    b = load_model(FIXTURES / "helpers_and_imports.py").module
    assert torch.equal(a.wte.weight, b.wte.weight)


def test_import_code_from_text_has_readable_tracebacks() -> None:
    code = "from torch import nn\nclass M(nn.Module):\n    def forward(self, x):\n        return 1 / 0\n"
    imported = import_code(code, "<gist abc>/model.py")
    with pytest.raises(ZeroDivisionError) as info:
        imported.module.M()(None)
    assert "return 1 / 0" in str(info.getrepr())


def test_main_block_does_not_run_and_sys_exit_is_caught(tmp_path: Path) -> None:
    model = FIXTURES.joinpath("helpers_and_imports.py").read_text()
    write(tmp_path, model + "\nif __name__ == '__main__':\n    raise SystemExit('demo run')\n")
    assert load_model(tmp_path).name == "Model"
    write(tmp_path, "import sys\nsys.exit(3)\n")
    with pytest.raises(LoadError, match="SystemExit"):
        load_model(tmp_path)
