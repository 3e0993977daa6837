"""A fake GitHub Gists API on 127.0.0.1 for tests, demos and browser checks.

It answers like api.github.com for what tbwidgets uses: ``GET /gists/{id}``, ``GET /gists/{id}/{sha}``
and raw file URLs (``/{owner}/{id}/raw/{sha}/{name}``, pointing back to itself). Failures are scripted
(`fail_next`, `rate_limit_next`, `stall_next`, `drip_next`) and every request is logged with its headers.
`silent_server()` is a socket that accepts connections and never answers at all.

In pytest (fixtures exported by ``tests/conftest.py``)::

    def test_x(fake_gist_api):
        gist = fake_gist_api.add_gist("0123…", {"model.py": "…", "config.json": "{}"})
        fetch_gist(gist.id, api_url=fake_gist_api.url)

    def test_y(fake_gist_env):  # same server, plus TBWIDGETS_GITHUB_API / TBWIDGETS_CACHE_DIR set
        fake_gist_env.add_tb_example()  # the Transformer Builder example under TB_EXAMPLE_GIST_ID

Outside pytest: ``server, url = serve_fake_gist_api({"<id>": {"model.py": "…"}})``, then
``server.stop()``; or from a shell: ``python -m tests.fakes.gist_server --tb-example``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

TB_EXAMPLE_GIST_ID = "0123456789abcdef0123456789abcdef"  # obviously fake, but a valid 32-hex id
TB_EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "tbwidgets" / "loading" / "examples" / "tb_gist"
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)  # fixed, so revision dates are reproducible

Content = str | bytes


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake received: method, path (with query) and headers."""

    method: str
    path: str
    headers: Mapping[str, str]

    @property
    def auth(self) -> str | None:
        """The Authorization header, if any."""
        return self.headers.get("Authorization")


@dataclass
class FakeGist:
    """A registered gist. `shas` and `revisions` are newest first; `sha` is the latest revision."""

    id: str
    owner: str
    description: str
    revisions: list[dict[str, bytes]]
    shas: list[str]
    truncate: frozenset[str] = frozenset()

    @property
    def sha(self) -> str:
        return self.shas[0]

    @property
    def html_url(self) -> str:
        return f"https://gist.github.com/{self.owner}/{self.id}"


@dataclass
class _Scripted:
    status: int | None  # None: answer normally (after `delay`)
    headers: dict[str, str]
    body: bytes
    delay: float
    times: int
    path: str | None  # only requests whose path starts with this
    drip_s: float = 0.0  # > 0: send the headers, then the body one byte every drip_s seconds


