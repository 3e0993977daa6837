"""It must show: a nanoGPT-style folder (model.py with GPTConfig + GPT(config), flat config.json)
validates from the command line with exit code 0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "nanogpt_style"


def test_nanogpt_style_folder_validates_from_the_cli(tmp_path: Path) -> None:
    folder = tmp_path / "my-nanogpt"
    shutil.copytree(FIXTURE, folder)
    report = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "tbwidgets", "validate", str(folder), "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Loaded GPT" in run.stderr
    data = json.loads(report.read_text())
    text = json.dumps(data)
    assert "dataclass GPTConfig built from config.json" in text and "dummy targets" in text
    statuses = [r["status"] for r in data["results"]]
    assert len(statuses) >= 11 and not {"fail", "error"} & set(statuses), statuses
