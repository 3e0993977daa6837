"""Fetch a GitHub Gist (a Transformer Builder export) through the Gists API, with retries and a cache.

`fetch_gist("8c78c868…")` returns every file's text plus provenance (id, revision sha, owner, sha256
per file). The API base URL comes from `api_url=`, else `$TBWIDGETS_GITHUB_API`, else api.github.com,
so tests run against a fake server on 127.0.0.1. The token (`token=` or `$GITHUB_TOKEN`) goes only to
the API host and GitHub's raw-gist host and never into messages, logs, cache or provenance.
`timeout=` is one deadline for the whole fetch (each request's connect and body included, see
http_client), so a server that never answers or trickles bytes fails on time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tbwidgets.loading import gist_messages as msg
from tbwidgets.loading.cache import CachedGist, GistCache
from tbwidgets.loading.errors import GistError
from tbwidgets.loading.gist_ref import REVISION, parse_gist_id, parse_gist_ref
from tbwidgets.loading.http_client import Client, Reply
from tbwidgets.loading.model import Provenance
from tbwidgets.loading.progress import ProgressFn

__all__ = ["GistError", "GistFiles", "fetch_gist", "parse_gist_id", "parse_gist_ref"]

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.github.com"
DEFAULT_TIMEOUT_S = 30.0  # the whole fetch; GitHub answers in well under a second when healthy
DEFAULT_MAX_FILE_BYTES = 1_000_000  # a Transformer Builder model.py is a few kB
MAX_JSON_BYTES = 64_000_000  # the API truncates each file near 1 MB, and a gist holds at most 300 files


@dataclass(frozen=True)
class GistFiles:
    """All files of one gist revision (name -> text) and where they came from."""

    files: dict[str, str]
    provenance: Provenance
    description: str = ""


def _api_message(reply: Reply) -> str:
    try:
        data = json.loads(reply.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    return str(data.get("message", ""))[:200] if isinstance(data, dict) else ""


def _raise_for_status(reply: Reply, url: str, gist_id: str, revision: str | None, has_token: bool) -> None:
    status = reply.status
    if status == 200:
        return
    if status == 404:
        raise msg.not_found(gist_id, revision)
    if status == 401:
        raise msg.bad_token(status)
    if status in (403, 429):
        if reply.headers.get("X-RateLimit-Remaining") == "0" or status == 429:
            raise msg.rate_limited(status, reply.headers, has_token)
        raise msg.forbidden(status, _api_message(reply), has_token)
    raise msg.unexpected_status(status, url, _api_message(reply))


def _load_payload(reply: Reply, gist_id: str) -> dict[str, Any]:
    try:
        text = reply.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise msg.not_utf8(gist_id, "(the API answer itself)", exc) from None
    try:
        payload = json.loads(text)
    except ValueError:
        raise msg.invalid_json(gist_id, reply.body) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("files"), dict):
        raise msg.bad_answer(gist_id, "no 'files' object")
    return payload


def _entry_bytes(client: Client, gist_id: str, name: str, entry: Mapping[str, Any], limit: int) -> Reply:
    """One file's bytes: inline content, or its raw_url when the API truncated it (GitHub: ~1 MB)."""
    content = entry.get("content")
    if entry.get("truncated") or not isinstance(content, str):
        raw_url = entry.get("raw_url")
        if not isinstance(raw_url, str) or not raw_url:
            raise msg.bad_answer(gist_id, f"file {name} is truncated and has no raw_url")
        reply = client.get(raw_url, limit, label=name)
        if reply.status != 200:
            raise msg.unexpected_status(reply.status, raw_url, _api_message(reply))
        return reply
    try:
        if entry.get("encoding") == "base64":
            data = base64.b64decode(content, validate=True)
        else:
            data = content.encode("utf-8")  # lone surrogates (a "\\udcxx" JSON escape) fail here
    except UnicodeEncodeError as exc:
        raise msg.not_utf8(gist_id, name, exc) from None
    except ValueError:
        raise msg.bad_answer(gist_id, f"file {name} has invalid base64 content") from None
    return Reply(200, {}, data, complete=True)


def _file_text(client: Client, gist_id: str, name: str, entry: Mapping[str, Any], limit: int) -> str:
    """The whole text of one file entry, refusing files over `limit` bytes and non-UTF-8 ones."""
    size = entry.get("size")
    if isinstance(size, int) and size > limit:
        raise msg.oversize(gist_id, name, size, limit)
    got = _entry_bytes(client, gist_id, name, entry, limit)
    if len(got.body) > limit:
        raise msg.oversize(gist_id, name, len(got.body), limit, exact=got.complete)
    try:
        return got.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise msg.not_utf8(gist_id, name, exc) from None


