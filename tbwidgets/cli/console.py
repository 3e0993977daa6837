"""Text that survives any output encoding: ASCII stand-ins for the symbols our messages use.

`PYTHONIOENCODING=ascii`, a C locale or a Windows code page must never turn a "≤" into a
UnicodeEncodeError. `make_streams_safe()` gives stdout/stderr an error handler that writes "<=" for
"≤", "--" for "—", accent-free letters for accented ones and "?" for anything else; `fit()` does the
same for a stream the CLI did not set up (a listener's own stream).
"""

from __future__ import annotations

import codecs
import sys
import unicodedata
from typing import TextIO

ERRORS = "tbwidgets-ascii"

_STAND_INS = {
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "≈": "~",
    "±": "+/-",
    "×": "x",
    "—": "--",
    "–": "-",
    "…": "...",
    "·": "-",
    "•": "*",
    "→": "->",
    "←": "<-",
    "✓": "ok",
    "✔": "ok",
    "✗": "x",
    "✘": "x",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "°": " deg",
    "µ": "u",
    "█": "#",
    "░": ".",
}
_PROBE = "≤—✓…"  # if a stream cannot encode these, it needs the fallback


def _stand_in(char: str) -> str:
    if char in _STAND_INS:
        return _STAND_INS[char]
    # é → e: decompose and keep the ASCII base letter; anything else becomes "?"
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    return plain or "?"


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_stand_in(c) for c in bad), error.end


codecs.register_error(ERRORS, _fallback)


def _encoding(stream: object) -> str | None:
    encoding = getattr(stream, "encoding", None)
    return encoding if isinstance(encoding, str) else None


def needs_fallback(stream: object) -> bool:
    """True when `stream` cannot write our symbols as they are."""
    encoding = _encoding(stream)
    if encoding is None:
        return False  # StringIO and friends hold str: nothing is encoded
    try:
        _PROBE.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return True
    return False


def make_streams_safe() -> None:
    """Give sys.stdout and sys.stderr the fallback when their encoding lacks our symbols."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and needs_fallback(stream):
            reconfigure(errors=ERRORS)


def fit(text: str, stream: TextIO) -> str:
    """`text` as `stream` can write it: unchanged when it can, with ASCII stand-ins otherwise."""
    encoding = _encoding(stream)
    if encoding is None or not needs_fallback(stream):
        return text
    try:
        return text.encode(encoding, ERRORS).decode(encoding)
    except LookupError:
        return text.encode("ascii", ERRORS).decode("ascii")


def silence_stdout() -> None:
    """Point stdout at /dev/null: after a broken pipe, Python's flush at exit must not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured): nothing to flush
        pass
