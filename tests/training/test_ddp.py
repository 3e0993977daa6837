"""DDP on CPU from the CLI: two gloo processes, one result, one final checkpoint, one printed summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_cli_ddp_two_cpu_processes_give_one_result_and_one_checkpoint(tmp_path: Path) -> None:
    args = ["--example", "--devices", "2", "--strategy", "ddp", "--accelerator", "cpu", "--max-steps", "4"]
    args += ["--batch-size", "8", "--val-every", "2", "--out", "run", "--json", "r.json"]
    proc = subprocess.run(
        [sys.executable, "-m", "tbwidgets", "train", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("Trained 4 steps") == 1  # rank 1 prints nothing
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["steps"] == 4 and len(data["history"]) == 4
    assert data["config"]["devices"] == 2 and data["config"]["strategy"] == "ddp"
    finals = list((tmp_path / "run").rglob("*final.ckpt"))
    assert [p.name for p in finals] == ["step-0000004-final.ckpt"]
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["run"]  # no second run folder


NOTEBOOK_DDP = """
import sys
sys.ps1 = ">>> "  # what a Jupyter kernel has: Lightning then treats the process as interactive
sys.path.insert(0, {helpers!r})
import json
from fit_helpers import tiny_config, tiny_model
from tbwidgets.training.events import StepMetrics, ValidationMetrics
from tbwidgets.training.fit import fit
from pathlib import Path
events = []
cfg = tiny_config(Path({tmp!r}), max_steps=4, devices=2, strategy="ddp")
result = fit(tiny_model(), "copy", cfg, on_event=events.append, out_dir={out!r})
print(json.dumps({{"steps": [e.step for e in events if isinstance(e, StepMetrics)],
                  "val": [e.step for e in events if isinstance(e, ValidationMetrics)],
                  "result_steps": result.steps, "checkpoints": result.checkpoints}}))
"""


@pytest.mark.slow
def test_notebook_ddp_forks_and_brings_the_children_events_home(tmp_path: Path) -> None:
    code = NOTEBOOK_DDP.format(
        helpers=str(Path(__file__).parent), tmp=str(tmp_path), out=str(tmp_path / "run")
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["steps"] == [1, 2, 3, 4] and data["val"] == [4] and data["result_steps"] == 4
    assert any(p.endswith("step-0000004-final.ckpt") for p in data["checkpoints"])


def test_notebook_refuses_strategies_it_cannot_run_and_names_the_cli() -> None:
    from tbwidgets.training.config import TrainingConfig
    from tbwidgets.training.distributed import resolve_devices

    cfg = TrainingConfig(devices=2, strategy="fsdp")
    with pytest.raises(RuntimeError, match=r"tbwidgets train .* --strategy fsdp"):
        resolve_devices(cfg, notebook=True)
    assert resolve_devices(cfg, notebook=False) is cfg  # scripts hand it to Lightning as is
    assert resolve_devices(TrainingConfig(devices=2), notebook=True).strategy == "ddp_notebook"
    assert resolve_devices(TrainingConfig(devices="auto"), notebook=True).devices == 1