def _as_bytes(content: Content) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def _revision_sha(gist_id: str, index: int, files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha1(f"{gist_id}:{index}".encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    return digest.hexdigest()


def load_tb_example(folder: Path = TB_EXAMPLE_DIR) -> dict[str, bytes]:
    """The files of the Transformer Builder example gist, read when called (not at import)."""
    files = {
        p.name: p.read_bytes()
        for p in sorted(folder.glob("*"))
        if p.is_file() and not p.name.startswith((".", "__")) and p.suffix != ".pyc"
    }
    if "model.py" not in files:
        raise FileNotFoundError(f"No Transformer Builder example (model.py) in {folder}")
    return files


class FakeGistAPI:
    """The fake server. Use as a context manager, or call `start()` and `stop()`."""

    def __init__(self) -> None:
        self.url = ""
        self.gists: dict[str, FakeGist] = {}
        self.valid_tokens: set[str] | None = None  # when set, any other bearer token gets 401
        self.delay = 0.0  # seconds every answer waits (on top of scripted stalls)
        self.raw_base: str | None = None  # serve raw_url on another host (e.g. a second fake)
        self._log: list[LoggedRequest] = []
        self._script: list[_Scripted] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[Any] = set()  # open client sockets, closed on stop()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> FakeGistAPI:
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True  # stalled handlers must not keep the process alive
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll interval makes stop() return in milliseconds instead of up to half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-gist-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; later requests get "connection refused". Stalled answers are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:  # kept-alive connections would otherwise still be served
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeGistAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content ------------------------------------------------------------------------------------
    def add_gist(
        self,
        gist_id: str,
        files: Mapping[str, Content],
        *,
        owner: str = "tb-user",
        revisions: Sequence[Mapping[str, Content]] = (),
        truncate: Sequence[str] = (),
        description: str = "CustomTransformer - Transformer Builder Export",
    ) -> FakeGist:
        """Register a gist whose latest files are `files`; `revisions` are older file sets, oldest first.

        Files named in `truncate`, and bytes that are not UTF-8, are served with `"truncated": true`
        and half their text inline, so a client must fetch `raw_url` to get them whole.
        """
        history = [*revisions, files]  # oldest first
        as_bytes = [{n: _as_bytes(c) for n, c in rev.items()} for rev in history]
        shas = [_revision_sha(gist_id, i, rev) for i, rev in enumerate(as_bytes)]
        gist = FakeGist(gist_id, owner, description, as_bytes[::-1], shas[::-1], frozenset(truncate))
        with self._lock:
            self.gists[gist_id] = gist
        return gist

    def add_tb_example(self, gist_id: str = TB_EXAMPLE_GIST_ID, folder: Path = TB_EXAMPLE_DIR) -> FakeGist:
        """Serve the Transformer-Builder-style example from `tbwidgets/loading/examples/tb_gist/`."""
        return self.add_gist(gist_id, load_tb_example(folder))

    # -- scripted failures --------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        times: int = 1,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` requests (whose path starts with `path`, if given) with `status`.

        The default body is GitHub's JSON error shape. Any status works, e.g. 200 with a broken body.
        """
        if body is None:
            body = json.dumps(
                {"message": f"Scripted {status}", "documentation_url": "https://docs.github.com"}
            )
        self._push(_Scripted(status, dict(headers or {}), _as_bytes(body), 0.0, times, path))

    def rate_limit_next(self, status: int = 403, *, reset_in_s: float = 600, times: int = 1) -> int:
        """Script GitHub's rate-limit answer; returns the `X-RateLimit-Reset` epoch it announces."""
        reset = int(time.time() + reset_in_s)
        headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
        body = {
            "message": "API rate limit exceeded for 127.0.0.1.",
            "documentation_url": "https://docs.github.com",
        }
        self.fail_next(status, headers=headers, body=json.dumps(body), times=times)
        return reset

    def stall_next(self, seconds: float, *, times: int = 1, path: str | None = None) -> None:
        """Wait `seconds` before answering the next `times` requests normally (to provoke timeouts)."""
        self._push(_Scripted(None, {}, b"", seconds, times, path))

    def drip_next(self, every_s: float, *, times: int = 1, path: str | None = None) -> None:
        """Answer the next `times` requests normally, but send the body one byte every `every_s` s.

        Headers (with the full Content-Length) go out at once, so only an overall deadline catches it:
        a per-read timeout longer than `every_s` never fires.
        """
        self._push(_Scripted(None, {}, b"", 0.0, times, path, drip_s=every_s))

    def _push(self, item: _Scripted) -> None:
        with self._lock:
            self._script.append(item)

    def _take_script(self, path: str) -> _Scripted | None:
        with self._lock:
            for item in self._script:
                if item.path is None or path.startswith(item.path):
                    item.times -= 1
                    if item.times <= 0:
                        self._script.remove(item)
                    return item
        return None

    # -- request log --------------------------------------------------------------------------------
    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._log)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- answers (called from handler threads) ------------------------------------------------------
    def gist_json(self, gist: FakeGist, index: int) -> dict[str, Any]:
        sha, files = gist.shas[index], gist.revisions[index]
        return {
            "url": f"{self.url}/gists/{gist.id}",
            "id": gist.id,
            "html_url": gist.html_url,
            "description": gist.description,
            "public": True,
            "owner": {"login": gist.owner, "id": 1, "type": "User"},
            "files": {name: self._file_json(gist, sha, name, data) for name, data in files.items()},
            "history": [
                {
                    "version": s,
                    "committed_at": (_EPOCH + timedelta(days=len(gist.shas) - i)).isoformat(),
                    "url": f"{self.url}/gists/{gist.id}/{s}",
                    "user": {"login": gist.owner},
                }
                for i, s in enumerate(gist.shas[index:], start=index)
            ],
        }

    def _file_json(self, gist: FakeGist, sha: str, name: str, data: bytes) -> dict[str, Any]:
        try:
            text, truncated = data.decode("utf-8"), name in gist.truncate
        except UnicodeDecodeError:
            text, truncated = data.decode("utf-8", "replace"), True
        return {
            "filename": name,
            "type": "text/plain",
            "language": "Python" if name.endswith(".py") else None,
            "raw_url": f"{self.raw_base or self.url}/{gist.owner}/{gist.id}/raw/{sha}/{quote(name)}",
            "size": len(data),
            "truncated": truncated,
            "content": text[: len(text) // 2] if truncated else text,
        }


def _error_body(message: str) -> bytes:
    return json.dumps({"message": message, "documentation_url": "https://docs.github.com/rest"}).encode()


class _Handler(BaseHTTPRequestHandler):
    api: FakeGistAPI  # set on the subclass made in FakeGistAPI.start
    protocol_version = "HTTP/1.1"
    drip_s = 0.0  # set per request from the script (see FakeGistAPI.drip_next)

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # a client that hangs up early is not an error here
            super().handle()

    def setup(self) -> None:
        super().setup()
        with self.api._lock:
            self.api._connections.add(self.connection)

    def finish(self) -> None:
        with self.api._lock:
            self.api._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        api = self.api
        with api._lock:
            api._log.append(LoggedRequest("GET", self.path, dict(self.headers.items())))
        scripted = api._take_script(self.path)
        delay = api.delay + (scripted.delay if scripted else 0.0)
        if delay and api._stopping.wait(delay):
            self.close_connection = True
            return  # server stopping: drop the answer
        self.drip_s = scripted.drip_s if scripted else 0.0
        try:
            if scripted is not None and scripted.status is not None:
                self._send(scripted.status, scripted.body, scripted.headers)
            else:
                self._route()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired); nothing to answer

    def _route(self) -> None:
        auth = self.headers.get("Authorization")
        valid = self.api.valid_tokens
        if auth and valid is not None and auth.removeprefix("Bearer ").strip() not in valid:
            return self._send(401, _error_body("Bad credentials"))
        parts = [unquote(p) for p in urlsplit(self.path).path.split("/") if p]
        gist = self.api.gists.get(parts[1] if len(parts) > 1 and parts[0] == "gists" else "")
        if gist is not None and len(parts) in (2, 3):
            index = gist.shas.index(parts[2]) if len(parts) == 3 and parts[2] in gist.shas else -1
            if len(parts) == 2 or index >= 0:
                body = json.dumps(self.api.gist_json(gist, max(index, 0))).encode()
                return self._send(200, body, {"Content-Type": "application/json; charset=utf-8"})
        if len(parts) == 5 and parts[2] == "raw" and parts[1] in self.api.gists:
            gist = self.api.gists[parts[1]]
            if parts[3] in gist.shas and parts[4] in gist.revisions[gist.shas.index(parts[3])]:
                data = gist.revisions[gist.shas.index(parts[3])][parts[4]]
                return self._send(200, data, {"Content-Type": "text/plain; charset=utf-8"})
        self._send(404, _error_body("Not Found"))

    def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        merged = {"Content-Type": "application/json; charset=utf-8", "X-RateLimit-Limit": "60"}
        merged.update(headers or {})
        for key, value in merged.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not self.drip_s:
            self.wfile.write(body)
            return
        self.wfile.flush()
        for i in range(len(body)):  # trickle: each byte arrives well within any per-read timeout
            if self.api._stopping.wait(self.drip_s):
                self.close_connection = True
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A base URL whose server accepts TCP connections (the kernel's backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # never accept(): connects succeed, requests are swallowed, nothing comes back
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def serve_fake_gist_api(gists: Mapping[str, Mapping[str, Content]] | None = None) -> tuple[FakeGistAPI, str]:
    """Start a fake API serving `gists` ({id: {file name: content}}); returns (server, base URL)."""
    server = FakeGistAPI().start()
    for gist_id, files in (gists or {}).items():
        server.add_gist(gist_id, files)
    return server, server.url


@pytest.fixture
def fake_gist_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGistAPI]:
    """A running fake Gists API for one test (see the module docstring)."""
    for name in ("NO_PROXY", "no_proxy"):  # a CI proxy must not swallow loopback requests
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
    with FakeGistAPI() as api:
        yield api


@pytest.fixture
def fake_gist_env(
    fake_gist_api: FakeGistAPI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[FakeGistAPI]:
    """`fake_gist_api`, with TBWIDGETS_GITHUB_API pointing at it, a fresh cache dir and no GITHUB_TOKEN."""
    monkeypatch.setenv("TBWIDGETS_GITHUB_API", fake_gist_api.url)
    monkeypatch.setenv("TBWIDGETS_CACHE_DIR", str(tmp_path / "gist-cache"))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    yield fake_gist_api


def _main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve a fake GitHub Gists API on 127.0.0.1.")
    parser.add_argument(
        "--tb-example", action="store_true", help=f"serve the example as {TB_EXAMPLE_GIST_ID}"
    )
    parser.add_argument("--gist", nargs=2, action="append", default=[], metavar=("ID", "DIR"),
                        help="serve the files in DIR as gist ID (repeatable)")  # fmt: skip
    args = parser.parse_args(argv)
    server, url = serve_fake_gist_api()
    if args.tb_example:
        server.add_tb_example()
    for gist_id, folder in args.gist:
        server.add_gist(gist_id, load_tb_example(Path(folder)))
    print(f"Fake Gists API at {url} serving {', '.join(server.gists) or 'no gists'}")
    print(f"Use it with: TBWIDGETS_GITHUB_API={url}   (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    _main()
