"""Deadlines: one overall deadline per request (connect + whole body), retries inside the budget.

The bounds below are functional, not performance targets: a dripping server here would take 40+ s
to finish its body, and a silent one never answers; the fetch must end near its small `timeout`.
`benchmarks/gist_deadlines.py` measures the default (30 s) for the record.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tbwidgets.loading import GistError, LoadProgress, load_model
from tbwidgets.loading.gist import fetch_gist
from tests.fakes.gist_server import FakeGistAPI, silent_server

GID = "d" * 32
MODEL = "from torch import nn\n\nclass M(nn.Module):\n    pass\n"
SLACK_S = 2.0  # thread start, backoff rounding and a loaded CI machine; far below the 40 s drip


def timed_error(**kwargs: object) -> tuple[GistError, float]:
    start = time.monotonic()
    with pytest.raises(GistError) as info:
        fetch_gist(GID, **kwargs)  # type: ignore[arg-type]
    return info.value, time.monotonic() - start


@pytest.mark.bad_input
def test_dripping_server_fails_within_the_deadline(fake_gist_api: FakeGistAPI, tmp_path: Path) -> None:
    fake_gist_api.add_gist(GID, {"model.py": MODEL * 10})
    fake_gist_api.drip_next(0.05, times=5)  # a byte every 50 ms: every socket read succeeds
    err, took = timed_error(api_url=fake_gist_api.url, cache_dir=tmp_path, timeout=1.0)
    assert took < 1.0 + SLACK_S
    assert err.cause.startswith(
        f"Downloading from {fake_gist_api.url.split('//')[1]} did not finish within 1 s"
    )
    assert "bytes received" in err.cause and "timeout=" in err.fix and "--timeout" in err.fix


@pytest.mark.bad_input
def test_silent_server_fails_within_the_deadline(tmp_path: Path) -> None:
    with silent_server() as url:
        err, took = timed_error(api_url=url, cache_dir=tmp_path, timeout=1.0, attempts=3)
    assert took < 1.0 + SLACK_S
    assert err.cause.startswith(f"{url.split('//')[1]} did not answer within 1 s")
    assert "attempt" in err.cause and "--timeout" in err.fix


@pytest.mark.bad_input
def test_silent_server_is_retried_inside_the_budget(tmp_path: Path) -> None:
    """Three tries share the budget for connect and headers, so the last one still gets its turn."""
    notes: list[LoadProgress] = []
    with silent_server() as url:
        err, took = timed_error(
            api_url=url, cache_dir=tmp_path, timeout=1.2, attempts=3, backoff_s=0.05, progress=notes.append
        )
    assert "(3 attempts)" in err.cause and took < 1.2 + SLACK_S
    retries = [n.message for n in notes if n.stage == "retry"]
    assert len(retries) == 2 and "Trying again (attempt 2 of 3" in retries[0]


def test_a_stall_shorter_than_the_budget_is_retried_and_succeeds(
    fake_gist_api: FakeGistAPI, tmp_path: Path
) -> None:
    fake_gist_api.add_gist(GID, {"model.py": MODEL})
    fake_gist_api.stall_next(5.0, times=1)  # the first try hangs; its share of the budget ends it
    got = fetch_gist(
        GID, api_url=fake_gist_api.url, cache_dir=tmp_path, timeout=3.0, attempts=3, backoff_s=0.05
    )
    assert got.files["model.py"] == MODEL and len(fake_gist_api.requests) == 2


def test_progress_reports_bytes_so_far(fake_gist_api: FakeGistAPI, tmp_path: Path) -> None:
    big = "# padding\n" * 60
    gist = fake_gist_api.add_gist(GID, {"model.py": big}, truncate=["model.py"])  # fetched from raw_url
    fake_gist_api.drip_next(0.002, path=f"/{gist.owner}/{GID}/raw/")
    notes: list[LoadProgress] = []
    got = fetch_gist(GID, api_url=fake_gist_api.url, cache_dir=tmp_path, timeout=20, progress=notes.append)
    assert got.files["model.py"] == big
    downloads = [n for n in notes if n.stage == "download" and n.message.startswith("Downloading model.py")]
    assert downloads and all(n.total == len(big) for n in downloads)
    done = [n.done or 0 for n in downloads]
    assert done == sorted(done) and 0 < done[0] <= len(big)
    assert f"of {len(big)} B" in downloads[-1].message


@pytest.mark.bad_input
def test_load_model_threads_timeout_and_max_file_bytes(fake_gist_api: FakeGistAPI, tmp_path: Path) -> None:
    fake_gist_api.add_gist(GID, {"model.py": MODEL + "#" * 500, "config.json": json.dumps({})})
    with pytest.raises(GistError, match="above the 100-byte limit") as info:
        load_model(GID, api_url=fake_gist_api.url, cache_dir=tmp_path, max_file_bytes=100)
    assert "max_file_bytes=" in info.value.fix and "--max-file-bytes" in info.value.fix
    with silent_server() as url:
        start = time.monotonic()
        with pytest.raises(GistError, match=r"did not answer within 0\.5 s"):
            load_model("e" * 32, api_url=url, cache_dir=tmp_path, timeout=0.5)
        assert time.monotonic() - start < 0.5 + SLACK_S


@pytest.mark.bad_input
def test_ctrl_c_during_a_fetch_is_prompt(fake_gist_api: FakeGistAPI, tmp_path: Path) -> None:
    """KeyboardInterrupt reaches the caller at once, not after the request ends (the wait is interruptible)."""
    import _thread
    import threading

    fake_gist_api.add_gist(GID, {"model.py": MODEL})
    fake_gist_api.stall_next(10.0)
    threading.Timer(0.3, _thread.interrupt_main).start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        fetch_gist(GID, api_url=fake_gist_api.url, cache_dir=tmp_path, timeout=30)
    assert time.monotonic() - start < 0.3 + SLACK_S
