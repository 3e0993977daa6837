"""Attribution and perturbation data for the explorer's attribution view (payloads and the IG worker).

The view colours tokens by signed Integrated Gradients attribution and draws Tier 2's perturbation
curves. Scores and curves travel as float32 buffers. Recomputing IG for another target position runs
in a daemon thread that only calls `publish(dict)`; it never prints or displays (output routing from
threads differs across ipykernel versions).
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tbwidgets.widgets._explorer_payload import array_payload

X_KEYS = ("x", "sigma", "sigmas", "noise", "distance", "distances", "offset", "offsets")


def _float_array(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float32).reshape(-1)


def attribution_payload(attr: Any, position: int | None = None) -> dict[str, Any]:
    """The `attribution` trait for a finished IG run (`Attribution`-like: scores, target, delta, n_steps)."""
    scores = _float_array(attr.scores)
    delta = getattr(attr, "delta", None)
    return {
        "state": "done",
        "message": "",
        "scores": array_payload(scores),
        "position": int(getattr(attr, "position", position if position is not None else len(scores) - 1)),
        "target": _as_int(getattr(attr, "target", None)),
        "target_token": str(getattr(attr, "target_token", "") or ""),
        "delta": None if delta is None else float(delta),
        "n_steps": _as_int(getattr(attr, "n_steps", None)),
        "relative_delta": _as_float(getattr(attr, "relative_delta", None)),  # |delta| / |f(x) − f(baseline)|
        "notes": [str(n) for n in getattr(attr, "notes", []) or []],
    }


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _as_int(value: Any) -> int | None:
    if value is None:
        return None
    return int(value.item() if hasattr(value, "item") else value)


def _series_of(name: str, value: Any) -> dict[str, Any] | None:
    """One panel from a mapping with an x axis key and y arrays of the same length."""
    if not isinstance(value, Mapping):
        return None
    x_key = next((k for k in X_KEYS if k in value), None)
    if x_key is None:
        return None
    x = _float_array(value[x_key])
    series = []
    for key, ys in value.items():
        if key == x_key or isinstance(ys, (str, Mapping)):
            continue
        try:
            y = _float_array(ys)
        except (TypeError, ValueError):
            continue
        if y.shape == x.shape and y.size:
            series.append({"name": str(key), "y": array_payload(y)})
    if not series:
        return None
    return {"title": name.replace("_", " "), "x_label": x_key, "x": array_payload(x), "series": series}


def _tier2_panels(artifacts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Panels from `tier2.perturbation`'s flat artifacts (offsets/influence, noise levels/KL/top-1)."""
    found = []
    if "offsets" in artifacts and "influence_by_offset" in artifacts:
        found.append(
            (
                "influence by distance",
                {"offset": artifacts["offsets"], "KL": artifacts["influence_by_offset"]},
            )
        )
    if "noise_levels" in artifacts:
        curves = {"sigma": artifacts["noise_levels"], "KL": artifacts.get("noise_kl", [])}
        curves["top-1 agreement"] = artifacts.get("noise_top1", [])
        found.append(("embedding noise", curves))
    return [p for name, value in found if (p := _series_of(name, value)) is not None]


def curves_payload(perturbation: Any) -> dict[str, Any]:
    """The `curves` trait from a Report, a `tier2.perturbation` CheckResult, or a dict of curves.

    A curve is a mapping holding an x axis (one of `X_KEYS`) and y arrays of the same length, e.g.
    `{"noise": {"sigma": [...], "kl": [...], "top1_agreement": [...]}}`.
    """
    if perturbation is None:
        return {"panels": []}
    if hasattr(perturbation, "results"):  # a Report: pick the perturbation check
        found = [r for r in perturbation.results if str(getattr(r, "check_id", "")).endswith("perturbation")]
        perturbation = found[0] if found else {}
    artifacts = getattr(perturbation, "artifacts", perturbation)
    panels = _tier2_panels(artifacts or {})
    for name, value in dict(artifacts or {}).items():
        panel = _series_of(str(name), value)
        if panel is not None:
            panels.append(panel)
    return {"panels": panels}


def find_integrated_gradients() -> Callable[..., Any]:
    """Tier 2's `integrated_gradients` (public name first, then its module)."""
    import importlib

    import tbwidgets

    try:
        return tbwidgets.integrated_gradients  # type: ignore[no-any-return]
    except AttributeError:
        pass
    for name in ("tbwidgets.checks.tier2.attribution", "tbwidgets.checks.tier2.integrated_gradients"):
        try:
            return importlib.import_module(name).integrated_gradients  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    raise RuntimeError(
        "Integrated Gradients is not available in this version of tbwidgets (Tier 2 is missing)."
    )


class _Superseded(Exception):
    """A newer attribution request replaced this one."""


class AttributionWorker:
    """Runs `integrated_gradients` for a chosen target in a daemon thread; one run at a time.

    `publish` receives trait values (`state` running/done/error); a newer request supersedes an older
    one, whose result is then dropped.
    """

    def __init__(self, loaded: Any, input_ids: Any, publish: Callable[[dict[str, Any]], None]) -> None:
        self.loaded = loaded
        self.input_ids = input_ids
        self._publish = publish
        self._lock = threading.Lock()
        self._serial = 0
        self._thread: threading.Thread | None = None

    def start(self, position: int = -1, target: int | None = None, n_steps: int = 50) -> None:
        """Recompute IG for `position` (and `target` token id, default: the predicted token)."""
        with self._lock:
            self._serial += 1
            serial = self._serial
            thread = threading.Thread(
                target=self._job, args=(serial, position, target, n_steps), name="tbwidgets-ig", daemon=True
            )
            self._thread = thread
        self._publish(
            {
                "state": "running",
                "message": "Integrated Gradients running…",
                "position": position,
                "started": time.time(),
            }
        )
        thread.start()

    def wait(self, timeout: float | None = None) -> None:
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _job(self, serial: int, position: int, target: int | None, n_steps: int) -> None:
        try:
            integrated_gradients = find_integrated_gradients()
            kwargs: dict[str, Any] = {"position": position, "target": target, "n_steps": n_steps}
            params = inspect.signature(integrated_gradients).parameters
            if "progress" in params:
                kwargs["progress"] = lambda f, *_: self._progress(serial, float(f))
            if "check_stop" in params:  # a newer request ends this one at its next step
                kwargs["check_stop"] = lambda: self._raise_if_superseded(serial)
            attr = integrated_gradients(self.loaded, input_ids=self.input_ids, **kwargs)
            value = attribution_payload(attr, position)
        except _Superseded:
            return
        except Exception as exc:  # noqa: BLE001 - shown in the view; the explorer stays usable
            value = {"state": "error", "message": f"{type(exc).__name__}: {exc}", "position": position}
        with self._lock:
            if serial != self._serial:
                return  # superseded by a newer request
        self._publish(value)

    def _raise_if_superseded(self, serial: int) -> None:
        with self._lock:
            if serial != self._serial:
                raise _Superseded

    def _progress(self, serial: int, fraction: float) -> None:
        with self._lock:
            if serial != self._serial:
                return
        self._publish({"state": "running", "progress": fraction})
