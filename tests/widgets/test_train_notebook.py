"""training.ipynb is one guarded cell, and what it installs is what the requirements files list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]


def _cell() -> str:
    nb = json.loads((REPO / "training.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) == 1, "training.ipynb must stay one code cell"
    assert not code[0].get("outputs"), "ship the notebook without outputs"
    return "".join(code[0]["source"])


def _requirements(path: Path) -> dict[str, Requirement]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return {r.name.lower(): r for r in (Requirement(line) for line in lines if line)}


def test_the_cell_installs_the_training_extra_only_when_missing_and_opens_tier3() -> None:
    src = _cell()
    guard = re.search(
        r"try:\n(.*?)\nexcept ImportError:\n\s+%pip install -q \"tbwidgets\[training\]\"", src, re.S
    )
    assert guard and "import lightning" in guard.group(1), (
        "the install must be guarded by the import it provides"
    )
    assert 'tab="tier3"' in src and "autorun=None" in src
    assert "TBWIDGETS_NOTEBOOK_TRAIN_STEPS" in src  # the short run nbval does; users press Train


def test_requirement_files_match_the_training_extra() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extra = {
        Requirement(r).name.lower(): Requirement(r) for r in project["optional-dependencies"]["training"]
    }
    colab = _requirements(REPO / "requirements-colab-v3.4.0.txt")
    assert set(colab) == set(extra), "the Colab file must list exactly what `tbwidgets[training]` installs"
    for name, req in colab.items():
        assert req.specifier == extra[name].specifier, f"{name}: Colab file {req} vs extra {extra[name]}"
    pinned = _requirements(REPO / "requirements-training.txt")
    assert set(extra) <= set(pinned)
    for name, req in extra.items():
        version = next(iter(pinned[name].specifier)).version
        assert req.specifier.contains(version), f"the tested pin {name}=={version} must satisfy {req}"
