"""Golden tests of the CLI's bad inputs, run as users run it (`python -m tbwidgets ...`).

Each case asserts the exit code, the words of the first explaining line and that no traceback is
shown; usage problems must be refused before anything slow starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.cli.bad_input_cases import CASES, Case
from tests.cli.subprocess_cli import first_line, run_cli
from tests.fakes.gist_server import FakeGistAPI

pytestmark = pytest.mark.bad_input


# Refusals before loading take a fraction of a second; the others import torch in a fresh process
# (seconds each), so they run with the slow group (CI runs it).
PARAMS = [pytest.param(c, id=c.id, marks=[] if c.before_loading else [pytest.mark.slow]) for c in CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input(case: Case, fake_gist_env: FakeGistAPI, tmp_path: Path) -> None:
    if case.needs_no_cuda and torch.cuda.is_available():
        pytest.skip("this machine has CUDA, so --device cuda is not a bad input here")
    fake_gist_env.add_tb_example()
    (tmp_path / "a_file.txt").write_text("not a folder")
    proc = run_cli(case.argv(tmp_path), cwd=tmp_path, env=case.env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == case.code, output
    assert case.words in first_line(proc.stderr), output
    assert "Traceback" not in output
    if case.before_loading:
        assert "Loading model" not in proc.stderr, "refused only after the slow start-up"
    if case.env.get("PYTHONIOENCODING") == "ascii":
        assert output.isascii()
    if case.id == "ascii-terminal-table":
        assert "positions <= t never move" in proc.stdout  # "≤" written as "<=", not an encoding crash
