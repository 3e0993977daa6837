"""Report files of the commands (`validate`, `train`, `search`, `bench`): paths checked before the run, written after.

A path that cannot be written must fail in a second, not after minutes of checks; and one report
that fails to write (a full disk) must not cost the others. `-` sends a report to standard output
(`tbwidgets validate --json - | jq`); the human-readable lines then go to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tbwidgets.cli.args import UsageError

if TYPE_CHECKING:
    from tbwidgets.core import Report

REPORT_FLAGS = ("json", "html", "junit")
STDOUT = "-"  # a report path meaning standard output


def to_stdout(args: argparse.Namespace) -> bool:
    """Whether a report of this command goes to standard output."""
    return any(getattr(args, flag, None) == STDOUT for flag in REPORT_FLAGS)


@contextlib.contextmanager
def human_lines(args: argparse.Namespace) -> Iterator[None]:
    """Send what is printed for people to stderr while a report goes to stdout (keeps it parseable)."""
    with contextlib.redirect_stdout(sys.stderr) if to_stdout(args) else contextlib.nullcontext():
        yield


def write_text(target: str, render: Callable[..., Any]) -> str:
    """`render(path)` writes a file; to standard output `render()` returns the text. Returns a "Wrote" line."""
    if target != STDOUT:
        render(target)
        return f"Wrote {target}"
    sys.stdout.write(render().rstrip("\n") + "\n")
    sys.stdout.flush()
    return ""


def report_targets(args: argparse.Namespace) -> dict[str, str]:
    """{flag: path} of the report files asked for."""
    return {flag: getattr(args, flag) for flag in REPORT_FLAGS if getattr(args, flag, None) is not None}


def check_outputs(targets: dict[str, str]) -> None:
    """Raise UsageError naming the first report path that cannot be written (nothing is left behind)."""
    seen: dict[Path, str] = {}
    for flag, text in targets.items():
        if not text.strip():
            raise UsageError(
                f"--{flag} got an empty file name", f"Pass a file name, e.g. --{flag} report.{flag}."
            )
        path = Path(text).expanduser().resolve()  # a symlinked report path means its target
        if path in seen:
            raise UsageError(
                f"--{seen[path]} and --{flag} both write {'to standard output' if text == STDOUT else text}",
                "Give each report its own file; one of them may go to standard output (-).",
            )
        seen[path] = flag
        if text != STDOUT:
            _check_one(flag, text, path)


def _check_one(flag: str, text: str, path: Path) -> None:
    folder = path.parent
    if path.is_dir():
        raise UsageError(
            f"cannot write --{flag} {text}: it is a folder",
            f"Name a file inside it, e.g. --{flag} {path / ('report.' + ('xml' if flag == 'junit' else flag))}.",
        )
    if not folder.exists():
        raise UsageError(
            f"cannot write --{flag} {text}: the folder {folder} does not exist",
            f"Create it first (mkdir -p {folder}) or choose another path.",
        )
    if not folder.is_dir():
        raise UsageError(
            f"cannot write --{flag} {text}: {folder} is a file, not a folder", "Choose another path."
        )
    problem = _try_write(path)
    if problem:
        raise UsageError(
            f"cannot write --{flag} {text}: {problem}", "Choose a path in a folder you can write to."
        )


def _try_write(path: Path) -> str:
    """Prove the file can be written without changing it: open an existing one for appending, or
    create and remove a scratch file beside a new one (permission bits alone mislead root and
    read-only mounts)."""
    try:
        if path.exists():
            with open(path, "ab"):
                pass
        else:
            fd, scratch = tempfile.mkstemp(prefix=".tbwidgets-", dir=path.parent)
            os.close(fd)
            os.unlink(scratch)
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def write_reports(
    report: Report, targets: dict[str, str], say: Callable[[str], None], debug: bool = False
) -> list[str]:
    """Write every requested report; return the paths that failed (each failure already explained)."""
    renderers = {"json": report.to_json, "html": report.to_html, "junit": report.to_junit}
    failed = []
    for flag, target in targets.items():
        try:
            if target == STDOUT:
                write_text(target, renderers[flag])
                continue
            _write_atomically(Path(target).expanduser().resolve(), renderers[flag]())
        except BrokenPipeError:
            raise  # the reader of standard output is gone: nothing to explain to it
        except Exception as exc:  # noqa: BLE001 - one broken report must not cost the others
            if debug:
                traceback.print_exc()
            say(f"error: could not write --{flag} {target}: {_reason(exc)}")
            failed.append(target)
        else:
            say(f"Wrote {target}")
    return failed


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename: an interrupted write never leaves half a report."""
    mode = path.stat().st_mode & 0o777 if path.exists() else _new_file_mode()
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(scratch, mode)  # mkstemp makes 0600; a report should read like any file the user writes
        os.replace(scratch, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
        raise


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
