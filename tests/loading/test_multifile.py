"""Multi-file sources: a gist's or folder's other .py files import under model.py's names, per load."""

from __future__ import annotations

import pickle
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from tbwidgets.loading import LoadedModel, LoadError, load_model
from tests.fakes.gist_server import FakeGistAPI

GistLoader = Callable[..., LoadedModel]

LAYERS = """
from torch import nn

WIDTH = {width}

class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        return self.proj(x)
"""

MODEL = """
import torch
from torch import nn
{imports}

class LM(nn.Module):
    def __init__(self, vocab_size=50):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, {width_expr})
        self.block = {block}

    def forward(self, ids):
        return self.block(self.tok_emb(ids)) @ self.tok_emb.weight.T
"""


def model(imports: str, block: str = "Block(WIDTH)", width_expr: str = "WIDTH") -> str:
    return MODEL.format(imports=imports, block=block, width_expr=width_expr)


def bare_names_leaked() -> set[str]:
    return {n for n in ("layers", "utils", "mingpt", "mingpt.utils", "model") if n in sys.modules}


@pytest.fixture
def gists(fake_gist_api: FakeGistAPI, tmp_path: Path) -> GistLoader:
    """Serve `files` as gist `gist_id` and load it."""

    def load(gist_id: str, files: dict[str, str], **kwargs: Any) -> LoadedModel:
        fake_gist_api.add_gist(gist_id, files)
        return load_model(gist_id, api_url=fake_gist_api.url, cache_dir=tmp_path / "cache", **kwargs)

    return load


def test_gist_sibling_file_imports_and_two_gists_do_not_clash(gists: GistLoader) -> None:
    a = gists(
        "a" * 32, {"model.py": model("from layers import Block, WIDTH"), "layers.py": LAYERS.format(width=8)}
    )
    b = gists(
        "b" * 32, {"model.py": model("from layers import Block, WIDTH"), "layers.py": LAYERS.format(width=12)}
    )
    assert a.module.tok_emb.embedding_dim == 8 and b.module.tok_emb.embedding_dim == 12
    assert type(a.module.block) is not type(b.module.block)  # each gist has its own layers module
    assert type(a.module.block).__module__.endswith(".layers") and not bare_names_leaked()
    again = type(a.module)()  # re-instantiation after the load still finds Block and WIDTH
    assert again.tok_emb.embedding_dim == 8
    copy = pickle.loads(pickle.dumps(a.module))  # classes resolve by their private module names
    assert type(copy.block) is type(a.module.block)
    with torch.no_grad():
        assert a.adapter(torch.randint(0, 50, (2, 5))).shape == (2, 5, 50)


def test_import_forms_and_lazy_imports_keep_working(gists: GistLoader) -> None:
    code = model(
        "import layers\nimport layers as L\nfrom . import layers as rel",
        block="self._make()",
        width_expr="layers.WIDTH + L.WIDTH - rel.WIDTH",
    )
    code += textwrap.indent(
        "\ndef _make(self):\n    from layers import Block  # an import that runs only when called\n"
        "    return Block(layers.WIDTH)\n",
        "    ",
    )
    m = gists("c" * 32, {"model.py": code, "layers.py": LAYERS.format(width=6)})
    assert m.module.tok_emb.embedding_dim == 6 and not bare_names_leaked()
    assert type(m.module)().tok_emb.embedding_dim == 6  # the function-level import still resolves


def test_sibling_importing_a_sibling_and_utils(gists: GistLoader) -> None:
    layers = "import utils\n" + LAYERS.format(width="utils.width()")
    files = {"model.py": model("from layers import Block, WIDTH"), "layers.py": layers,
             "utils.py": "def width():\n    return 10\n"}  # fmt: skip
    m = gists("d" * 32, files)
    assert m.module.tok_emb.embedding_dim == 10 and not bare_names_leaked()


def test_folder_with_a_package_like_mingpt(tmp_path: Path) -> None:
    (tmp_path / "mingpt").mkdir()
    (tmp_path / "mingpt" / "__init__.py").write_text("")
    (tmp_path / "mingpt" / "utils.py").write_text("from .consts import W\ndef width():\n    return W\n")
    (tmp_path / "mingpt" / "consts.py").write_text("W = 14\n")
    (tmp_path / "layers.py").write_text(LAYERS.format(width=3))
    code = model("from mingpt.utils import width\nimport mingpt.utils\nfrom layers import Block", "Block(width())",
                 "mingpt.utils.width()")  # fmt: skip
    (tmp_path / "model.py").write_text(code)
    (tmp_path / "train.py").write_text("raise SystemExit('a script beside the model is never run')\n")
    m = load_model(tmp_path)
    assert m.module.tok_emb.embedding_dim == 14 and not bare_names_leaked()
    assert set(m.source.files) == {
        "model.py",
        "layers.py",
        "mingpt/__init__.py",
        "mingpt/utils.py",
        "mingpt/consts.py",
    }
    assert str(tmp_path) not in sys.path


