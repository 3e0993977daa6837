"""`tbwidgets train` end to end in a subprocess: plain lines, JSON, exit codes, Ctrl-C and resume."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

FAST = ["--max-steps", "4", "--batch-size", "8", "--val-every", "2", "--accelerator", "cpu"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1"
    )  # no Hub retries
    return env


def _tbw(args: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tbwidgets", "train", "--example", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(cwd),
        timeout=300,
        **kwargs,
    )


def test_train_prints_plain_lines_writes_json_and_exits_0(tmp_path: Path) -> None:
    proc = _tbw([*FAST, "--out", "run", "--json", "r.json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "step 4/4" in proc.stderr and "val_loss" in proc.stderr and "\r" not in proc.stderr
    assert proc.stdout.startswith("Trained 4 steps") and "Run folder: run" in proc.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["steps"] == 4 and len(data["history"]) == 4
    assert (tmp_path / "run" / "checkpoints" / "step-0000004-final.ckpt").exists()
    assert (tmp_path / "run" / "config.json").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--config", "missing.json"], "missing.json"),
        (["--max-steps", "0"], "max_steps"),
        (["--data", "no_such_task_or_file"], "no_such_task_or_file"),
        (["--resume", "last"], "found no checkpoint"),
    ],
)
def test_usage_config_and_data_problems_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = _tbw([*args, "--accelerator", "cpu"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [([], "no model source given"), (["--gist", " "], "no gist id given — is GIST_ID set?")],
)
def test_train_needs_an_explicit_source(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tbwidgets", "train", *args, "--max-steps", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=300,
    )
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert "--example" in proc.stderr or "GIST_ID" in proc.stderr
    assert not list(tmp_path.iterdir())  # nothing trained, nothing written


def test_ctrl_c_leaves_a_checkpoint_and_prints_the_resume_command(tmp_path: Path) -> None:
    args = [
        "--example",
        "--max-steps",
        "60",
        "--batch-size",
        "8",
        "--val-every",
        "50",
        "--accelerator",
        "cpu",
        "--out",
        "run",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tbwidgets", "train", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 240
    for line in proc.stderr:  # wait until training runs (a plain line every 3 steps)
        if line.startswith("step ") or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "Interrupted at step" in err and "Traceback" not in err and "SystemExit" not in err
    resume_line = next(line for line in err.splitlines() if line.startswith("Resume with: "))
    command = shlex.split(resume_line.removeprefix("Resume with: "))
    ckpt = command[-1]
    assert command[0] == "tbwidgets" and command[-2] == "--resume" and Path(tmp_path, ckpt).exists()
    stopped_at = int(Path(ckpt).name.split("-")[1])
    more = ["--max-steps", str(stopped_at + 2), "--val-every", str(stopped_at + 2)]
    resumed = _tbw([*command[2:-2], *more, "--resume", ckpt, "--json", "r.json"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"from step {stopped_at}" in resumed.stderr
    assert json.loads((tmp_path / "r.json").read_text())["start_step"] == stopped_at


def test_live_line_redraws_in_place_and_scrolls_validation_and_stop() -> None:
    import io

    from tbwidgets.cli.train_progress import LiveTrainingLine
    from tbwidgets.training.events import StepMetrics, TrainingStarted, TrainingStopped, ValidationMetrics

    stream = io.StringIO()
    line = LiveTrainingLine(stream, min_interval_s=0.0)
    line(TrainingStarted("r", 3, {}, "copy", "out"))
    m = {"loss": 1.0, "accuracy": 0.5, "lr": 1e-3, "grad_norm": 0.3, "tokens_per_s": 1000.0}
    for step in (1, 2):
        line(StepMetrics("r", step, 0, m))
    line(ValidationMetrics("r", 2, 0, {"val_loss": 0.9, "val_accuracy": 0.6, "val_perplexity": 2.5}))
    line(TrainingStopped("r", 2, "out/step-0000002-stop.ckpt"))
    text = stream.getvalue()
    assert text.count("\rstep 1/3") == 1 and text.count("\rstep 2/3") == 1  # redrawn, not new lines
    assert "step 2: val_loss 0.9000" in text and "Stopped at step 2\n" in text
