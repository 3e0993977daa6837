"""Import model.py (and the .py files beside it) as a private package; errors become LoadErrors.

The model file becomes the package `tbwidgets_user_model_<sha8>` and its siblings its submodules
(see local_modules). The package stays in `sys.modules` so dataclasses, pickling and tracebacks work;
no bare names (`layers`, `utils`) are ever registered and `sys.path` is never touched. Before the
code runs, import_guard refuses files that would train at import; while it runs, a watchdog names a
slow line and turns Ctrl-C or Stop into `LoadInterrupted`.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tbwidgets.loading import deps, import_guard
from tbwidgets.loading import local_modules as lm
from tbwidgets.loading.errors import LoadError, LoadInterrupted
from tbwidgets.loading.model import Finding
from tbwidgets.loading.progress import ProgressFn

_NEVER_SHADOWED = {"torch", "numpy", "tbwidgets"}  # a local torch.py would only break the model


@dataclass
class ImportedCode:
    module: types.ModuleType
    missing: list[dict[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _syntax_error(exc: SyntaxError, filename: str) -> LoadError:
    line = (exc.text or "").rstrip("\n")
    caret = " " * max((exc.offset or 1) - 1, 0) + "^"
    shown = f"\n    {line}\n    {caret}" if line else ""
    return LoadError(
        f"{exc.filename or filename}:{exc.lineno}: syntax error: {exc.msg}{shown}",
        "Fix that line in model.py, or re-export the model from Transformer Builder.",
    )


def _short(filename: str) -> str:
    return filename.replace("\\", "/").rsplit("/", 1)[-1]


def _line_text(filename: str, line: int) -> str:
    import linecache

    return linecache.getline(filename, line).strip()


def _describer(loops: dict[str, list[import_guard.TopLevelWork]]) -> Callable[[str, int], str]:
    """How the watchdog names a running line, and the top-level loop it is in, if any."""

    def describe(filename: str, line: int) -> str:
        text = f"{_short(filename)} line {line} is running: `{_line_text(filename, line)}`"
        loop = next((w for w in loops.get(filename, []) if w.line <= line <= w.end), None)
        if loop is not None:
            text += f", inside the top-level loop at line {loop.line} (`{loop.text}`), which runs at import"
        return text

    return describe


def _local_frames(exc: BaseException, filenames: set[str]) -> list[inspect.FrameInfo]:
    tb = exc.__traceback__
    return [f for f in inspect.getinnerframes(tb) if f.filename in filenames] if tb else []


def _scan(
    findings: list[Finding], loops: dict[str, list[import_guard.TopLevelWork]]
) -> Callable[[str, str], None]:
    """The per-file check run right before each local file executes."""

    def scan(code: str, filename: str) -> None:
        work = import_guard.scan_top_level(code)
        import_guard.refuse_blocking(work, filename)
        loops[filename] = [w for w in work if w.kind == "loop"]
        reads = [w for w in work if w.kind == "file"]
        if reads:
            shown = "; ".join(f"line {w.line}: {w.text}" for w in reads[:3])
            findings.append(
                Finding(
                    "info",
                    f"{_short(filename)} reads files or data when imported ({shown}).",
                    "Files a model reads at import are not in a gist and fail from another folder: "
                    "build the model from code and its config only, and load data elsewhere.",
                )
            )

    return scan


@dataclass
class _Load:
    """One import in progress: what error translation needs to name files and lines."""

    root: str
    filename: str
    local: lm.LocalFiles
    missing: list[dict[str, str]]

    @property
    def filenames(self) -> set[str]:
        return {self.filename} | {self.local.filename(rel) for rel in self.local.texts}

    @property
    def where(self) -> str:
        return "gist" if self.local.folder is None else "folder"


def _local_files(filename: str, folder: Path | None, local: lm.LocalFiles | None, code: str) -> lm.LocalFiles:
    if local is None:
        local = (
            lm.from_folder(folder / _short(filename))
            if folder is not None
            else lm.from_gist({}, "model.py", "")
        )
    if folder is not None:
        local.texts[local.main] = code
    return local


def import_code(
    code: str,
    filename: str,
    folder: Path | None = None,
    *,
    local: lm.LocalFiles | None = None,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    slow_s: float = import_guard.SLOW_IMPORT_S,
) -> ImportedCode:
    """Import model.py text as a fresh private package; errors become LoadErrors naming file and line.

    `local` lists the other importable files (a gist's .py files, a folder's modules and packages).
    For a plain `folder`, its files are found automatically.
    """
    local = _local_files(filename, folder, local, code)
    findings: list[Finding] = []
    loops: dict[str, list[import_guard.TopLevelWork]] = {}
    local.scan = _scan(findings, loops)
    names = local.top_names - sys.stdlib_module_names - _NEVER_SHADOWED
    main_stem = local.main.removesuffix(".py")
    try:
        compile(code, filename, "exec")  # syntax errors first, before anything is registered
    except SyntaxError as exc:
        raise _syntax_error(exc, filename) from None
    load = _Load(lm.root_name(local, code), filename, local, deps.missing_packages(code, names | {main_stem}))
    lm.register(load.root, local)  # first: it drops an earlier load of the same code
    module = _new_package(load.root, filename, code)
    try:
        local.scan(code, filename)
        compiled = lm.compile_local(code, filename, load.root, names, main_stem)
        with import_guard.Watchdog(load.filenames, _describer(loops), progress, cancel, slow_s):
            exec(compiled, module.__dict__)
    except LoadError:  # already explained (the top-level work check)
        lm.unregister(load.root)
        raise
    except (Exception, SystemExit, KeyboardInterrupt, import_guard.ImportStopped) as exc:  # noqa: BLE001
        lm.unregister(load.root)  # user code: any error (even sys.exit or Ctrl-C) becomes a LoadError
        error, keep_cause = _translate(exc, load)
        raise error from (exc if keep_cause else None)
    return ImportedCode(module, load.missing, findings)


def _translate(exc: BaseException, load: _Load) -> tuple[LoadError, bool]:
    """The LoadError that explains `exc`, and whether the original stays chained (for --debug)."""
    if isinstance(exc, (KeyboardInterrupt, import_guard.ImportStopped)):
        return _interrupted(exc, load.filenames, load.filename), False
    if isinstance(exc, ModuleNotFoundError):
        return _not_found(exc, load), False
    if isinstance(exc, SyntaxError):  # in a sibling file, compiled when model.py imports it
        return _syntax_error(exc, load.filename), False
    return _user_error(exc, load.filename, load.filenames, load.root), True


def _new_package(root: str, filename: str, code: str) -> types.ModuleType:
    module = types.ModuleType(root)
    module.__file__ = filename
    module.__path__ = []  # a package: sibling files are its submodules
    module.__package__ = root
    lm.remember_source(filename, code)
    sys.modules[root] = module
    return module


def _interrupted(exc: BaseException, filenames: set[str], filename: str) -> LoadInterrupted:
    frames = _local_frames(exc, filenames)
    how = "Stop was pressed" if isinstance(exc, import_guard.ImportStopped) else "Ctrl-C"
    if not frames:
        return LoadInterrupted(f"import of {_short(filename)} was interrupted ({how}).", "")
    last = frames[-1]
    at = f"line {last.lineno}" if last.filename == filename else f"{_short(last.filename)} line {last.lineno}"
    return LoadInterrupted(
        f"import of {_short(filename)} was interrupted at {at}: `{_line_text(last.filename, last.lineno)}` ({how}).",
        "That line runs when the file is imported: if it is a script part (training, data loading), move it "
        'under `if __name__ == "__main__":` so loading only builds the model.',
        line=last.lineno,
    )


def _not_found(exc: ModuleNotFoundError, load: _Load) -> LoadError:
    root, filename, where, local = load.root, load.filename, load.where, load.local
    name = exc.name or ""
    frames = _local_frames(exc, load.filenames)
    importer = _short(frames[-1].filename) if frames else _short(filename)
    if name.startswith(root + "."):  # a local package without that submodule
        dotted = name[len(root) + 1 :]
        folder_path = dotted.rsplit(".", 1)[0].replace(".", "/")
        return LoadError(
            f"{importer} imports `{dotted}`, but the {where}'s {folder_path}/ has no {dotted.rsplit('.', 1)[-1]}.py.",
            f"Add {dotted.replace('.', '/')}.py to the {where}, or fix the import.",
        )
    top = name.split(".")[0]
    if top in local.top_names:  # the file is there: only a dynamic import can miss it
        return LoadError(
            f"{importer} imports `{name}` dynamically (importlib.import_module or __import__), which "
            f"tbwidgets cannot point at the {where}'s {top}.py.",
            f"Use a plain import statement (`import {name}` or `from {name} import …`).",
        )
    if not top or deps.is_available(top):  # e.g. torch.no_such_module: a bad name, not a missing package
        return _user_error(exc, filename, load.filenames, root)
    entry = next((m for m in load.missing if m["module"].split(".")[0] == top), None)
    gone = [entry] if entry is not None and importer == _short(filename) else []
    gone = gone or [{"module": name, "package": deps.package_for(top) or ""}]
    others = [m for m in load.missing if m is not entry and m.get("package")]
    cause, fix = deps.missing_message(gone + others, importer, where, local.texts)
    return LoadError(cause, fix)


def _user_error(exc: BaseException, filename: str, filenames: set[str], root: str) -> LoadError:
    frames = _local_frames(exc, filenames)
    at = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    text = lm.strip_root(f"{exc}", root)
    return LoadError(
        f"{filename} raised {type(exc).__name__} while being imported: {text}{at}",
        "Fix model.py at that line, or re-export the model from Transformer Builder.",
    )
