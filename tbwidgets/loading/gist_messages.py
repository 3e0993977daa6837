"""User-facing explanations for failed gist fetches: each builds a `GistError` naming cause and fix.

Kept apart from the HTTP client so the wording can be read (and reviewed) in one place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from datetime import datetime

from tbwidgets.loading.errors import EmptySourceError, GistError, NotAGistError

TOKEN_HELP = (
    "set the GITHUB_TOKEN environment variable to a GitHub personal access token (no scopes are needed "
    "to read gists; in Colab store it under Secrets and copy it into os.environ['GITHUB_TOKEN']). "
    "It raises the limit from 60 to 5,000 requests per hour."
)


class TransientGistError(GistError):
    """A failure that may pass on its own (network, timeout, 5xx, rate limit): a cached copy may stand in."""


def not_found(gist_id: str, revision: str | None) -> GistError:
    what = f"Gist {gist_id}" + (f" at revision {revision}" if revision else "")
    return GistError(
        f"{what} was not found (HTTP 404).",
        "Check the id for a typo (it is the 32-character code at the end of the gist's URL, "
        f"https://gist.github.com/<user>/{gist_id}); the gist may have been deleted; secret gists load "
        "by id without a token, but a gist you can only see when logged in needs GITHUB_TOKEN; make sure "
        "you copied the id from the right account (the latest Transformer Builder export)"
        + ("; check that the revision sha belongs to this gist." if revision else "."),
        status=404,
    )


def bad_token(status: int) -> GistError:
    return GistError(
        f"GitHub rejected the token (HTTP {status}, bad credentials).",
        "The token in GITHUB_TOKEN (or passed as token=) is wrong, expired or revoked. Create a new one "
        "at https://github.com/settings/tokens, or unset it: public and secret gists load without one.",
        status=status,
    )


def _reset_text(headers: Mapping[str, str], now: float | None = None) -> str:
    """When the next try may succeed, from `X-RateLimit-Reset` (epoch s) or `Retry-After` (s)."""
    now = time.time() if now is None else now
    reset: float | None = None
    try:
        if headers.get("X-RateLimit-Reset"):
            reset = float(headers["X-RateLimit-Reset"])
        elif headers.get("Retry-After"):
            reset = now + float(headers["Retry-After"])
    except ValueError:
        reset = None
    if reset is None:
        return "GitHub did not say when the limit resets (usually within the hour)."
    local = datetime.fromtimestamp(reset).astimezone()
    minutes = max(0, math.ceil((reset - now) / 60))
    return f"The next try can succeed at {local:%H:%M:%S} {local:%Z} (in {minutes} min)."


def rate_limited(status: int, headers: Mapping[str, str], has_token: bool) -> GistError:
    limit = headers.get("X-RateLimit-Limit") or ("5000" if has_token else "60")
    cause = (
        f"GitHub's API rate limit is used up (HTTP {status}; {limit} requests per hour, 0 left). "
        + _reset_text(headers)
    )
    if has_token:
        fix = "Your token's hourly quota is spent: wait until the reset time above, then run again."
    else:
        fix = f"Wait until the reset time above, or {TOKEN_HELP}"
    fix += " Gists fetched before are reused from the local cache."
    return TransientGistError(cause, fix, status=status)


def forbidden(status: int, message: str, has_token: bool) -> GistError:
    detail = f": {message}" if message else ""
    if has_token:
        fix = (
            "The token may lack permission or be blocked by an organisation policy (SSO). Try without a "
            "token (unset GITHUB_TOKEN) for a public or secret gist, or create a token with the 'gist' scope."
        )
    else:
        fix = f"GitHub refused an anonymous request; {TOKEN_HELP}"
    return GistError(f"GitHub refused access to the gist (HTTP {status}){detail}.", fix, status=status)


def unexpected_status(status: int, url: str, message: str) -> GistError:
    detail = f": {message}" if message else ""
    return GistError(
        f"GitHub answered HTTP {status} for {url}{detail}.",
        "Check the gist id and revision; if TBWIDGETS_GITHUB_API is set, check that it points to a GitHub API.",
        status=status,
    )


def unavailable(what: str, status: int | None, attempts: int) -> GistError:
    return TransientGistError(
        f"GitHub is unavailable: {what} (after {attempts} attempt{'s' if attempts != 1 else ''}).",
        "This is on GitHub's side or the network's: try again in a few minutes "
        "(https://www.githubstatus.com shows GitHub's state).",
        status=status,
    )


def timed_out(
    host: str, timeout: float, attempts: int, got: int, total: int | None, headers_seen: bool
) -> GistError:
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if headers_seen:
        of = f" of {total:,}" if total else ""
        cause = f"Downloading from {host} did not finish within {timeout:g} s ({got:,}{of} bytes received; {tries})."
    else:
        cause = f"{host} did not answer within {timeout:g} s ({tries})."
    return TransientGistError(
        cause,
        "Check the internet connection and try again later; on a slow link pass a larger timeout= to "
        "load_model (CLI: --timeout SECONDS).",
    )


def no_connection(host: str, reason: str, attempts: int) -> GistError:
    return TransientGistError(
        f"Could not connect to {host} ({attempts} attempt{'s' if attempts != 1 else ''}): {reason}.",
        "Check the internet connection (and proxy settings). If TBWIDGETS_GITHUB_API or api_url= is set, "
        "check that the address is right.",
    )


def bad_address(url: str, exc: Exception) -> GistError:
    return GistError(
        f"{url!r} is not a usable address: {exc}.",
        "Give the API base URL with its scheme, e.g. https://api.github.com or http://127.0.0.1:8000, "
        "in api_url= or TBWIDGETS_GITHUB_API.",
    )


def invalid_json(gist_id: str, body: bytes) -> GistError:
    start = body[:80].decode("utf-8", "replace").strip()
    return GistError(
        f"GitHub's answer for gist {gist_id} is not valid JSON (it starts with {start!r}).",
        "This is usually a proxy or captive-portal page, or a passing GitHub problem: try again. If "
        "TBWIDGETS_GITHUB_API is set, check that it points to a GitHub API.",
    )


def bad_answer(gist_id: str, what: str) -> GistError:
    return GistError(
        f"GitHub's answer for gist {gist_id} has an unexpected shape: {what}.",
        "Try again; if it persists, check TBWIDGETS_GITHUB_API and report it with the gist id.",
    )


def not_utf8(gist_id: str, name: str, exc: UnicodeError) -> GistError:
    where = f" (at byte {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""
    return GistError(
        f"File {name} in gist {gist_id} is not UTF-8 text{where}.",
        "Save the file as UTF-8 and update the gist, or re-export the model from Transformer Builder.",
    )


def oversize(gist_id: str, name: str, size: int, limit: int, exact: bool = True) -> GistError:
    amount = f"{size:,} bytes" if exact else f"more than {limit:,} bytes"
    return GistError(
        f"File {name} in gist {gist_id} is {amount}, above the {limit:,}-byte limit.",
        "A Transformer Builder model.py is a few kB: check that this is the right gist. If you trust it, "
        "pass a larger max_file_bytes= to load_model (CLI: --max-file-bytes N).",
    )


def missing_files(gist_id: str, missing: Iterable[str], present: Iterable[str]) -> GistError:
    have = ", ".join(sorted(present)) or "no files at all"
    return GistError(
        f"Gist {gist_id} has no {', '.join(missing)} (it holds: {have}).",
        "A Transformer Builder export holds model.py and config.json: export the model again from "
        "Transformer Builder and use the new gist id, or check that you copied the right id.",
    )


def empty_source(what: str = "gist id", value: str = "") -> EmptySourceError:
    """The source is empty or blank, most often an unset environment variable such as $GIST_ID."""
    return EmptySourceError(
        f"no {what} given — is GIST_ID set? (the {what} is {value!r})",
        "Set GIST_ID to your gist's 32-character id (the end of its URL, "
        "https://gist.github.com/<user>/<id>) or pass the gist URL; to try the built-in example, use "
        "`tbwidgets validate --example` or load_model() with no source.",
    )


def bad_reference(text: str) -> GistError:
    if "://" in text or text.lower().startswith(("www.", "github.com/")):
        github = "github.com" in text.lower()
        hint = (
            " It is a GitHub page, not a gist: clone the repository and pass the folder holding model.py, "
            "or put model.py (and its other .py files) in a gist."
            if github
            else ""
        )
        return NotAGistError(
            f"{text} is not a gist URL (tbwidgets loads gist pages, raw and embed URLs, gist ids, "
            f"folders and model.py files).{hint}",
            "Pass the gist's URL, such as https://gist.github.com/<user>/<id>, or its 32-character id "
            "(e.g. 8c78c86843e7253f6d66f4339ae15275).",
        )
    return NotAGistError(
        f"{text!r} is not a gist id or gist URL.",
        "Pass the 32-character id (e.g. 8c78c86843e7253f6d66f4339ae15275) or the gist's URL, such as "
        "https://gist.github.com/<user>/<id>.",
    )


def bad_revision(revision: str) -> GistError:
    return GistError(
        f"{revision!r} is not a gist revision.",
        "A revision is the hex commit sha shown in the gist's Revisions tab (40 characters).",
    )


def redact(exc: GistError, secret: str | None) -> GistError:
    """The same error with `secret` blanked out of its text (a server could echo it back)."""
    if not secret or secret not in str(exc):
        return exc
    cls = type(exc)
    return cls(exc.cause.replace(secret, "***"), exc.fix.replace(secret, "***"), status=exc.status)
