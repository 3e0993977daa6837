"""Guard the import of model.py: refuse code that trains at import, say which line runs long, stop it.

A script saved as model.py (data loading and a training loop at the top level) is a common mistake:
importing it trains for hours or waits for `input()`. Before anything runs, an AST scan of the
top-level statements (not function or class bodies, not `if __name__ == "__main__":`) finds training
calls, `input()`, endless loops and file reads. While the import runs, a watchdog thread samples the
importing thread's frame, reports the running line once it passes a few seconds, and on Stop raises
`ImportStopped` in that thread; Ctrl-C arrives as KeyboardInterrupt. Both become `LoadInterrupted`.
Stop lands between bytecodes, so one long C call (a top-level `time.sleep(300)`) ends first; Ctrl-C
in the main thread interrupts such calls too.
"""

from __future__ import annotations

import ast
import ctypes
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Container
from dataclasses import dataclass

from tbwidgets.loading.errors import LoadError
from tbwidgets.loading.progress import LoadProgress, ProgressFn

log = logging.getLogger(__name__)

SLOW_IMPORT_S = 3.0  # an export imports in well under a second; past this, say what is running
_TRAINING_ATTRS = {"backward", "fit", "train_model", "train_epoch", "fit_one_cycle"}
_STEP_OWNERS = ("optim", "opt", "sched", "trainer", "scaler")
_READ_CALLS = {"open", "load_dataset", "read_csv", "read_json", "read_parquet", "read_text", "read_bytes",
               "urlopen", "urlretrieve", "snapshot_download", "hf_hub_download"}  # fmt: skip
_LOAD_OWNERS = {"torch", "np", "numpy", "pickle", "joblib", "pd", "pandas", "json"}
BLOCKING = {"training", "input", "endless loop"}

Cancel = Callable[[], bool]


class ImportStopped(BaseException):
    """Raised inside the importing thread when Stop is pressed (BaseException: user `except Exception` won't eat it)."""


@dataclass(frozen=True)
class TopLevelWork:
    """Work that runs when the file is imported: `kind` is training, input, endless loop, file or loop."""

    line: int
    kind: str
    text: str  # the call or statement, as written
    via: str = ""  # "train(), which calls loss.backward() at line 60"
    end: int = 0  # last line of a loop (0 for calls)


def _call_kind(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return "input" if func.id == "input" else "file" if func.id in _READ_CALLS else None
    if not isinstance(func, ast.Attribute):
        return None
    owner = ast.unparse(func.value).lower()
    if func.attr in _TRAINING_ATTRS or (func.attr == "step" and any(o in owner for o in _STEP_OWNERS)):
        return "training"
    if func.attr in _READ_CALLS or (func.attr == "load" and owner in _LOAD_OWNERS):
        return "file"
    return None


def _is_main_guard(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.If)
        and "__name__" in ast.unparse(node.test)
        and "__main__" in ast.unparse(node.test)
    )


