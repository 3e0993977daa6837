"""A model's other .py files, importable by model.py under the names it uses, isolated per load.

model.py is imported as the package `tbwidgets_user_model_<sha8>` (the hash covers every file of the
source), and its sibling files become its submodules: `layers.py` is `<root>.layers`,
`mingpt/utils.py` is `<root>.mingpt.utils`. Before any of that code runs, its absolute imports of
local names are rewritten (`from layers import X` → `from <root>.layers import X`, `import utils` →
`import <root>.utils as utils`), so nothing is ever registered as a bare `layers` or `utils` in
`sys.modules`, two gists that both hold a `layers.py` never clash, and imports inside functions keep
working after loading. Only dynamic imports (`importlib.import_module("layers")`) are not redirected.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import sys
import threading
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT_PREFIX = "tbwidgets_user_model_"
_SKIP_DIRS = {"__pycache__", "site-packages", "node_modules", "venv", "env", "build", "dist"}
MAX_FOLDER_FILES = 300  # a model's own code; more than this is a whole project or a home folder
MAX_DEPTH = 4
MAX_FOLDERS = 200  # a model next to a big data folder must not cost a long walk

Scan = Callable[[str, str], None]  # (code, filename) → raises when the code must not run


@dataclass
class LocalFiles:
    """The importable files of one source: relative POSIX path → text (read lazily for folders)."""

    main: str  # relative path of the model file, e.g. "model.py"
    texts: dict[str, str | None]  # None: not read yet (folder files are read on first import)
    where: str  # shown in filenames: "<gist 0123abcd>" or a folder path
    folder: Path | None = None
    scan: Scan | None = None  # run on each file right before it executes (top-level work check)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def top_names(self) -> set[str]:
        """Names model.py can import: file stems and package folders at the top level."""
        names = {p.split("/")[0].removesuffix(".py") for p in self.texts}
        return {n for n in names if n.isidentifier() and n != "__init__"}

    def filename(self, rel: str) -> str:
        return str(self.folder / rel) if self.folder is not None else f"{self.where}/{rel}"

    def text(self, rel: str) -> str:
        with self._lock:
            cached = self.texts[rel]
            if cached is None:
                assert self.folder is not None  # only folder files are read lazily
                cached = self.texts[rel] = (self.folder / rel).read_text(encoding="utf-8")
            return cached

    def find(self, dotted: str) -> tuple[str | None, bool] | None:
        """(relative path or None for a folder without __init__.py, is_package) or None if absent."""
        base = dotted.replace(".", "/")
        if f"{base}.py" in self.texts:
            return f"{base}.py", False
        if f"{base}/__init__.py" in self.texts:
            return f"{base}/__init__.py", True
        if any(p.startswith(base + "/") for p in self.texts):
            return None, True
        return None


def from_gist(files: Mapping[str, str], main: str, label: str) -> LocalFiles:
    """A gist's .py files (gists are flat: no folders)."""
    texts: dict[str, str | None] = {n: t for n, t in files.items() if n.endswith(".py") and "/" not in n}
    return LocalFiles(main, texts, f"<{label}>")


