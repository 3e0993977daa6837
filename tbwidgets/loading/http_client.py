"""The gist fetch's HTTP client: one overall deadline per request, retries inside a total budget.

requests' `timeout=` bounds each socket read, so a server that trickles a byte every few seconds
would never time out. Here every request runs in a worker thread that streams the body in small
reads, while the calling thread waits on a monotonic deadline (connect + headers + the whole body),
reports bytes so far, and stays interruptible by Ctrl-C. `timeout` is the budget of the whole fetch:
failed tries are retried with backoff only while that budget lasts.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
import urllib3

from tbwidgets._version import __version__
from tbwidgets.loading import gist_messages as msg
from tbwidgets.loading.errors import GistError
from tbwidgets.loading.progress import LoadProgress, ProgressFn, human_bytes

API_VERSION = "2022-11-28"
USER_AGENT = f"tbwidgets/{__version__}"
RAW_GIST_HOST = "gist.githubusercontent.com"
_CHUNK = 65536
_TICK_S = 0.25  # how often the waiting thread reports progress and re-checks the deadline


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    complete: bool  # False when reading stopped at the size limit


@dataclass
class _Transfer:
    """State shared between the worker thread and the waiting one (plain writes of whole values)."""

    deadline: float
    got: int = 0
    total: int | None = None
    headers_seen: bool = False
    reply: Reply | None = None
    error: BaseException | None = None
    abandoned: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class _DeadlinePassed(Exception):
    def __init__(self, transfer: _Transfer) -> None:
        super().__init__("deadline passed")
        self.transfer = transfer


@dataclass
class Client:
    """One fetch's HTTP settings and budget; `get` retries 5xx, timeouts and connection errors."""

    api: str
    token: str | None
    timeout: float  # seconds for the whole fetch: every request, body, retry and backoff
    attempts: int
    backoff_s: float
    progress: ProgressFn | None = None
    session: requests.Session = field(default_factory=requests.Session)
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.started + self.timeout - time.monotonic()

    def _headers(self, url: str) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Api-Version": API_VERSION,
        }
        host = urlsplit(url).netloc.lower()
        if self.token and host in {urlsplit(self.api).netloc.lower(), RAW_GIST_HOST}:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, url: str, limit: int, label: str = "") -> Reply:
        """GET `url` (at most `limit` body bytes kept), retrying transient failures inside the budget."""
        host = urlsplit(url).netloc
        failure: GistError | None = None
        for attempt in range(self.attempts):
            if attempt:
                pause = self.backoff_s * 2 ** (attempt - 1)
                if pause >= self.remaining():
                    break  # no time left for another try
                self._note_retry(failure, attempt)
                time.sleep(pause)
            left = self.remaining()
            if left <= 0:
                break
            # Share what is left among the tries still possible for connect and headers; the body
            # may then use the whole remaining budget (a large file on a slow link).
            first_byte_s = left / (self.attempts - attempt)
            try:
                reply = self._request(url, limit, left, first_byte_s, label or url)
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
            ) as exc:
                raise msg.bad_address(url, exc) from None
            except _DeadlinePassed as exc:
                t = exc.transfer
                failure = msg.timed_out(host, self.timeout, attempt + 1, t.got, t.total, t.headers_seen)
                continue
            except (requests.Timeout, urllib3.exceptions.TimeoutError):
                failure = msg.timed_out(host, self.timeout, attempt + 1, 0, None, False)
                continue
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                failure = msg.no_connection(host, _short_reason(exc), attempt + 1)
                continue
            if reply.status < 500:
                return reply
            failure = msg.unavailable(f"HTTP {reply.status} from {host}", reply.status, attempt + 1)
        if failure is None:  # the budget was spent before the first try (timeout <= 0)
            failure = msg.timed_out(host, self.timeout, 0, 0, None, False)
        raise failure

    def _request(self, url: str, limit: int, left: float, first_byte_s: float, label: str) -> Reply:
        """One GET that ends by `left` seconds from now, whatever the server does."""
        t = _Transfer(deadline=time.monotonic() + left)
        worker = threading.Thread(
            target=self._transfer, args=(url, limit, first_byte_s, t), name="tbwidgets-gist-get", daemon=True
        )
        worker.start()
        reported = 0
        try:
            while not t.done.wait(max(0.0, min(_TICK_S, t.deadline - time.monotonic()))):
                if time.monotonic() >= t.deadline:
                    raise _DeadlinePassed(t)
                if t.got != reported:
                    reported = t.got
                    self._report(label, t)
        finally:
            t.abandoned.set()  # the worker stops at its next read (Ctrl-C, deadline or done)
        if t.error is not None:
            raise t.error
        assert t.reply is not None  # the worker sets reply or error before done
        return t.reply

    def _note_retry(self, failure: GistError | None, attempt: int) -> None:
        if self.progress is not None and failure is not None:
            left = max(0.0, self.remaining())
            note = (
                f"{failure.cause} Trying again (attempt {attempt + 1} of {self.attempts}, {left:.0f} s left)."
            )
            self.progress(LoadProgress("retry", note))

    def _report(self, label: str, t: _Transfer) -> None:
        if self.progress is None:
            return
        of = f" of {human_bytes(t.total)}" if t.total else ""
        note = f"Downloading {label}: {human_bytes(t.got)}{of}"
        self.progress(LoadProgress("download", note, t.got, t.total))

    def _transfer(self, url: str, limit: int, first_byte_s: float, t: _Transfer) -> None:
        try:
            t.reply = self._stream(url, limit, first_byte_s, t)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which re-raises it
            t.error = exc
        finally:
            t.done.set()

    def _stream(self, url: str, limit: int, first_byte_s: float, t: _Transfer) -> Reply:
        timeout = (first_byte_s, first_byte_s)  # connect, and each socket read (headers, then chunks)
        with self.session.get(url, headers=self._headers(url), timeout=timeout, stream=True) as resp:
            t.headers_seen = True
            length = resp.headers.get("Content-Length", "")
            t.total = int(length) if length.isdigit() else None
            read = getattr(resp.raw, "read1", None) or resp.raw.read  # read1: whatever has arrived
            body = bytearray()
            while not t.abandoned.is_set() and time.monotonic() < t.deadline:
                chunk = read(_CHUNK, decode_content=True)
                if not chunk:
                    return Reply(resp.status_code, resp.headers, bytes(body), complete=True)
                body += chunk
                t.got = len(body)
                if len(body) > limit:  # enough to know it is too big; do not read the rest
                    return Reply(resp.status_code, resp.headers, bytes(body), complete=False)
            raise _DeadlinePassed(t)


def _short_reason(exc: Exception) -> str:
    """The innermost reason of a requests error, without the long urllib3 wrapper text."""
    text = str(exc.args[0]) if exc.args else str(exc)
    found = re.search(r"\[Errno -?\d+\][^')\"]*|Connection refused|Name or service not known", text)
    return found.group(0).strip() if found else text[:200]
