"""What `tbwidgets validate` was asked to do, checked before anything slow happens.

Every problem here is a usage error (exit 2) whose message names the flag and the fix. An empty value
is never read as "nothing given": `--gist "$GIST_ID"` with an unset variable must not quietly
validate the built-in example and turn a CI run green.
"""

from __future__ import annotations

import argparse
from typing import Any

from tbwidgets.api import TIERS


class UsageError(Exception):
    """A command line that cannot be run as given; `fix` says what to write instead."""

    def __init__(self, cause: str, fix: str = "") -> None:
        super().__init__(cause)
        self.cause = cause
        self.fix = fix


_EMPTY = {
    "gist": ("no gist id given — is GIST_ID set? (--gist got an empty value)", "gist"),
    "source": ("no gist id given — is GIST_ID set? (the model source argument is empty)", "gist"),
    "path": ("no path given — --path got an empty value; is the variable you passed set?", "path"),
    "revision": ("no revision given — --revision got an empty value; is the variable you passed set?", "rev"),
}
_FIXES = {
    "gist": "Set it (export GIST_ID=<32 hex characters>) or pass the id or gist URL; "
    "use --example for the built-in example model.",
    "path": "Pass a folder holding model.py, or the model.py file.",
    "rev": "Pass a revision sha, or leave --revision out for the latest revision.",
}


def add_source_arguments(p: argparse.ArgumentParser, *, download_flags: bool = True) -> None:
    """The model-source options every command shares (validate, train, search, bench).

    `download_flags=False` leaves out --timeout and --max-file-bytes for a command whose own --timeout
    means something else (search: no new trial after N seconds).
    """
    p.add_argument("source", nargs="?", help="gist id or URL, a directory or model.py path")
    p.add_argument("--gist", metavar="ID|URL", help="load model.py and config.json from this GitHub Gist")
    p.add_argument("--revision", metavar="SHA", help="pin the gist revision")
    p.add_argument(
        "--path", metavar="P", help="a directory holding model.py (and config.json), or a model.py"
    )
    p.add_argument("--example", action="store_true", help="use the built-in example model")
    if download_flags:
        p.add_argument(
            "--timeout",
            dest="download_timeout",
            type=positive_seconds,
            metavar="SECONDS",
            help="deadline for the whole gist download",
        )
        p.add_argument(
            "--max-file-bytes", type=positive_bytes, metavar="N", help="largest gist file accepted (e.g. 5M)"
        )


def source_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """`load_model` keywords for the one model source given; UsageError when none, several or empty."""
    for name, (cause, fix) in _EMPTY.items():
        value = getattr(args, name)
        if value is not None and not value.strip():
            raise UsageError(cause, _FIXES[fix])
    given = [name for name in ("source", "gist", "path") if getattr(args, name)] + (
        ["example"] if args.example else []
    )
    if len(given) > 1:
        raise UsageError(f"give one model source, not {' and '.join(given)}")
    if not given:
        raise UsageError(
            "no model source given",
            "Pass a gist id or URL (--gist ID), a folder or model.py (--path P), "
            "or --example for the built-in example model.",
        )
    kwargs: dict[str, Any] = {
        "revision": args.revision,
        "task": getattr(args, "task", None),
        "device": getattr(args, "device", None),
        "timeout": getattr(args, "download_timeout", None),
        "max_file_bytes": getattr(args, "max_file_bytes", None),
    }
    if args.gist:
        kwargs["gist_id"] = args.gist.strip()
    elif args.path:
        kwargs["path"] = args.path
    elif args.source:
        kwargs["source"] = args.source.strip()
    return {k: v for k, v in kwargs.items() if v is not None}


def source_value(kwargs: dict[str, Any]) -> str | None:
    """The one source in `source_kwargs(...)` as `load_model`'s first argument (None = the example)."""
    return kwargs.get("gist_id") or kwargs.get("path") or kwargs.get("source")


def parse_tiers(text: str) -> list[int]:
    """--tiers "1", "2" or "1,2" → [1, 2]."""
    try:
        tiers = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"--tiers takes numbers like 1 or 1,2; got {text!r}") from None
    bad = [t for t in tiers if t not in TIERS]
    if bad or not tiers:
        raise UsageError(f"--tiers takes 1 and/or 2 (tier 3 is training); got {text!r}")
    return list(dict.fromkeys(tiers))


def at_least_one(text: str) -> int:
    """argparse type of counts such as --n-trials: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number of 1 or more, e.g. 20; got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type of --timeout."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"takes a number of seconds above 0, e.g. 60; got {text!r}")
    return value


def positive_bytes(text: str) -> int:
    """argparse type of --max-file-bytes: a whole number of bytes, optionally with k/M (1000s)."""
    units = {"k": 1_000, "m": 1_000_000}
    plain = text.strip().lower().removesuffix("b")
    scale = units.get(plain[-1:], 1)
    try:
        value = int(float(plain[:-1] if scale > 1 else plain) * scale)
    except (ValueError, OverflowError):
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"takes a number of bytes above 0, e.g. 5000000 or 5M; got {text!r}")
    return value