def from_folder(model_file: Path) -> LocalFiles:
    """The .py files next to `model_file` and in its package folders (bounded, hidden/venv dirs skipped)."""
    folder = model_file.parent
    found: list[str] = []
    stack = [(folder, 0)]
    visited = 0
    while stack and len(found) < MAX_FOLDER_FILES and visited < MAX_FOLDERS:
        here, depth = stack.pop()
        visited += 1
        try:
            entries = sorted(here.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name in _SKIP_DIRS:
                continue
            if entry.is_file() and entry.suffix == ".py":
                found.append(entry.relative_to(folder).as_posix())
            elif entry.is_dir() and depth < MAX_DEPTH and entry.name.isidentifier():
                stack.append((entry, depth + 1))
    texts: dict[str, str | None] = dict.fromkeys(found[:MAX_FOLDER_FILES])
    texts[model_file.name] = None
    return LocalFiles(model_file.name, texts, str(folder), folder=folder)


def root_name(local: LocalFiles, main_code: str) -> str:
    """`tbwidgets_user_model_<sha8>` over model.py's text and the other files' names and texts."""
    digest = hashlib.sha256(main_code.encode())
    for rel in sorted(local.texts):
        known = local.texts[rel]
        digest.update(rel.encode() + b"\0" + (known.encode() if known is not None else b""))
    return ROOT_PREFIX + digest.hexdigest()[:8]


class _Rewriter(ast.NodeTransformer):
    """Point absolute imports of local names at the load's private package."""

    def __init__(self, root: str, local: set[str], main_stem: str) -> None:
        self.root, self.local, self.main_stem = root, local, main_stem

    def _target(self, name: str) -> str:
        return self.root if name == self.main_stem else f"{self.root}.{name}"

    def visit_Import(self, node: ast.Import) -> ast.Import:
        names: list[ast.alias] = []
        for a in node.names:
            top = a.name.split(".")[0]
            if top not in self.local:
                names.append(a)
            elif a.asname or "." not in a.name:
                names.append(ast.alias(self._target(a.name), a.asname or a.name))
            else:  # `import pkg.sub` binds `pkg`: import the submodule, then bind the package
                names += [
                    ast.alias(self._target(a.name), "_tbwidgets_submodule"),
                    ast.alias(self._target(top), top),
                ]
        node.names = [ast.copy_location(n, node) for n in names]
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if node.level == 0 and node.module and node.module.split(".")[0] in self.local:
            node.module = self._target(node.module)
        return node


def compile_local(code: str, filename: str, root: str, local: set[str], main_stem: str) -> types.CodeType:
    """Compile `code` with its imports of `local` names rewritten (line numbers unchanged)."""
    tree = ast.parse(code, filename)
    tree = ast.fix_missing_locations(_Rewriter(root, local, main_stem).visit(tree))
    return compile(tree, filename, "exec")


def remember_source(filename: str, code: str) -> None:
    """Tracebacks and inspect.getsource read lines through linecache; gist code has no file on disk."""
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)


class _Loader(importlib.abc.Loader):
    def __init__(self, local: LocalFiles, rel: str | None, root: str) -> None:
        self.local, self.rel, self.root = local, rel, root

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        if self.rel is None:
            return  # a folder without __init__.py: an empty package
        code = self.local.text(self.rel)
        filename = self.local.filename(self.rel)
        remember_source(filename, code)
        if self.local.scan is not None:
            self.local.scan(code, filename)
        main_stem = self.local.main.removesuffix(".py")
        compiled = compile_local(code, filename, self.root, self.local.top_names, main_stem)
        exec(compiled, module.__dict__)


class _Finder(importlib.abc.MetaPathFinder):
    """Serves `<root>.<name>` for every registered load; one instance for the whole process."""

    def __init__(self) -> None:
        self.roots: dict[str, LocalFiles] = {}

    def find_spec(
        self, fullname: str, path: object = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        root, _, rest = fullname.partition(".")
        local = self.roots.get(root)
        if local is None or not rest:
            return None
        found = local.find(rest)
        if found is None:
            return None
        rel, is_package = found
        spec = importlib.util.spec_from_loader(fullname, _Loader(local, rel, root), is_package=is_package)
        if spec is not None and rel is not None:
            spec.origin = local.filename(rel)
            spec.has_location = True
        return spec


_FINDER = _Finder()


def register(root: str, local: LocalFiles) -> None:
    """Serve `local` under `root`, replacing an earlier load of the same code (fresh modules)."""
    for name in [n for n in sys.modules if n == root or n.startswith(root + ".")]:
        del sys.modules[name]
    _FINDER.roots[root] = local
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def unregister(root: str) -> None:
    """Forget a load whose model.py failed to import (its modules and its files)."""
    _FINDER.roots.pop(root, None)
    for name in [n for n in sys.modules if n == root or n.startswith(root + ".")]:
        del sys.modules[name]


def strip_root(text: str, root: str) -> str:
    """Error texts name `layers`, not `tbwidgets_user_model_1a2b3c4d.layers`."""
    return text.replace(root + ".", "").replace(root, "model")
