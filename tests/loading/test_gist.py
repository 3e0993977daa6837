"""Gist client against the fake Gists API on 127.0.0.1: success, pinning, truncation, errors, cache."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tbwidgets.loading.errors import GistError
from tbwidgets.loading.gist import GistFiles, fetch_gist, parse_gist_id, parse_gist_ref
from tests.fakes.gist_server import TB_EXAMPLE_DIR, FakeGistAPI

GID = "8c78c86843e7253f6d66f4339ae15275"
MODEL = "import torch\n\nclass CustomTransformer(torch.nn.Module):\n    pass\n"
CONFIG = '{"model_name": "CustomTransformer", "vocab_size": 100}'
TOKEN = "ghp_NOT_A_REAL_TOKEN_0123456789abcdef"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "TBWIDGETS_GITHUB_API", "TBWIDGETS_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def fetch(api: FakeGistAPI, cache: Path, gist: str = GID, **kw: Any) -> GistFiles:
    """fetch_gist pointed at the fake, with a private cache and a short backoff."""
    kw.setdefault("backoff_s", 0.01)
    return fetch_gist(gist, api_url=api.url, cache_dir=cache, **kw)


def add_tb(api: FakeGistAPI, **kw: Any) -> Any:
    return api.add_gist(GID, {"model.py": MODEL, "config.json": CONFIG}, **kw)


def error_of(api: FakeGistAPI, cache: Path, **kw: Any) -> GistError:
    with pytest.raises(GistError) as info:
        fetch(api, cache, **kw)
    return info.value


# -- success ---------------------------------------------------------------------------------------
def test_fetch_returns_all_files_and_provenance(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    gist = add_tb(fake_gist_api)
    got = fetch(fake_gist_api, cache)
    assert got.files == {"model.py": MODEL, "config.json": CONFIG}
    prov = got.provenance
    assert (prov.kind, prov.gist_id, prov.revision, prov.owner) == ("gist", GID, gist.sha, "tb-user")
    assert prov.html_url == gist.html_url
    assert prov.files["model.py"] == hashlib.sha256(MODEL.encode()).hexdigest()
    assert datetime.fromisoformat(prov.fetched_at or "").utcoffset() is not None
    assert prov.from_cache is False
    (request,) = fake_gist_api.requests
    assert request.path == f"/gists/{GID}"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"]
    assert request.headers["User-Agent"].startswith("tbwidgets/")
    assert request.auth is None


def test_token_from_argument_or_env_is_sent_as_bearer(
    fake_gist_api: FakeGistAPI, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tb(fake_gist_api)
    fetch(fake_gist_api, cache, token=TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_from_env")
    fetch(fake_gist_api, cache)
    assert [r.auth for r in fake_gist_api.requests] == [f"Bearer {TOKEN}", "Bearer ghp_from_env"]


def test_env_var_api_url_and_cache_dir_are_honoured(
    fake_gist_api: FakeGistAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tb(fake_gist_api)
    monkeypatch.setenv("TBWIDGETS_GITHUB_API", fake_gist_api.url + "/")
    monkeypatch.setenv("TBWIDGETS_CACHE_DIR", str(tmp_path / "envcache"))
    got = fetch_gist(GID)
    assert got.files["model.py"] == MODEL
    assert fake_gist_api.paths() == [f"/gists/{GID}"]
    assert (tmp_path / "envcache" / GID / f"{got.provenance.revision}.json").is_file()


# -- revisions and cache ---------------------------------------------------------------------------
def test_pinned_revision_uses_revision_url(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    gist = add_tb(fake_gist_api, revisions=[{"model.py": "# old\n", "config.json": "{}"}])
    old_sha = gist.shas[1]
    got = fetch(fake_gist_api, cache, revision=old_sha)
    assert got.files["model.py"] == "# old\n"
    assert got.provenance.revision == old_sha
    assert fake_gist_api.paths() == [f"/gists/{GID}/{old_sha}"]
    from_url = fetch(
        fake_gist_api, cache, gist=f"https://gist.github.com/tb-user/{GID}/{old_sha}", refresh=True
    )
    assert from_url.files["model.py"] == "# old\n"
    assert fake_gist_api.paths()[-1] == f"/gists/{GID}/{old_sha}"


def test_pinned_revision_in_cache_needs_no_network(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    gist = add_tb(fake_gist_api)
    fetch(fake_gist_api, cache, revision=gist.sha)
    fake_gist_api.stop()
    again = fetch(fake_gist_api, cache, revision=gist.sha)
    assert again.files["model.py"] == MODEL
    assert again.provenance.from_cache is True
    assert again.provenance.revision == gist.sha
    with pytest.raises(GistError, match="Could not connect"):
        fetch(fake_gist_api, cache, revision=gist.sha, refresh=True, attempts=1)


def test_refresh_refetches_a_cached_pinned_revision(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    gist = add_tb(fake_gist_api)
    fetch(fake_gist_api, cache, revision=gist.sha)
    got = fetch(fake_gist_api, cache, revision=gist.sha, refresh=True)
    assert got.provenance.from_cache is False
    assert len(fake_gist_api.requests) == 2


def test_unpinned_falls_back_to_cache_when_offline(
    fake_gist_api: FakeGistAPI, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gist = add_tb(fake_gist_api, revisions=[{"model.py": "# old\n"}])
    fetch(fake_gist_api, cache, revision=gist.shas[1])  # an older revision cached too
    first = fetch(fake_gist_api, cache)
    fake_gist_api.fail_next(503, times=3)
    with caplog.at_level(logging.WARNING):
        during_outage = fetch(fake_gist_api, cache)
    assert during_outage.provenance.from_cache is True
    assert during_outage.files == first.files  # the latest fetched, not the older revision
    assert "cached copy" in caplog.text
    fake_gist_api.stop()
    offline = fetch(fake_gist_api, cache)
    assert offline.provenance.from_cache is True
    assert offline.provenance.revision == gist.sha
    assert offline.provenance.files == first.provenance.files


def test_spent_rate_limit_falls_back_to_cache(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    fetch(fake_gist_api, cache)
    fake_gist_api.rate_limit_next()
    assert fetch(fake_gist_api, cache).provenance.from_cache is True


def test_refresh_does_not_hide_an_outage_behind_the_cache(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    fetch(fake_gist_api, cache)
    fake_gist_api.fail_next(503, times=3)
    err = error_of(fake_gist_api, cache, refresh=True)
    assert "refresh=True" in err.fix


def test_cache_writes_leave_no_temporary_files(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    got = fetch(fake_gist_api, cache)
    names = sorted(p.name for p in (cache / GID).iterdir())
    assert names == sorted([f"{got.provenance.revision}.json", "latest.json"])
    stored = json.loads((cache / GID / names[0]).read_text())
    assert stored["files"]["model.py"] == MODEL


def test_broken_cache_entry_is_a_miss_and_unwritable_cache_is_no_failure(
    fake_gist_api: FakeGistAPI, cache: Path, tmp_path: Path
) -> None:
    gist = add_tb(fake_gist_api)
    fetch(fake_gist_api, cache, revision=gist.sha)
    (cache / GID / f"{gist.sha}.json").write_text("{not json")
    assert fetch(fake_gist_api, cache, revision=gist.sha).provenance.from_cache is False
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert fetch(fake_gist_api, blocker, revision=gist.sha).files["model.py"] == MODEL


def test_token_never_reaches_cache_errors_or_logs(
    fake_gist_api: FakeGistAPI, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_tb(fake_gist_api)
    with caplog.at_level(logging.DEBUG):
        got = fetch(fake_gist_api, cache, token=TOKEN)
        assert TOKEN not in repr(got)
        fake_gist_api.fail_next(500, times=3)
        assert fetch(fake_gist_api, cache, token=TOKEN).provenance.from_cache  # logs a warning
        errors = [error_of(fake_gist_api, cache, gist="f" * 32, token=TOKEN)]
        fake_gist_api.fail_next(403, body=json.dumps({"message": f"token {TOKEN} is blocked"}))
        errors.append(error_of(fake_gist_api, cache, token=TOKEN))
        fake_gist_api.valid_tokens = {"another"}
        errors.append(error_of(fake_gist_api, cache, token=TOKEN))
    assert "is blocked" in str(errors[1]) and errors[2].status == 401
    for err in errors:
        assert TOKEN not in str(err) and TOKEN not in repr(err.args)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in p.read_text() for p in cache.rglob("*") if p.is_file())


# -- truncated, oversize, encodings ----------------------------------------------------------------
def test_truncated_file_is_fetched_whole_from_raw_url(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    big = MODEL + "# padding\n" * 500
    gist = fake_gist_api.add_gist(GID, {"model.py": big, "config.json": CONFIG}, truncate=["model.py"])
    got = fetch(fake_gist_api, cache, token=TOKEN)
    assert got.files["model.py"] == big
    raw = [r for r in fake_gist_api.requests if "/raw/" in r.path]
    assert [r.path for r in raw] == [f"/tb-user/{GID}/raw/{gist.sha}/model.py"]
    assert raw[0].auth == f"Bearer {TOKEN}"  # raw_url on the API host: same auth


def test_token_is_not_sent_to_a_foreign_raw_host(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    files = {"model.py": MODEL, "config.json": CONFIG}
    with FakeGistAPI() as other:
        other.add_gist(GID, files)  # same content, so the same revision shas and raw paths
        fake_gist_api.add_gist(GID, files, truncate=["model.py"])
        fake_gist_api.raw_base = other.url
        got = fetch(fake_gist_api, cache, token=TOKEN)
        assert got.files["model.py"] == MODEL
        assert [r.auth for r in other.requests] == [None]


def test_oversize_file_is_refused(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    fake_gist_api.add_gist(GID, {"model.py": "x" * 500})
    err = error_of(fake_gist_api, cache, max_file_bytes=100)
    assert "model.py" in err.cause and "500 bytes" in err.cause and "100-byte limit" in err.cause
    assert "max_file_bytes" in err.fix


def test_oversize_raw_file_without_size_stops_reading_early(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    gist = fake_gist_api.add_gist(GID, {"model.py": "y" * 300_000})
    raw_url = f"{fake_gist_api.url}/tb-user/{GID}/raw/{gist.sha}/model.py"
    listing = {"files": {"model.py": {"truncated": True, "content": "yy", "raw_url": raw_url}}}
    fake_gist_api.fail_next(200, body=json.dumps(listing))  # no "size": only reading can tell
    err = error_of(fake_gist_api, cache, max_file_bytes=1000)
    assert "model.py" in err.cause and "more than 1,000 bytes" in err.cause


def test_api_url_without_scheme_is_explained(cache: Path) -> None:
    with pytest.raises(GistError, match="not a usable address") as info:
        fetch_gist(GID, api_url="127.0.0.1:9", cache_dir=cache, attempts=1)
    assert "https://api.github.com" in info.value.fix


def test_base64_and_lone_surrogate_contents(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    encoded = base64.b64encode(MODEL.encode()).decode()
    listing = {"files": {"model.py": {"content": encoded, "encoding": "base64", "truncated": False}}}
    fake_gist_api.fail_next(200, body=json.dumps(listing))
    assert fetch(fake_gist_api, cache).files["model.py"] == MODEL
    fake_gist_api.fail_next(200, body='{"files": {"model.py": {"content": "x = 1  # \\udcff"}}}')
    assert "not UTF-8" in error_of(fake_gist_api, cache).cause


def test_non_utf8_raw_file_is_refused(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    fake_gist_api.add_gist(GID, {"model.py": b"# caf\xe9 latin-1\n"})
    err = error_of(fake_gist_api, cache)
    assert "model.py" in err.cause and "not UTF-8" in err.cause and "byte 5" in err.cause
    assert any("/raw/" in p for p in fake_gist_api.paths())


def test_invalid_json_body(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    fake_gist_api.fail_next(200, body="<html>Captive portal login</html>")
    err = error_of(fake_gist_api, cache)
    assert "not valid JSON" in err.cause and "<html>" in err.cause


def test_missing_model_py_lists_the_files_present(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    fake_gist_api.add_gist(GID, {"notes.md": "hi", "config.json": CONFIG})
    err = error_of(fake_gist_api, cache, required=("model.py", "config.json"))
    assert "no model.py" in err.cause and "config.json, notes.md" in err.cause
    assert "Transformer Builder" in err.fix and "export" in err.fix


# -- HTTP errors and retries -----------------------------------------------------------------------
def test_404_explains_the_likely_causes(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    err = error_of(fake_gist_api, cache)
    assert err.status == 404 and f"Gist {GID} was not found" in err.cause
    for word in ("typo", "deleted", "secret", "GITHUB_TOKEN", "account"):
        assert word in err.fix
    assert len(fake_gist_api.requests) == 1  # never retried


@pytest.mark.parametrize("status", [403, 429])
def test_rate_limit_names_reset_time_and_token(fake_gist_api: FakeGistAPI, cache: Path, status: int) -> None:
    add_tb(fake_gist_api)
    reset = fake_gist_api.rate_limit_next(status, reset_in_s=25 * 60)
    err = error_of(fake_gist_api, cache)
    assert err.status == status and "rate limit" in err.cause
    assert datetime.fromtimestamp(reset).astimezone().strftime("%H:%M:%S") in err.cause
    assert re.search(r"in 2[45] min", err.cause)
    assert "GITHUB_TOKEN" in err.fix and "5,000" in err.fix
    assert len(fake_gist_api.requests) == 1  # retrying would spend more of the quota


def test_other_403_is_a_permission_problem(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    fake_gist_api.fail_next(403, body=json.dumps({"message": "Resource protected by SAML"}))
    err = error_of(fake_gist_api, cache, token=TOKEN)
    assert "refused access" in err.cause and "SAML" in err.cause and "token" in err.fix
    assert len(fake_gist_api.requests) == 1


def test_401_says_the_token_is_bad(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    fake_gist_api.valid_tokens = {"the-right-one"}
    err = error_of(fake_gist_api, cache, token="the-wrong-one")
    assert err.status == 401 and "rejected the token" in err.cause and "GITHUB_TOKEN" in err.fix


def test_500_then_success_is_retried(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    fake_gist_api.fail_next(500)
    assert fetch(fake_gist_api, cache).files["model.py"] == MODEL
    assert fake_gist_api.paths() == [f"/gists/{GID}"] * 2


def test_persistent_503_fails_after_all_attempts(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    fake_gist_api.fail_next(503, times=10)
    err = error_of(fake_gist_api, cache, attempts=4)
    assert err.status == 503 and "unavailable" in err.cause and "4 attempts" in err.cause
    assert "try again" in err.fix
    assert len(fake_gist_api.requests) == 4


def test_timeouts_are_retried_then_reported(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    add_tb(fake_gist_api)
    fake_gist_api.stall_next(0.6, times=1)
    assert fetch(fake_gist_api, cache, timeout=0.2).files["model.py"] == MODEL  # second try answers
    fake_gist_api.clear_log()
    fake_gist_api.stall_next(0.6, times=3)
    start = time.monotonic()
    err = error_of(fake_gist_api, cache, gist="e" * 32, timeout=0.2)
    assert "did not answer within 0.2 s" in err.cause and "3 attempts" in err.cause
    assert len(fake_gist_api.requests) == 3
    assert time.monotonic() - start < 3


def test_connection_refused_without_cache(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    fake_gist_api.stop()
    err = error_of(fake_gist_api, cache, attempts=2)
    assert "Could not connect" in err.cause and "2 attempts" in err.cause
    assert "internet" in err.fix


# -- ids -------------------------------------------------------------------------------------------
SHA = "5f3e1a2b" * 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GID, (GID, None)),
        (f"  {GID.upper()}\n", (GID, None)),
        ("1234567", ("1234567", None)),
        ("0123456789abcdef0123", ("0123456789abcdef0123", None)),
        (f"https://gist.github.com/tb-user/{GID}", (GID, None)),
        (f"https://gist.github.com/{GID}", (GID, None)),
        (f"gist.github.com/tb-user/{GID}#file-model-py", (GID, None)),
        (f"https://gist.github.com/12345/{GID}", (GID, None)),  # numeric user name
        (f"https://gist.github.com/tb-user/{GID}/{SHA}", (GID, SHA)),
        (f"https://gist.github.com/tb-user/{GID}/revisions", (GID, None)),
        (f"https://gist.github.com/{GID}.git", (GID, None)),
        (f"https://api.github.com/gists/{GID}", (GID, None)),
        (f"https://api.github.com/gists/{GID}/{SHA}", (GID, SHA)),
        (f"http://127.0.0.1:8000/gists/{GID}", (GID, None)),
        (f"https://gist.githubusercontent.com/tb-user/{GID}/raw/{SHA}/model.py", (GID, None)),
    ],
)
def test_parse_gist_ref(text: str, expected: tuple[str, str | None]) -> None:
    assert parse_gist_ref(text) == expected
    assert parse_gist_id(text) == expected[0]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("text", "words"),
    [("hello", "not a gist id"), ("abc123", "not a gist id"), ("g" * 32, "not a gist id"),
     ("https://example.com/foo", "https://example.com/foo is not a gist URL"),
     ("https://gist.github.com/tb-user", "https://gist.github.com/tb-user is not a gist URL")],
)  # fmt: skip
def test_parse_rejects_junk_with_a_helpful_message(text: str, words: str) -> None:
    with pytest.raises(GistError, match=words) as info:
        parse_gist_id(text)
    assert "32-character" in info.value.fix


def test_bad_revision_is_refused_before_any_request(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    with pytest.raises(GistError, match="not a gist revision"):
        fetch(fake_gist_api, cache, revision="../../etc")
    assert fake_gist_api.requests == []


@pytest.mark.skipif(not (TB_EXAMPLE_DIR / "model.py").is_file(), reason="example gist not created yet")
def test_fake_serves_the_transformer_builder_example(fake_gist_api: FakeGistAPI, cache: Path) -> None:
    gist = fake_gist_api.add_tb_example()
    got = fetch(fake_gist_api, cache, gist=gist.id)
    assert got.files["model.py"] == (TB_EXAMPLE_DIR / "model.py").read_text(encoding="utf-8")
