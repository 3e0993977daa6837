"""What kind of source `load_model` got: a gist, a path, an nn.Module, or nothing (the example).

Refuses early and by name what cannot be a source: an empty text (an unset $GIST_ID), a URL that is
not a gist's (shown unmangled, never as a path), a class instead of an instance, a state_dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from tbwidgets.loading import gist_messages as msg
from tbwidgets.loading.errors import EmptySourceError, SourceError
from tbwidgets.loading.gist_ref import parse_gist_ref


def resolve(source: Any, *, gist_id: Any, path: Any, model: Any) -> tuple[str, Any]:
    """("example" | "module" | "path" | "gist", value) for the one source given."""
    given = [x for x in (source, gist_id, path, model) if x is not None]
    if len(given) > 1:
        raise SourceError(
            "load_model got more than one model source.", "Pass only one of source, gist_id, path, model."
        )
    value = given[0] if given else None
    if value is None:
        return "example", None
    if isinstance(value, nn.Module):
        return "module", value
    _refuse_non_instances(value)
    if model is not None:
        raise SourceError(
            f"model= must be an nn.Module, not {type(model).__name__}.", "Pass the model instance."
        )
    if isinstance(value, str) and not value.strip():
        if path is not None:
            raise EmptySourceError(
                f"no path given (path is {value!r}).",
                "Pass the folder holding model.py, or the model.py file.",
            )
        raise msg.empty_source("gist id", value)
    if gist_id is not None:
        return "gist", str(gist_id).strip()
    if not isinstance(value, (str, Path)):
        raise SourceError(
            f"Cannot load a model from a {type(value).__name__}.",
            "Pass a gist id or URL, a folder or model.py path, an nn.Module or a LoadedModel.",
        )
    return _path_or_gist(value, as_path=path is not None)


def _path_or_gist(value: str | Path, *, as_path: bool) -> tuple[str, Any]:
    text = str(value).strip()
    if not as_path and isinstance(value, str) and _is_url(text):
        parse_gist_ref(text)  # refuses a non-gist URL by name, before any path handling mangles it
        return "gist", text
    p = Path(value).expanduser()
    if p.exists():
        return "path", p
    if not as_path and isinstance(value, str) and _parses_as_gist(text):
        return "gist", text
    raise SourceError(
        f"Path not found: {p}",
        "Check the path (a folder holding model.py, or the model.py file). A gist id is 32 hex "
        "characters, or paste the gist URL.",
    )


def _is_url(text: str) -> bool:
    lower = text.lower()
    return "://" in lower or lower.startswith(("www.", "gist.github", "github.com/", "api.github.com/"))


def _parses_as_gist(text: str) -> bool:
    try:
        parse_gist_ref(text)
    except SourceError:
        return False
    return True


def _refuse_non_instances(value: Any) -> None:
    """A model class, or a state_dict, where an instance belongs: say how to make one."""
    if isinstance(value, type) and issubclass(value, nn.Module):
        name = value.__name__
        raise SourceError(
            f"load_model got the class {name}, not a model: instantiate it: {name}()",
            f"Pass an instance, e.g. load_model({name}()) — with the constructor arguments it needs.",
        )
    if isinstance(value, Mapping) and value and all(hasattr(v, "shape") for v in value.values()):
        raise SourceError(
            "load_model got a state_dict (a mapping of tensors), which holds weights but no model.",
            "Build the model, load the weights into it, and pass the instance: "
            "m = MyLM(); m.load_state_dict(sd); load_model(m).",
        )