def _owner(payload: Mapping[str, Any]) -> str | None:
    owner = payload.get("owner")
    return str(owner["login"]) if isinstance(owner, dict) and owner.get("login") else None


def _latest_revision(payload: Mapping[str, Any]) -> str | None:
    history = payload.get("history")
    if isinstance(history, list) and history and isinstance(history[0], dict):
        version = history[0].get("version")
        return str(version) if version else None
    return None


def _sha256(files: Mapping[str, str]) -> dict[str, str]:
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in files.items()}


def _check_required(gist_id: str, names: list[str], required: tuple[str, ...]) -> None:
    missing = [r for r in required if r not in names]
    if missing:
        raise msg.missing_files(gist_id, missing, names)


def _from_cache(hit: CachedGist, required: tuple[str, ...]) -> GistFiles:
    _check_required(hit.provenance.gist_id or "", list(hit.files), required)
    return GistFiles(files=hit.files, provenance=hit.provenance, description=hit.description)


def _download(
    client: Client, gist_id: str, revision: str | None, max_file_bytes: int, required: tuple[str, ...]
) -> GistFiles:
    url = f"{client.api}/gists/{gist_id}" + (f"/{revision}" if revision else "")
    reply = client.get(url, MAX_JSON_BYTES, label=f"gist {gist_id}")
    _raise_for_status(reply, url, gist_id, revision, has_token=bool(client.token))
    payload = _load_payload(reply, gist_id)
    entries: dict[str, Any] = payload["files"]
    _check_required(gist_id, list(entries), required)
    files = {
        str(name): _file_text(
            client, gist_id, str(name), entry if isinstance(entry, dict) else {}, max_file_bytes
        )
        for name, entry in entries.items()
    }
    provenance = Provenance(
        kind="gist",
        gist_id=gist_id,
        revision=revision or _latest_revision(payload),
        html_url=str(payload.get("html_url") or f"https://gist.github.com/{gist_id}"),
        owner=_owner(payload),
        files=_sha256(files),
        fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        from_cache=False,
    )
    return GistFiles(files=files, provenance=provenance, description=str(payload.get("description") or ""))


def _resolve_api(api_url: str | None) -> str:
    return (api_url or os.environ.get("TBWIDGETS_GITHUB_API") or DEFAULT_API).rstrip("/")


def fetch_gist(
    gist: str,
    *,
    revision: str | None = None,
    token: str | None = None,
    api_url: str | None = None,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    required: tuple[str, ...] = ("model.py",),
    attempts: int = 3,
    backoff_s: float = 0.5,
    progress: ProgressFn | None = None,
) -> GistFiles:
    """Fetch every file of a gist (id or URL), at `revision` or the URL's revision, else the latest.

    A pinned revision already cached is returned without network unless `refresh`. When the network
    fails (connection, timeout, 5xx after `attempts` tries with backoff `backoff_s`·2^n, or a spent
    rate limit), the cached copy is used with `provenance.from_cache=True`. `timeout` bounds the whole
    fetch (every request with its body, retries and backoff); `progress` gets bytes so far. Raises
    `GistError` (`EmptySourceError` for an empty id, `NotAGistError` for another URL).
    """
    gist_id, url_revision = parse_gist_ref(gist)
    revision = revision.strip() if revision else url_revision
    if revision is not None and not REVISION.match(revision):
        raise msg.bad_revision(revision)
    revision = revision.lower() if revision else None
    token = (token or os.environ.get("GITHUB_TOKEN") or "").strip() or None
    cache = GistCache(cache_dir)
    client = Client(_resolve_api(api_url), token, timeout, max(1, attempts), backoff_s, progress)
    try:
        if revision and not refresh and (hit := cache.load(gist_id, revision)):
            return _from_cache(hit, required)
        try:
            result = _download(client, gist_id, revision, max_file_bytes, required)
        except msg.TransientGistError as exc:
            hit = cache.load(gist_id, revision) if revision else cache.load_latest(gist_id)
            if hit is None:
                raise
            if refresh:
                again = " A cached copy exists: run again without refresh=True to use it."
                raise GistError(exc.cause, exc.fix + again, status=exc.status) from None
            log.warning("Using the cached copy of gist %s: %s", gist_id, exc.cause)
            return _from_cache(hit, required)
        cache.save(result.files, result.provenance, latest=revision is None, description=result.description)
        return result
    except GistError as exc:
        raise msg.redact(exc, token) from None
    finally:
        client.session.close()
