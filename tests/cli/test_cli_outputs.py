"""Report files, download flags and encodings of `tbwidgets validate`, run in this process."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

import pytest

from tbwidgets.cli import console
from tbwidgets.cli.args import UsageError
from tbwidgets.cli.main import main
from tbwidgets.cli.outputs import check_outputs
from tbwidgets.core import Report
from tests.fakes.gist_server import TB_EXAMPLE_GIST_ID, FakeGistAPI

FAST = ["--check", "tier1.shape_robustness"]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.bad_input
def test_one_report_failing_does_not_cost_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: Report, path: object = None) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Report, "to_html", disk_full)
    paths = {flag: tmp_path / f"r.{flag}" for flag in ("json", "html", "junit")}
    args = [a for flag, p in paths.items() for a in (f"--{flag}", str(p))]
    code, _, err = run_cli(capsys, "--example", *FAST, *args)
    assert code == 2  # the checks passed, but a report the user asked for is missing
    assert f"error: could not write --html {paths['html']}: No space left on device" in err
    assert json.loads(paths["json"].read_text())["results"][0]["status"] == "pass"
    assert paths["junit"].read_text().count("<testcase") == 1
    assert not paths["html"].exists() and not list(tmp_path.glob(".r.*"))  # no half-written scratch file
    assert "Traceback" not in err


def test_existing_report_is_checked_without_being_changed(tmp_path: Path) -> None:
    old = tmp_path / "r.json"
    old.write_text("previous run")
    os.utime(old, (1_000_000, 1_000_000))
    check_outputs({"json": str(old), "html": str(tmp_path / "new.html")})
    assert old.read_text() == "previous run" and old.stat().st_mtime == 1_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # the probe left nothing behind


@pytest.mark.bad_input
@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes into read-only folders; permission bits cannot refuse it"
)
def test_read_only_folder_is_refused_before_the_run(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(UsageError, match="cannot write --junit"):
        check_outputs({"junit": str(locked / "r.xml")})


def test_rewritten_report_keeps_its_permissions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "r.json"
    target.write_text("{}")
    target.chmod(0o640)
    assert run_cli(capsys, "--example", *FAST, "--json", str(target))[0] == 0
    assert target.stat().st_mode & 0o777 == 0o640 and "tier1.shape_robustness" in target.read_text()


@pytest.mark.bad_input
def test_timeout_flag_bounds_a_dripping_download(
    fake_gist_env: FakeGistAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_gist_env.add_tb_example()
    fake_gist_env.drip_next(0.3, path="/gists/")  # headers at once, then a byte every 0.3 s
    main(["checks"])  # import the checks first: the clock below measures the download only
    capsys.readouterr()
    started = time.monotonic()
    code, _, err = run_cli(capsys, "--gist", TB_EXAMPLE_GIST_ID, "--timeout", "2")
    elapsed = time.monotonic() - started
    assert code == 2 and elapsed < 5, (elapsed, err)
    assert "did not finish within 2 s" in err and "--timeout" in err
    assert "Traceback" not in err


@pytest.mark.bad_input
def test_max_file_bytes_flag_reaches_the_gist_fetch(
    fake_gist_env: FakeGistAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_gist_env.add_tb_example()
    code, _, err = run_cli(capsys, "--gist", TB_EXAMPLE_GIST_ID, "--max-file-bytes", "100")
    assert code == 2 and "above the 100-byte limit" in err and "--max-file-bytes" in err
    code, _, err = run_cli(capsys, "--gist", TB_EXAMPLE_GIST_ID, "--max-file-bytes", "1M", *FAST)
    assert code == 0, err


@pytest.mark.bad_input
def test_ascii_fallback_for_streams_that_cannot_encode_symbols() -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    assert console.fit("a ≤ b — ok ✓ … café 中", stream) == "a <= b -- ok ok ... cafe ?"
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert console.fit("a ≤ b", utf8) == "a ≤ b"
    assert console.fit("a ≤ b", io.StringIO()) == "a ≤ b"  # no encoding: nothing to fit
    stream.reconfigure(errors=console.ERRORS)
    print("x ≥ y — done", file=stream)  # what make_streams_safe arranges for stdout/stderr
    stream.flush()
    assert stream.buffer.getvalue() == b"x >= y -- done\n"  # type: ignore[attr-defined]


@pytest.mark.bad_input
@pytest.mark.skipif(
    not Path("/proc/self").exists(), reason="needs Linux's /proc, where even root cannot create files"
)
def test_a_folder_nobody_can_write_is_refused_even_for_root() -> None:
    with pytest.raises(UsageError, match=r"cannot write --json /proc/tbwidgets-report\.json"):
        check_outputs({"json": "/proc/tbwidgets-report.json"})


def test_a_symlinked_report_path_writes_through_the_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ci").mkdir()
    target = tmp_path / "ci" / "latest.json"
    target.write_text("{}")
    link = tmp_path / "r.json"
    link.symlink_to(target)
    assert run_cli(capsys, "--example", *FAST, "--json", str(link))[0] == 0
    assert link.is_symlink() and "tier1.shape_robustness" in target.read_text()


def test_a_report_to_standard_output_leaves_stdout_parseable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "--example", *FAST, "--json", "-", "--junit", str(tmp_path / "r.xml"))
    assert code == 0
    assert json.loads(out)["results"][0]["check_id"] == "tier1.shape_robustness"  # only the report
    assert "STATUS" in err and "tier1.shape_robustness" in err  # the table went to stderr
    assert not (tmp_path / "-").exists() and (tmp_path / "r.xml").exists()
    two, _, err = run_cli(capsys, "--example", *FAST, "--json", "-", "--html", "-")
    assert two == 2 and "--json and --html both write to standard output" in err


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path: Path) -> None:
    import subprocess

    from tests.cli.subprocess_cli import cli_env

    cmd = [sys.executable, "-m", "tbwidgets", "checks"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `tbwidgets checks | head -0`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == ""  # 128 + SIGPIPE, no traceback