@pytest.mark.bad_input
def test_missing_local_module_says_add_the_file(gists: GistLoader) -> None:
    with pytest.raises(LoadError) as info:
        gists("e" * 32, {"model.py": model("from layers import Block, WIDTH")})
    err = info.value
    assert "model.py imports `layers`, which is not in the gist: add layers.py to it" in err.cause
    assert "pip install" not in str(err)


@pytest.mark.bad_input
def test_near_miss_file_name_is_suggested(gists: GistLoader) -> None:
    with pytest.raises(LoadError) as info:
        gists(
            "f" * 32,
            {"model.py": model("from layers import Block, WIDTH"), "layer.py": LAYERS.format(width=4)},
        )
    assert "did you mean layer.py" in info.value.cause and "pip install" not in str(info.value)


@pytest.mark.bad_input
def test_package_import_in_a_gist_is_not_an_install_hint(gists: GistLoader) -> None:
    with pytest.raises(LoadError) as info:
        gists(
            "1" * 32,
            {
                "model.py": model(
                    "from mingpt.utils import CfgNode\nfrom torch.nn import Linear as Block\nWIDTH = 4"
                )
            },
        )
    err = info.value
    assert (
        "model.py imports `mingpt.utils`, which is neither a file of the gist nor a known package"
        in err.cause
    )
    assert "pip install mingpt" not in str(err) and "Gists cannot hold folders" in err.fix


@pytest.mark.bad_input
def test_missing_module_in_a_sibling_names_the_sibling(gists: GistLoader) -> None:
    layers = "import components\n" + LAYERS.format(width=4)
    with pytest.raises(LoadError) as info:
        gists("2" * 32, {"model.py": model("from layers import Block, WIDTH"), "layers.py": layers})
    assert (
        "layers.py imports `components`, which is not in the gist: add components.py to it"
        in info.value.cause
    )


@pytest.mark.bad_input
def test_folder_package_without_the_submodule(tmp_path: Path) -> None:
    (tmp_path / "mingpt").mkdir()
    (tmp_path / "mingpt" / "__init__.py").write_text("")
    (tmp_path / "model.py").write_text(model("from mingpt.utils import Block\nWIDTH = 4"))
    with pytest.raises(LoadError, match=r"imports `mingpt.utils`, but the folder's mingpt/ has no utils.py"):
        load_model(tmp_path)
    assert not bare_names_leaked()


@pytest.mark.bad_input
def test_known_missing_package_keeps_its_install_line(gists: GistLoader) -> None:
    from tbwidgets.loading.deps import is_available

    if is_available("flash_attn"):
        pytest.skip("flash_attn is installed here; the test needs it absent")
    with pytest.raises(LoadError) as info:
        gists("3" * 32, {"model.py": model("import flash_attn\nfrom layers import Block, WIDTH"),
                         "layers.py": LAYERS.format(width=4)})  # fmt: skip
    assert "flash_attn (pip package flash-attn)" in info.value.cause
    assert "`pip install flash-attn`" in info.value.fix


@pytest.mark.bad_input
def test_syntax_error_in_a_sibling_names_that_file(gists: GistLoader) -> None:
    with pytest.raises(LoadError, match=r"layers.py:2: syntax error"):
        gists(
            "4" * 32,
            {"model.py": model("from layers import Block, WIDTH"), "layers.py": "x = 1\ndef broken(:\n"},
        )
    assert not bare_names_leaked()


@pytest.mark.bad_input
def test_a_dynamic_import_of_a_sibling_says_to_use_an_import_statement(gists: GistLoader) -> None:
    code = model(
        "import importlib\nlayers = importlib.import_module('layers')\nBlock, WIDTH = layers.Block, 4"
    )
    with pytest.raises(LoadError) as info:
        gists("5" * 32, {"model.py": code, "layers.py": LAYERS.format(width=4)})
    assert "imports `layers` dynamically" in info.value.cause and "plain import statement" in info.value.fix


@pytest.mark.bad_input
def test_a_module_found_only_beside_the_notebook_is_named_as_missing_from_the_gist(
    gists: GistLoader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beside = tmp_path / "notebook_dir"
    beside.mkdir()
    (beside / "strayblocks.py").write_text(LAYERS.format(width=4))
    monkeypatch.syspath_prepend(str(beside))  # e.g. Colab's /content holding the author's own file
    m = gists("f" * 32, {"model.py": model("from strayblocks import Block, WIDTH")})
    assert m.module.tok_emb.embedding_dim == 4  # it loads here...
    (warn,) = [f for f in m.findings if "strayblocks" in f.message]
    assert warn.level == "warn" and "not in the gist" in warn.message
    assert str(beside / "strayblocks.py") in warn.message and warn.fix.startswith(
        "Add strayblocks.py to the gist"
    )
    sys.modules.pop("strayblocks", None)
    clean = gists(
        "1" * 32, {"model.py": model("from layers import Block, WIDTH"), "layers.py": LAYERS.format(width=8)}
    )
    assert not [
        f for f in clean.findings if "not in the gist" in f.message
    ]  # gist files and torch: no finding
