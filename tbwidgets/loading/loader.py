"""`load_model`: any source (gist, path, module, LoadedModel, nothing) → a LoadedModel ready to check.

Loading succeeds whenever a model can be built and called with a token tensor; what looks wrong but
does not stop that (config mismatches, a forward pass that crashes) becomes a Finding the checks
report, so users see every problem in one place instead of a traceback.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tbwidgets.loading import local_modules
from tbwidgets.loading.adapter import ModelAdapter
from tbwidgets.loading.config import normalize_config, read_config, read_config_text
from tbwidgets.loading.construct import build_with_config_object, unwrap_compiled
from tbwidgets.loading.device import check_device
from tbwidgets.loading.errors import LoadError
from tbwidgets.loading.inspection import inspect_model
from tbwidgets.loading.model import Finding, LoadedModel, Provenance, Task
from tbwidgets.loading.progress import ProgressFn
from tbwidgets.loading.resolve import resolve
from tbwidgets.loading.source import discover_class, import_code, instantiate
from tbwidgets.loading.task import parse_task

EXAMPLE_NAME = "TinyGPT (built-in example)"
DEFAULT_TIMEOUT_S = 30.0  # the whole gist fetch (see gist.fetch_gist)
DEFAULT_MAX_FILE_BYTES = 1_000_000


@dataclasses.dataclass(frozen=True)
class _Options:
    """How to fetch and import: passed down from load_model unchanged."""

    timeout: float = DEFAULT_TIMEOUT_S
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    progress: ProgressFn | None = None
    cancel: Callable[[], bool] | None = None


@dataclasses.dataclass
class _Built:
    """A module plus everything known about it before the adapter and facts are worked out."""

    module: nn.Module
    name: str
    source: Provenance
    raw_config: dict[str, Any] | None = None
    code: str | None = None
    build_note: str = ""
    findings: list[Finding] = dataclasses.field(default_factory=list)
    missing: list[dict[str, str]] = dataclasses.field(default_factory=list)


def load_model(
    source: Any = None,
    *,
    gist_id: str | None = None,
    revision: str | None = None,
    path: str | Path | None = None,
    model: nn.Module | None = None,
    config: Mapping[str, Any] | str | Path | None = None,
    model_name: str | None = None,
    task: str | Task | None = None,
    token: str | None = None,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    device: str | torch.device | None = None,
    api_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    progress: ProgressFn | None = None,
    cancel: threading.Event | Callable[[], bool] | None = None,
) -> LoadedModel:
    """Load a model from a gist id/URL, a folder or model.py path, an nn.Module, or a LoadedModel.

    With nothing given, loads the built-in example (a small GPT). `config` is a dict or a
    config.json path; a gist's or folder's config.json is used when it is None. `model_name` picks
    the class in model.py; `task` overrides task detection ("causal-lm", "masked-lm",
    "classification"). `token`, `revision`, `cache_dir`, `refresh` and `api_url` go to the gist fetch;
    `timeout` (seconds) bounds the whole fetch and `max_file_bytes` the size of each gist file.
    `progress` gets LoadProgress notes (bytes downloaded, a slow import); setting `cancel` (an Event
    or a callable returning True) stops a running import of model.py with `LoadInterrupted`.
    An empty source (`""`, e.g. an unset $GIST_ID) is an `EmptySourceError`, never the example.
    """
    check_device(device)  # before any download or import: a wrong device fails at once
    if isinstance(source, LoadedModel):
        return _retask(source, task, device)
    kind, value = resolve(source, gist_id=gist_id, path=path, model=model)
    opts = _Options(timeout, max_file_bytes, progress, _cancel_fn(cancel))
    raw = read_config(config)
    if kind == "module":
        built = _Built(value, model_name or type(value).__name__, Provenance("module"), raw)
        built.build_note = f"given instance of {type(value).__name__}"
    elif kind == "example":
        built = _example(raw)
    elif kind == "path":
        built = _from_path(Path(value), raw, model_name, opts)
    else:
        gist = _fetch(value, revision, token, cache_dir, refresh, api_url, opts)
        built = _from_gist(gist, raw, model_name, opts)
    return _finish(built, task, device)


def _cancel_fn(cancel: threading.Event | Callable[[], bool] | None) -> Callable[[], bool] | None:
    if cancel is None:
        return None
    return cancel.is_set if isinstance(cancel, threading.Event) else cancel


def _example(raw: dict[str, Any] | None) -> _Built:
    from tbwidgets.loading.examples.tiny_gpt import build_example

    module = build_example()
    cfg = raw if raw is not None else dataclasses.asdict(module.config)
    return _Built(
        module.eval(), EXAMPLE_NAME, Provenance("example"), cfg, build_note="build_example() — seed 0"
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _from_path(p: Path, raw: dict[str, Any] | None, model_name: str | None, opts: _Options) -> _Built:
    file = p / "model.py" if p.is_dir() else p
    if not file.is_file():
        listing = ", ".join(sorted(x.name for x in p.iterdir())[:12]) or "nothing"
        raise LoadError(
            f"No model.py in {p} (it holds: {listing}).",
            "Point to the folder holding the exported model.py, or to the .py file itself.",
        )
    code = file.read_text(encoding="utf-8")
    files = {file.name: _sha(code)}
    cfg_file = file.parent / "config.json"
    if raw is None and cfg_file.is_file():
        text = cfg_file.read_text(encoding="utf-8")
        raw, files["config.json"] = read_config_text(text, str(cfg_file)), _sha(text)
    source = Provenance("path", path=str(p), files=files)
    local = local_modules.from_folder(file)
    return _from_code(code, str(file), local, raw, model_name, source, opts)


def _fetch(
    gist: str, revision: Any, token: Any, cache_dir: Any, refresh: bool, api_url: Any, opts: _Options
) -> Any:
    from tbwidgets.loading.gist import fetch_gist  # lazy: requests and the HTTP client only when needed

    return fetch_gist(
        gist,
        revision=revision,
        token=token,
        api_url=api_url,
        cache_dir=cache_dir,
        refresh=refresh,
        timeout=opts.timeout,
        max_file_bytes=opts.max_file_bytes,
        progress=opts.progress,
    )


def _from_gist(gist: Any, raw: dict[str, Any] | None, model_name: str | None, opts: _Options) -> _Built:
    files: dict[str, str] = dict(gist.files)
    source: Provenance = gist.provenance
    py = ["model.py"] if "model.py" in files else [n for n in files if n.endswith(".py")]
    if len(py) != 1:
        raise LoadError(
            f"The gist {source.label} has no model.py (files: {', '.join(sorted(files)) or 'none'}).",
            "Check the gist id; a Transformer Builder export holds model.py and config.json.",
        )
    if raw is None and "config.json" in files:
        raw = read_config_text(files["config.json"], f"{source.label} config.json")
    filename = f"<{source.label}>/{py[0]}"
    local = local_modules.from_gist(files, py[0], source.label)
    return _from_code(files[py[0]], filename, local, raw, model_name, source, opts)


def _stray_findings(code: str, local: local_modules.LocalFiles, where: str) -> list[Finding]:
    """A module that imported from loose code outside the source works here, and nowhere else."""
    from tbwidgets.loading.deps import stray_modules

    names = local.top_names | {local.main.removesuffix(".py")}
    return [
        Finding(
            "warn",
            f"model.py imports `{module}`, which is not in the {where}: it was found at {origin}, outside "
            "the installed packages. The model loads here, but not for anyone else who opens the same "
            f"{where}.",
            f"Add {module.split('.')[0]}.py to the {where} (or install that code as a package).",
        )
        for module, origin in stray_modules(code, names)
    ]


def _from_code(
    code: str,
    filename: str,
    local: local_modules.LocalFiles,
    raw: dict[str, Any] | None,
    model_name: str | None,
    source: Provenance,
    opts: _Options,
) -> _Built:
    cfg = normalize_config(raw)
    imported = import_code(code, filename, local=local, progress=opts.progress, cancel=opts.cancel)
    if local.folder is not None:  # record the sibling files the model really imported
        used = {
            rel: _sha(text) for rel, text in local.texts.items() if text is not None and rel != local.main
        }
        source = dataclasses.replace(source, files={**source.files, **used})
    name = model_name or cfg.get("model_name")
    name_from = "model_name argument" if model_name else "config model_name"
    cls, how, findings = discover_class(
        imported.module, code, name if isinstance(name, str) else None, name_from=name_from
    )
    module, note = build_with_config_object(cls, imported.module, raw) or instantiate(cls, cfg)
    findings += imported.findings
    where = "gist" if local.folder is None else "folder"
    if imported.missing:
        from tbwidgets.loading.deps import missing_message

        cause, fix = missing_message(imported.missing, "model.py", where, local.texts)
        findings.append(Finding("warn", cause + " The model built anyway (optional imports?).", fix))
    findings += _stray_findings(code, local, where)
    packages = [m for m in imported.missing if m.get("package")]  # only these have an install line
    return _Built(module.eval(), cls.__name__, source, raw, code, f"{note}; {how}", findings, packages)


def _finish(built: _Built, task: str | Task | None, device: str | torch.device | None) -> LoadedModel:
    module, compiled_note = unwrap_compiled(built.module)
    module = module.to(device) if device is not None else module
    raw = built.raw_config
    hf_config = getattr(module, "config", None)
    if raw is None and hf_config is not None and hasattr(hf_config, "to_dict"):
        raw = hf_config.to_dict()  # Hugging Face models carry their config
    cfg = normalize_config(raw)
    adapter = ModelAdapter(module)
    the_task, reason, result, findings = inspect_model(
        module, adapter, cfg, normalize_config(built.raw_config), task
    )
    return LoadedModel(
        module=module,
        adapter=adapter,
        name=built.name,
        task=the_task,
        task_reason=reason,
        facts=result.facts,
        source=built.source,
        config=cfg,
        raw_config=raw,
        code=built.code,
        build_note="; ".join(
            x for x in (built.build_note, compiled_note, f"called as {adapter.describe()}") if x
        ),
        findings=built.findings + findings,
        token_embedding=result.embedding.module,
        token_embedding_name=result.embedding.name,
        missing_packages=list(built.missing),
    )


def _retask(loaded: LoadedModel, task: str | Task | None, device: str | torch.device | None) -> LoadedModel:
    """The same LoadedModel on another device or with another task (no reload)."""
    if device is not None:
        loaded.module.to(device)
        first = next(iter(loaded.module.parameters()), None)
        moved = first.device if first is not None else torch.device(device)
        loaded = dataclasses.replace(loaded, facts=dataclasses.replace(loaded.facts, device=moved))
    if task is None:
        return loaded
    return dataclasses.replace(loaded, task=parse_task(task), task_reason="given")
