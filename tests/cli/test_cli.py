"""The `tbwidgets validate` command end to end: exit codes, reports, and gist errors users will meet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tbwidgets.cli.main import main
from tests.fakes.gist_server import TB_EXAMPLE_GIST_ID, FakeGistAPI, load_tb_example

FAST = ["--check", "tier1.shape_robustness", "--check", "tier1.causal_leakage"]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_example_writes_json_and_html_and_exits_0(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    cmd = [sys.executable, "-m", "tbwidgets", "validate", "--example", "--json", "r.json", "--html", "r.html"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    ids = [r["check_id"] for r in data["results"]]
    assert len(ids) == 12 and all(i.startswith("tier1.") for i in ids)
    assert all(r["status"] in {"pass", "warn", "skipped"} for r in data["results"])
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert "[12/12] tier1.overfit_batch" in proc.stderr  # progress lines when not on a terminal


def test_tb_gist_validates_through_the_cli(fake_gist_env: FakeGistAPI, capsys, tmp_path: Path) -> None:
    fake_gist_env.add_tb_example()
    code, out, err = run_cli(capsys, "--gist", TB_EXAMPLE_GIST_ID, *FAST, "--junit", str(tmp_path / "c.xml"))
    assert code == 0, out + err
    assert "CustomTransformer" in err and f"gist {TB_EXAMPLE_GIST_ID}@" in err
    assert "PASS    tier1.causal_leakage" in out
    assert (tmp_path / "c.xml").read_text().count("<testcase") == 2


def test_gist_url_as_positional_source(fake_gist_env: FakeGistAPI, capsys) -> None:
    fake_gist_env.add_tb_example()
    code, _, err = run_cli(capsys, f"https://gist.github.com/tb-user/{TB_EXAMPLE_GIST_ID}", *FAST)
    assert code == 0, err


@pytest.mark.bad_input
def test_unknown_gist_exits_2_and_says_what_to_check(fake_gist_env: FakeGistAPI, capsys) -> None:
    code, out, err = run_cli(capsys, "--gist", "f" * 32)
    assert code == 2 and out == ""
    assert "not found" in err and "what to do:" in err
    assert "Traceback" not in err


@pytest.mark.bad_input
def test_rate_limit_exits_2_naming_the_limit_the_retry_time_and_the_token(fake_gist_env, capsys) -> None:
    fake_gist_env.add_tb_example()
    fake_gist_env.rate_limit_next(403, reset_in_s=1200)
    code, _, err = run_cli(capsys, "--gist", TB_EXAMPLE_GIST_ID)
    assert code == 2
    assert "rate limit" in err.lower() and "GITHUB_TOKEN" in err
    assert "(in 20 min)" in err  # when the next try is allowed
    assert "Traceback" not in err


@pytest.mark.bad_input
def test_truncated_model_file_is_fetched_whole(fake_gist_env: FakeGistAPI, capsys) -> None:
    fake_gist_env.add_gist(TB_EXAMPLE_GIST_ID, load_tb_example(), truncate=["model.py"])
    code, _, err = run_cli(capsys, "--gist", TB_EXAMPLE_GIST_ID, *FAST)
    assert code == 0, err
    assert any("/raw/" in p or "raw" in p for p in fake_gist_env.paths())


def test_a_planted_bug_exits_1(tmp_path: Path, capsys) -> None:
    source = (Path(__file__).parents[2] / "tbwidgets/loading/examples/tb_gist/model.py").read_text()
    assert "attn_mask=" in source
    (tmp_path / "model.py").write_text(source.replace("attn_mask=", "attn_mask=None and "))
    code, out, _ = run_cli(
        capsys, "--path", str(tmp_path), "--task", "causal-lm", "--check", "tier1.causal_leakage"
    )
    assert code == 1
    assert "FAIL    tier1.causal_leakage" in out and "problems found" in out


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--example", "--path", "x"], "give one model source"),
        (["--example", "--tiers", "3"], "--tiers takes 1 and/or 2"),
        (["--example", "--tiers", "one"], "--tiers takes numbers"),
        (["--example", "--check", "tier1.nope"], "Unknown check 'tier1.nope'"),
        (["--path", "no/such/dir"], "not found"),
    ],
)
def test_usage_and_loading_problems_exit_2(capsys, args: list[str], message: str) -> None:
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert message in err


@pytest.mark.bad_input
def test_debug_shows_the_traceback_of_a_loading_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "model.py").write_text(
        "import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return x\n  oops\n"
    )
    _, _, quiet = run_cli(capsys, "--path", str(tmp_path))
    _, _, loud = run_cli(capsys, "--path", str(tmp_path), "--debug")
    assert "SyntaxError" in quiet or "syntax" in quiet.lower()
    assert "Traceback" not in quiet and "Traceback" in loud


def test_checks_lists_every_registered_check(capsys) -> None:
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    assert "tier1.gradient_flow" in out and "tier2.attention_patterns" in out