def _walk_top(nodes: list[ast.stmt]) -> list[ast.AST]:
    """Every node that runs at import: statements and expressions, not inside defs or the main guard."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.stmt) and _is_main_guard(node):
            continue
        out.append(node)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return out


def _function_work(tree: ast.Module) -> dict[str, tuple[str, ast.Call]]:
    """Top-level functions whose bodies train or read input: name → (kind, the call)."""
    found: dict[str, tuple[str, ast.Call]] = {}
    for fn in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        for call in (c for c in ast.walk(fn) if isinstance(c, ast.Call)):
            kind = _call_kind(call)
            if kind in ("training", "input"):
                found[fn.name] = (kind, call)
                break
    return found


def scan_top_level(code: str) -> list[TopLevelWork]:
    """What importing `code` would do besides defining things, in line order (empty for a clean export)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []  # the import itself reports syntax errors with the line
    helpers = _function_work(tree)
    work: list[TopLevelWork] = []
    for node in _walk_top(tree.body):
        if isinstance(node, ast.While) and ast.unparse(node.test) in ("True", "1"):
            if not any(isinstance(n, ast.Break) for n in ast.walk(node)):
                work.append(TopLevelWork(node.lineno, "endless loop", f"while {ast.unparse(node.test)}:"))
        elif isinstance(node, (ast.For, ast.While)):
            head = ast.unparse(node).splitlines()[0]
            work.append(TopLevelWork(node.lineno, "loop", head, end=node.end_lineno or node.lineno))
        elif isinstance(node, ast.Call):
            kind = _call_kind(node)
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if kind is not None:
                work.append(TopLevelWork(node.lineno, kind, ast.unparse(node)[:80]))
            elif name in helpers:
                hkind, inner = helpers[name]
                via = f"{name}(), which calls {ast.unparse(inner)[:60]} at line {inner.lineno}"
                work.append(TopLevelWork(node.lineno, hkind, ast.unparse(node)[:80], via))
    return sorted(work, key=lambda w: w.line)


def refuse_blocking(work: list[TopLevelWork], filename: str) -> None:
    """A LoadError naming the first line that would train, wait for input or loop forever."""
    first = next((w for w in work if w.kind in BLOCKING), None)
    if first is None:
        return
    name = filename.rsplit("/", 1)[-1]
    what = {"training": "trains", "input": "waits for keyboard input", "endless loop": "loops forever"}[
        first.kind
    ]
    via = f" (it calls {first.via})" if first.via else ""
    raise LoadError(
        f"{name} {what} when imported: line {first.line}, `{first.text}`{via}, runs at the top level "
        "of the file, outside any function or class, so loading the model would run it.",
        f"Keep only the model's classes (and helpers) at the top level of {name}: move the script part "
        '(data, training loop, input) under `if __name__ == "__main__":` or into another file. '
        "tbwidgets imports the file only to build the model.",
    )


def running_line(tid: int, filenames: Container[str]) -> tuple[str, int] | None:
    """(file, line) of the innermost frame of thread `tid` that is in one of `filenames`."""
    frame: types.FrameType | None = sys._current_frames().get(tid)
    while frame is not None:
        if frame.f_code.co_filename in filenames:
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


class Watchdog:
    """While the import runs: report a slow line after `slow_s`, and raise ImportStopped on cancel."""

    def __init__(
        self, filenames: Container[str], describe: Callable[[str, int], str], progress: ProgressFn | None,
        cancel: Cancel | None, slow_s: float = SLOW_IMPORT_S,
    ) -> None:  # fmt: skip
        self.filenames, self.describe, self.progress, self.cancel = filenames, describe, progress, cancel
        self.slow_s = slow_s
        self._tid = threading.get_ident()
        self._lock = threading.Lock()
        self._running = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="tbwidgets-import-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._running = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:  # after this, no ImportStopped can be raised into this thread any more
            self._running = False
        self._done.set()

    def _watch(self) -> None:
        start, next_note = time.monotonic(), self.slow_s
        while not self._done.wait(0.1):
            if self.cancel is not None and self.cancel():
                self._stop()
                return
            if time.monotonic() - start >= next_note:
                self._note(next_note)
                next_note *= 3  # 3 s, 9 s, 27 s…: keep the user informed without flooding

    def _note(self, after_s: float) -> None:
        where = running_line(self._tid, self.filenames)
        line = self.describe(*where) if where else "a module it imports"
        message = (
            f"Importing the model is still running after {after_s:g} s: {line}. Ctrl-C (or Stop) ends it."
        )
        if self.progress is None:
            log.warning(message)  # no front end listening: logging's last-resort handler shows it
        else:
            self.progress(LoadProgress("import-slow", message))

    def _stop(self) -> None:
        with self._lock:
            if self._running:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._tid), ctypes.py_object(ImportStopped)
                )
