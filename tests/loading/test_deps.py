"""Dependency scan: missing imports named with their pip package, the install line and the restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbwidgets.loading import LoadError, load_model
from tbwidgets.loading.deps import imported_modules, install_line, is_available, missing_packages, package_for

MODEL = """
import math
import torch
from torch import nn
{imports}

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(30, 4)

    def forward(self, ids):
        return self.tok_emb(ids) @ self.tok_emb.weight.T
"""


def test_imported_modules_top_level_names_only() -> None:
    code = "import os.path\nimport torch.nn as nn\nfrom einops import rearrange\nfrom . import sibling\nimport os\n"
    assert imported_modules(code) == ["os", "torch", "einops"]
    assert imported_modules("def broken(:") == []


@pytest.mark.parametrize(
    ("module", "package"),
    [("sklearn", "scikit-learn"), ("cv2", "opencv-python"), ("PIL", "pillow"), ("yaml", "pyyaml"),
     ("flash_attn", "flash-attn"), ("rotary_embedding_torch", "rotary-embedding-torch"), ("einops", "einops"),
     ("some_new_pkg", None), ("layers", None)],
)  # fmt: skip
def test_package_names(module: str, package: str | None) -> None:  # unknown names: no guessed package
    assert package_for(module) == package


def test_missing_packages_skips_installed_stdlib_and_local_files() -> None:
    code = "import math, torch, einops_fake_pkg, my_layers\n"
    assert missing_packages(code, {"my_layers"}) == [{"module": "einops_fake_pkg", "package": ""}]
    assert install_line([{"module": "cv2", "package": "opencv-python"}]) == "pip install opencv-python"


@pytest.mark.bad_input
def test_missing_package_is_a_load_error_with_the_install_line(tmp_path: Path) -> None:
    if is_available("cv2") or is_available("flash_attn"):
        pytest.skip("needs cv2 and flash_attn to be absent, as on the CI image")
    (tmp_path / "model.py").write_text(MODEL.format(imports="import cv2\nimport flash_attn"))
    with pytest.raises(LoadError) as info:
        load_model(tmp_path)
    err = info.value
    assert "cv2 (pip package opencv-python)" in err.cause
    assert "flash_attn (pip package flash-attn)" in err.cause
    assert "`pip install opencv-python flash-attn`" in err.fix
    assert "restart the runtime/kernel" in err.fix and "never installs" in err.fix


@pytest.mark.bad_input
def test_unknown_import_gets_no_blind_install_line(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(MODEL.format(imports="import einops_fake_pkg"))
    with pytest.raises(LoadError) as info:
        load_model(tmp_path)
    err = info.value
    assert (
        "model.py imports `einops_fake_pkg`, which is neither a file of the folder nor a known package"
        in err.cause
    )
    assert "pip install einops" not in str(err) and "add einops_fake_pkg.py" in err.fix


@pytest.mark.bad_input
def test_optional_missing_import_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(
        MODEL.format(
            imports="try:\n    import einops_fake_pkg\nexcept ImportError:\n    einops_fake_pkg = None"
        )
    )
    m = load_model(tmp_path)
    assert m.missing_packages == []  # no known package, so nothing for an install line
    assert [f.level for f in m.findings] == ["warn"]
    assert "neither a file of the folder nor a known package" in m.findings[0].message
    assert "pip install" not in m.findings[0].fix.replace("pip install it", "")


def test_a_bad_name_from_an_installed_package_is_not_a_missing_package(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(MODEL.format(imports="import torch.no_such_submodule_xyz"))
    with pytest.raises(LoadError) as info:
        load_model(tmp_path)
    assert "ModuleNotFoundError" in info.value.cause and "pip install" not in info.value.fix
