"""The blocking Python API: `validate(...)` loads a model, runs the chosen checks, returns a Report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tbwidgets.core import Check, Listener, Report, Runner, checks_for


def validate(
    source: Any = None,
    *,
    tiers: Iterable[int] = (1,),
    checks: Sequence[str | Check] | None = None,
    config: Any = None,
    task: str | None = None,
    device: str | None = None,
    seed: int = 0,
    on_event: Listener | None = None,
    **load_kwargs: Any,
) -> Report:
    """Validate a model and return its Report (`.to_frame()`, `.to_json()`, `.to_html()`).

    `source` is anything `load_model` takes (gist id or URL, a path, an nn.Module, a LoadedModel);
    nothing means the built-in example. `checks` (ids or Check instances) overrides `tiers`.
    """
    from tbwidgets.loading import load_model

    loaded = load_model(source, config=config, task=task, device=device, **load_kwargs)
    selected = select_checks(tiers=tiers, checks=checks)
    listeners = [on_event] if on_event is not None else []
    return Runner(loaded, selected, device=device, seed=seed, listeners=listeners).run()


def select_checks(*, tiers: Iterable[int] = (1,), checks: Sequence[str | Check] | None = None) -> list[Check]:
    """Checks by id (or instances) when given, else every check of the given tiers, in suite order."""
    from tbwidgets.checks import tier_suite

    if checks:
        ids = [c for c in checks if isinstance(c, str)]
        by_id = iter(checks_for(ids))
        return [next(by_id) if isinstance(c, str) else c for c in checks]
    return [check for tier in tiers for check in tier_suite(tier).checks]
