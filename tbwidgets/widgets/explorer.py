"""AttentionExplorer: every head of a model at a glance, any head at full resolution on demand.

The initial state holds only thumbnails (uint8, one binary buffer), per-head metrics (float32 buffer)
and the tokens: about 0.2 MB for 12 × 12 heads at 1024 tokens. A click in the front end sends
`{type: "head", layer, head, seq}`; `head_message` answers with one uint8 buffer (1 MB at 1024
tokens, plus 4 kB of row scales). The maps are held quantised (uint8 with one scale per query row),
never as float arrays. The front end (`js/src/explorer.ts`, bundled to `static/explorer.js`) also
draws the attribution view (tokens coloured by Integrated Gradients) and Tier 2's perturbation
curves, with hover linked both ways.
"""

from __future__ import annotations

import pathlib
import threading
from typing import Any

import anywidget
import numpy as np
import traitlets

from tbwidgets.widgets._explorer_payload import (
    THUMB_SIZE,
    QuantisedMaps,
    array_payload,
    head_content,
    quantise,
)
from tbwidgets.widgets._throttle import Coalescer
from tbwidgets.widgets.attribution_view import AttributionWorker, attribution_payload, curves_payload

_STATIC = pathlib.Path(__file__).parent / "static"


class AttentionExplorer(anywidget.AnyWidget):
    """Explore attention heads and token attributions of one input.

    From a model: `AttentionExplorer(model, text="...")` captures the maps with Tier 2's
    `capture_attention` (`source` is anything `load_model` accepts; None means the built-in example)
    and computes Integrated Gradients for the last position in a worker thread. From precomputed
    data: `AttentionExplorer(maps=capture_attention(...))` or `maps=` an `(L, H, T, T)` tensor/array
    with `tokens=`. `attribution=` (an `Attribution`) and `perturbation=` (a Report, the
    `tier2.perturbation` result or a dict of curves) add those views.
    """

    _esm = _STATIC / "explorer.js"
    _css = _STATIC / "explorer.css"

    # Synced traits (mirrored in js/src/explorer_types.ts). Python writes all of them.
    tokens = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Token strings of the input, one per position."""
    overview = traitlets.Dict().tag(sync=True)
    """Grid data: {n_layers, n_heads, length, layer_names, causal, thumbs: {buffer uint8 (L, H+1, S, S)},
    visible: {buffer uint8 (L, S, S)}, stats: {buffer float32 (L, H, K), names}, classes: [[str]]}."""
    attribution = traitlets.Dict().tag(sync=True)
    """IG view: {state: none|running|done|error, message, scores: {buffer float32 (T,)}, position,
    target, target_token, delta, n_steps, progress?}."""
    curves = traitlets.Dict().tag(sync=True)
    """Perturbation curves: {panels: [{title, x_label, x: {buffer}, series: [{name, y: {buffer}}]}]}."""
    notes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Notes for the user (input cut, capture caveats)."""

    def __init__(
        self,
        source: Any = None,
        *,
        text: str | None = None,
        input_ids: Any = None,
        maps: Any = None,
        tokens: list[str] | None = None,
        attribution: Any = None,
        perturbation: Any = None,
        attribute: bool = True,
        thumb_size: int = THUMB_SIZE,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._loaded: Any = None
        self._input_ids: Any = input_ids
        notes: list[str] = []
        if maps is None:
            maps, notes = self._capture(source, text, input_ids, max_tokens)
        else:
            maps = _maps_from(maps)
            if source is not None:  # precomputed maps, and a model for recomputing the attribution
                from tbwidgets.loading import load_model

                self._loaded = load_model(source)
        known = getattr(maps, "known", None)  # metrics and classes a Tier 2 run already computed
        self._quant: QuantisedMaps = quantise(maps, thumb_size, _causal_flags(maps), known)
        length = self._quant.shape[2]
        self.tokens = _token_strings(tokens if tokens is not None else getattr(maps, "tokens", None), length)
        layer_names = list(
            getattr(maps, "layer_names", None) or [f"layer {i}" for i in range(self._quant.shape[0])]
        )
        del maps  # the float maps are not kept: the explorer holds the uint8 copy only
        self.overview = _overview(self._quant, layer_names)
        self.notes = notes
        self.curves = curves_payload(perturbation)
        self._sync = Coalescer(self._apply_attribution, interval=0.1)  # ≤ 10 messages/s from the IG thread
        self._attr_state: dict[str, Any] = {"state": "none"}
        self._worker = (
            AttributionWorker(self._loaded, self._input_ids, self._publish) if self._loaded else None
        )
        if attribution is not None:
            self.attribution = attribution_payload(attribution)
        elif self._worker is not None and attribute:
            self.attribute(-1)
        elif self._worker is not None:  # e.g. a Tier 2 run stopped before its attribution check
            self.attribution = {
                "state": "none",
                "message": "Not computed yet: choose a position, press Recompute.",
            }
        else:
            self.attribution = {"state": "none", "message": "No attribution: pass a model or `attribution=`."}
        self.on_msg(self._on_front_end_msg)

    @classmethod
    def from_report(cls, report: Any, source: Any = None, **kwargs: Any) -> AttentionExplorer:
        """The explorer for a Tier 2 run: maps from `tier2.attention_patterns`, curves from
        `tier2.perturbation`, scores from `tier2.attribution`; `source` (the LoadedModel) enables
        recomputing the attribution for other targets. This is how the validator's Tier 2 tab shows it."""
        found = {str(r.check_id): r for r in getattr(report, "results", [])}
        patterns = found.get("tier2.attention_patterns")
        if patterns is None or "maps" not in (patterns.artifacts or {}):
            raise ValueError("The report has no attention maps: run Tier 2 (tier2.attention_patterns) first.")
        attr = found.get("tier2.attribution")
        kwargs.setdefault("perturbation", found.get("tier2.perturbation"))
        if attr is not None and "scores" in (attr.artifacts or {}):
            kwargs.setdefault("attribution", _attribution_from(attr))
        return cls(source, maps=patterns, **kwargs)

    # -- data ---------------------------------------------------------------------------------------
    def _capture(
        self, source: Any, text: str | None, input_ids: Any, max_tokens: int | None
    ) -> tuple[Any, list[str]]:
        from tbwidgets.checks.tier2.capture import capture_attention
        from tbwidgets.loading import load_model

        self._loaded = load_model(source)
        kwargs = {"max_tokens": max_tokens} if max_tokens else {}
        maps = capture_attention(self._loaded, input_ids=input_ids, text=text, **kwargs)
        self._input_ids = maps.input_ids
        if maps.n_layers == 0:
            raise ValueError(" ".join(maps.notes) or "The model produced no attention maps.")
        return maps, list(maps.notes)

    @property
    def maps(self) -> QuantisedMaps:
        """The quantised maps the explorer holds (uint8 `(L, H, T, T)` plus per-row scales)."""
        return self._quant

    @property
    def nbytes(self) -> int:
        """Bytes of map data the explorer holds."""
        return self._quant.nbytes

    def head_message(self, layer: int, head: int) -> tuple[dict[str, Any], list[memoryview]]:
        """What the front end receives for one head: `(content, [uint8 buffer (T, T)])`.

        `head == n_heads` gives the layer's head average. Decode with
        `np.frombuffer(b0, np.uint8).reshape(shape) * np.frombuffer(b1, np.float32)[:, None]`.
        """
        return head_content(self._quant, int(layer), int(head))

    # -- attribution --------------------------------------------------------------------------------
    def attribute(
        self, position: int = -1, target: int | None = None, *, n_steps: int = 50, wait: bool = False
    ) -> None:
        """Recompute Integrated Gradients for `position` (and `target` token id) in a worker thread."""
        if self._worker is None:
            raise RuntimeError("Attribution needs a model: create the explorer from a model, not from maps.")
        self._worker.start(position, target, n_steps)
        if wait:
            self.wait()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for a running attribution, settle the traits and return the `attribution` value."""
        if self._worker is not None:
            self._worker.wait(timeout)
        self._sync.flush()
        return dict(self.attribution)

    def _publish(self, update: dict[str, Any]) -> None:
        with self._lock:
            if update.get("state") == "running" and self._attr_state.get("state") != "running":
                self._attr_state.pop("progress", None)
            self._attr_state = {**self._attr_state, **update}
            value = dict(self._attr_state)
        self._sync.set("attribution", value)

    def _apply_attribution(self, values: dict[str, Any]) -> None:
        with self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)

    # -- front end messages -------------------------------------------------------------------------
    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        try:
            if content.get("type") == "head":
                reply, buffers = self.head_message(int(content["layer"]), int(content["head"]))
                self.send({**reply, "seq": content.get("seq")}, buffers)
            elif content.get("type") == "attribute":
                target = content.get("target")
                self.attribute(
                    int(content.get("position", -1)), None if target in (None, "") else int(target)
                )
        except Exception as exc:  # noqa: BLE001 - a bad request must leave the explorer usable
            self.send({"type": "error", "seq": content.get("seq"), "message": f"{type(exc).__name__}: {exc}"})

    def __repr__(self) -> str:
        n_layers, n_heads, length = self._quant.shape
        kind = "causal" if bool(self._quant.causal.all()) else "bidirectional"
        state = self.attribution.get("state", "none")
        shape = f"{n_layers} layers × {n_heads} heads × {length} tokens"
        return f"<AttentionExplorer {shape} ({kind}) | attribution: {state}>"


def _maps_from(value: Any) -> Any:
    """Maps from a `tier2.attention_patterns` result or its artifacts dict; anything else as given."""
    artifacts = getattr(value, "artifacts", value)
    if isinstance(artifacts, dict) and "maps" in artifacts:
        from types import SimpleNamespace

        import torch

        data = artifacts["maps"]
        tensor = data if isinstance(data, torch.Tensor) else torch.from_numpy(np.asarray(data))
        return SimpleNamespace(
            data=tensor,
            tokens=artifacts.get("tokens"),
            layer_names=artifacts.get("layer_names"),
            causal=artifacts.get("causal"),
            known=_known_metrics(artifacts),
        )
    return value


def _known_metrics(artifacts: dict[str, Any]) -> tuple[dict[str, Any], list[list[str]]] | None:
    metrics, classes = artifacts.get("head_metrics"), artifacts.get("head_classes")
    return (dict(metrics), list(classes)) if metrics and classes else None


def _attribution_from(result: Any) -> Any:
    """An Attribution-like object from a `tier2.attribution` CheckResult (artifacts and metrics)."""
    from types import SimpleNamespace

    art, met = result.artifacts, result.metrics or {}
    return SimpleNamespace(
        scores=art["scores"],
        target=met.get("target"),
        target_token=art.get("target_token", ""),
        position=art.get("position", met.get("position")),
        delta=met.get("delta"),
        relative_delta=met.get("relative_delta"),
        n_steps=met.get("n_steps"),
    )


def _causal_flags(maps: Any) -> list[bool] | None:
    flags = getattr(maps, "causal", None)
    return [bool(f) for f in flags] if isinstance(flags, (list, tuple)) else None


def _token_strings(tokens: Any, length: int) -> list[str]:
    if tokens is None:
        return [str(i) for i in range(length)]
    strings = [str(t) for t in tokens]
    if len(strings) != length:
        raise ValueError(
            f"{len(strings)} tokens given for maps of length {length}: pass one token per position."
        )
    return strings


def _overview(quant: QuantisedMaps, layer_names: list[str]) -> dict[str, Any]:
    n_layers, n_heads, length = quant.shape
    names = list(quant.stats)
    stats = np.stack([quant.stats[n] for n in names], axis=-1).astype(np.float32)  # (L, H, K)
    return {
        "n_layers": n_layers,
        "n_heads": n_heads,
        "length": length,
        "layer_names": [str(n) for n in layer_names],
        "causal": [bool(c) for c in quant.causal],
        "thumbs": array_payload(quant.thumbs),
        "visible": array_payload(quant.visible),
        "stats": array_payload(stats, names=names),
        "classes": quant.classes,
    }


def state_size(widget: Any) -> dict[str, int]:
    """Bytes of a widget's full state as ipywidgets sends it: JSON text plus binary buffers."""
    import json

    from ipywidgets.widgets.widget import _remove_buffers

    state, _paths, buffers = _remove_buffers(widget.get_state())
    text = len(json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode())
    binary = sum(memoryview(b).nbytes for b in buffers)
    return {"json": text, "buffers": binary, "total": text + binary}


def float_json_arrays(value: Any, path: str = "") -> list[str]:
    """Paths of lists holding floats inside a JSON-able value (the explorer's state must have none)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in float_json_arrays(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, float) for v in value):
            return [path]
        return [p for i, v in enumerate(value) for p in float_json_arrays(v, f"{path}[{i}]")]
    return []
