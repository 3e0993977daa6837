"""The blocking Python API: `validate(...)` loads a model, runs the chosen checks, returns a Report.

Selections are normalised the way people write them (`tiers=1`, `tiers="1,2"`, `checks="a,b"`) and
refused with the valid choices when they select nothing or name something unknown: before any model is
fetched, so a typo costs no download. Heavy imports (torch) wait until a function needs them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from tbwidgets.core import Check, Listener, Report

TIERS = (1, 2)  # tiers that hold checks; tier 3 is training, run from its own API

TierSpec = Union[int, str, Iterable[Union[int, str]]]
CheckSpec = Union[str, "Check", Iterable[Union[str, "Check"]]]


class SelectionError(ValueError):
    """`tiers` or `checks` select nothing, name an unknown tier or check, or have the wrong type."""


def validate(
    source: Any = None,
    *,
    tiers: TierSpec = (1,),
    checks: CheckSpec | None = None,
    config: Any = None,
    task: str | None = None,
    device: str | None = None,
    seed: int = 0,
    on_event: Listener | None = None,
    **load_kwargs: Any,
) -> Report:
    """Validate a model and return its Report (`.to_frame()`, `.to_json()`, `.to_html()`).

    `source` is anything `load_model` takes (gist id or URL, a path, an nn.Module, a LoadedModel);
    nothing means the built-in example. `tiers` is 1, 2, (1, 2) or "1,2"; `checks` (ids, "a,b" or
    Check instances) overrides `tiers`. Other keywords (`timeout`, `max_file_bytes`, `revision`, ...)
    go to `load_model`.
    """
    from tbwidgets.core import Runner
    from tbwidgets.loading import load_model

    selected = select_checks(tiers=tiers, checks=checks)  # a bad selection fails before any download
    loaded = load_model(source, config=config, task=task, device=device, **load_kwargs)
    listeners = [on_event] if on_event is not None else []
    return Runner(loaded, selected, device=device, seed=seed, listeners=listeners).run()


def select_checks(*, tiers: TierSpec = (1,), checks: CheckSpec | None = None) -> list[Check]:
    """Checks by id (or instances) when `checks` is given, else every check of `tiers`, in suite order."""
    from tbwidgets.checks import tier_suite
    from tbwidgets.core import checks_for

    chosen = normalize_checks(checks)
    if chosen is None:
        return [check for tier in normalize_tiers(tiers) for check in tier_suite(tier).checks]
    _refuse_unknown([c for c in chosen if isinstance(c, str)])
    by_id = iter(checks_for([c for c in chosen if isinstance(c, str)]))
    return [next(by_id) if isinstance(c, str) else c for c in chosen]


def normalize_tiers(tiers: TierSpec) -> list[int]:
    """1, "1", "tier1", "1,2", (1, 2) or ["1", "2"] → [1, 2] (order kept, repeats dropped)."""
    if isinstance(tiers, bool) or not isinstance(tiers, (int, str, Iterable)):
        raise SelectionError(f"tiers must be 1, 2, (1, 2) or '1,2', not {type(tiers).__name__}.")
    items = _split(tiers) if isinstance(tiers, (int, str)) else [p for t in tiers for p in _split(t)]
    if not items:
        raise SelectionError(
            f"No tiers selected (tiers={tiers!r}): pass tiers=1, tiers=(1, 2) or tiers='1,2'."
        )
    result: list[int] = []
    for item in items:
        tier = _tier_number(item)
        if tier not in result:
            result.append(tier)
    return result


def normalize_checks(checks: CheckSpec | None) -> list[str | Check] | None:
    """None (use tiers), or a non-empty list of ids and Check instances; "a,b" is two ids."""
    from tbwidgets.core import Check

    if checks is None:
        return None
    if isinstance(checks, Check):
        return [checks]
    if isinstance(checks, str):
        chosen: list[str | Check] = list(_split(checks))
    elif isinstance(checks, Iterable):
        chosen = []
        for item in checks:
            if isinstance(item, Check):
                chosen.append(item)
            elif isinstance(item, str):
                chosen.extend(_split(item))
            else:
                raise SelectionError(
                    f"checks holds a {type(item).__name__}; give check ids or Check instances."
                )
    else:
        raise SelectionError(f"checks must be an id, 'a,b' or a list of ids, not {type(checks).__name__}.")
    if not chosen:
        raise SelectionError(
            f"No checks selected (checks={checks!r}): name at least one, e.g. checks='tier1.determinism', "
            "or leave checks out to run whole tiers."
        )
    return chosen


def _split(value: int | str) -> list[str]:
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _tier_number(text: str) -> int:
    plain = text.lower().replace(" ", "").removeprefix("tier")
    valid = " and ".join(map(str, TIERS))
    if not plain.isdigit():
        raise SelectionError(f"Unknown tier {text!r}: valid tiers are {valid}.")
    tier = int(plain)
    if tier not in TIERS:
        extra = " (tier 3 is training, not a check suite)" if tier == 3 else ""
        raise SelectionError(f"Unknown tier {tier}{extra}: valid tiers are {valid}.")
    return tier


def _refuse_unknown(ids: Sequence[str]) -> None:
    from tbwidgets.core import registered_checks

    known = sorted(registered_checks())
    for check_id in ids:
        if check_id in known:
            continue
        hint = difflib.get_close_matches(check_id, known, n=1, cutoff=0.6)
        if not hint and check_id.lower().replace(" ", "").removeprefix("tier").isdigit():
            raise SelectionError(
                f"Unknown check {check_id!r}: that is a tier; use tiers={_tier_number(check_id)} "
                f"(CLI: --tiers {_tier_number(check_id)}). "
                f"Valid checks: {', '.join(known)}."
            )
        did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
        raise SelectionError(f"Unknown check {check_id!r}.{did_you_mean} Valid checks: {', '.join(known)}.")
