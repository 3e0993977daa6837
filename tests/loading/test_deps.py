"""Dependency scan: missing imports named with their pip package, the install line and the restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbwidgets.loading import LoadError, load_model
from tbwidgets.loading.deps import imported_modules, install_line, missing_packages, package_for

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
     ("some_new_pkg", "some-new-pkg")],
)  # fmt: skip
def test_package_names(module: str, package: str) -> None:
    assert package_for(module) == package


def test_missing_packages_skips_installed_stdlib_and_local_files() -> None:
    code = "import math, torch, einops_fake_pkg, my_layers\n"
    assert missing_packages(code, {"my_layers"}) == [
        {"module": "einops_fake_pkg", "package": "einops-fake-pkg"}
    ]
    assert install_line([{"module": "cv2", "package": "opencv-python"}]) == "pip install opencv-python"


def test_missing_package_is_a_load_error_with_the_install_line(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(MODEL.format(imports="import einops_fake_pkg\nimport cv2"))
    with pytest.raises(LoadError) as info:
        load_model(tmp_path)
    err = info.value
    assert "einops_fake_pkg (pip package einops-fake-pkg)" in err.cause
    assert "cv2 (pip package opencv-python)" in err.cause
    assert "`pip install einops-fake-pkg opencv-python`" in err.fix
    assert "restart the runtime/kernel" in err.fix and "never installs" in err.fix


def test_optional_missing_import_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(
        MODEL.format(
            imports="try:\n    import einops_fake_pkg\nexcept ImportError:\n    einops_fake_pkg = None"
        )
    )
    m = load_model(tmp_path)
    assert m.missing_packages == [{"module": "einops_fake_pkg", "package": "einops-fake-pkg"}]
    assert [f.level for f in m.findings] == ["warn"] and "pip install einops-fake-pkg" in m.findings[0].fix


def test_a_bad_name_from_an_installed_package_is_not_a_missing_package(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(MODEL.format(imports="import torch.no_such_submodule_xyz"))
    with pytest.raises(LoadError) as info:
        load_model(tmp_path)
    assert "ModuleNotFoundError" in info.value.cause and "pip install" not in info.value.fix
