"""Importing tbwidgets.training and its config, seed and data modules pulls in no heavy training library."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("lightning", "pytorch_lightning", "optuna", "wandb", "datasets", "transformers", "ipywidgets")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_config_seed_and_data_stay_light() -> None:
    loaded = _modules_after(
        "import tbwidgets.training as t\n"
        "from tbwidgets.training import TrainingConfig, make_data, set_random_seed, TASKS\n"
        "import tbwidgets.training.data.build, tbwidgets.training.data.sources\n"
        "t.TrainingConfig().validate(cuda_available=False)"
    )
    assert "tbwidgets.training.data.loader" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_lazy_names_resolve() -> None:
    import tbwidgets.training as t

    for name in (
        "TrainingConfig",
        "compare_configs",
        "make_data",
        "TrainingData",
        "ResumableLoader",
        "seed_worker",
    ):
        assert getattr(t, name) is not None
    assert "make_data" in dir(t)
