"""The shipped front end: present in the package, up to date with js/src, no network at render time."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tbwidgets.widgets.validator import ValidatorWidget

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "tbwidgets" / "widgets" / "static"


def test_widget_ships_its_bundle() -> None:
    assert (STATIC / "validator.js").stat().st_size > 1000
    assert (STATIC / "validator.css").stat().st_size > 500
    esm = str(ValidatorWidget._esm)
    assert "render" in esm and "tbw-tabs" in esm


@pytest.mark.parametrize("name", ["validator.js", "validator.css"])
def test_bundle_loads_nothing_from_the_network(name: str) -> None:
    text = (STATIC / name).read_text(encoding="utf-8")
    assert not re.search(r"""import\s*(?:[^;]*?from\s*)?["'](?:https?:)?//""", text)
    assert "@import" not in text and "@font-face" not in text
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text)


def test_committed_bundle_matches_sources() -> None:
    node = shutil.which("node")
    if node is None or not (REPO / "js" / "node_modules" / "esbuild").exists():
        pytest.skip("node or js/node_modules missing (CI runs `npm ci && npm run check-bundle`)")
    done = subprocess.run([node, "build.mjs", "--check"], cwd=REPO / "js", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
