"""The layering of DESIGN §3: core, checks and loading never pull in widget or training libraries."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "ipywidgets",
    "anywidget",
    "bqplot",
    "lightning",
    "pytorch_lightning",
    "optuna",
    "wandb",
    "captum",
    "transformers",
]


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_core_checks_and_loading_import_no_widget_or_training_library() -> None:
    loaded = _modules_after("import tbwidgets.core, tbwidgets.checks, tbwidgets.loading, tbwidgets.cli.main")
    assert "tbwidgets.core" in loaded and "tbwidgets.checks" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert not {m for m in loaded if m.startswith("tbwidgets.widgets")}
    below = _modules_after("import tbwidgets.core, tbwidgets.checks, tbwidgets.loading")
    assert not {m for m in below if m.startswith("tbwidgets.training")}


def test_training_engine_imports_only_what_training_may_use() -> None:
    """training uses core and loading; W&B and Optuna load only when a run asks for them."""
    loaded = _modules_after("import tbwidgets.training.fit, tbwidgets.training.engine, tbwidgets.cli.train")
    assert "lightning" in loaded
    assert not {
        m for m in loaded if m.split(".")[0] in {"wandb", "optuna", "ipywidgets", "anywidget", "bqplot"}
    }
    assert not {m for m in loaded if m.startswith("tbwidgets.widgets") or m.startswith("tbwidgets.checks")}


def test_import_tbwidgets_is_lazy() -> None:
    loaded = _modules_after("import tbwidgets")
    assert "torch" not in loaded and "tbwidgets.core" not in loaded
