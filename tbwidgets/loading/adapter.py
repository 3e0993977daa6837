"""ModelAdapter: one calling convention, `adapter(input_ids, attention_mask=None) -> logits`, for any model.

Built from `inspect.signature(forward)` once, at load time. Transformer Builder exports take a single
positional token tensor with an unusual name (`input_0_tokens`), Hugging Face models take `input_ids`
and `attention_mask` by keyword and return a `ModelOutput`; other models return tuples or dicts. The
adapter hides all of that and always returns the logits tensor.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from tbwidgets.loading.errors import ExportBugError, LoadError

MASK_NAMES = ("attention_mask", "mask", "padding_mask")
"""Mask parameters passed by keyword when `forward` names them; anything else never gets a mask."""

TARGET_NAMES = ("targets", "labels", "target", "y")
"""Optional training-target parameters; passed (as dummy targets) only when the logits need them."""

# A known Transformer Builder generator bug put intermediate node outputs into forward's signature.
_INTERMEDIATE = re.compile(r"(_output|_out|_x)$|^(mhsa|residual|ffn|attention|mlp|layer|layernorm)_\d")


def _is_hf_model(module: nn.Module) -> bool:
    # Only look at transformers if the user already imported it: importing it costs seconds.
    tf = sys.modules.get("transformers")
    return tf is not None and isinstance(module, getattr(tf, "PreTrainedModel", ()))


def leaked_intermediates(required: list[str]) -> list[str]:
    """Names among the extra required forward parameters that look like intermediate node outputs."""
    return [name for name in required if _INTERMEDIATE.search(name)]


def export_bug_error(cls_name: str, first: str, leaked: list[str]) -> ExportBugError:
    names = ", ".join(leaked)
    return ExportBugError(
        f"Transformer Builder export bug: {cls_name}.forward() takes {names} as inputs besides "
        f"{first}; these are intermediate results the model should compute itself, so the model "
        "cannot be called with tokens alone (feeding made-up tensors would give meaningless checks).",
        "Re-export the model from Transformer Builder (regenerate the code from the canvas). "
        f"Meanwhile edit model.py so that forward takes only {first} and computes {names} inside.",
    )


class ModelAdapter:
    """Calls `module` with a token tensor (and a mask when it accepts one) and returns the logits.

    Attributes: `input_name` (the token parameter), `by_keyword` (token passed by keyword),
    `accepts_mask`, `mask_name`, `output_kind` ("tensor", "tuple", "dict", "dict_key", "attr";
    "unknown" until the first call), `pass_targets` (dummy targets are passed, see `calibrate`).
    """

    def __init__(self, module: nn.Module, vocab_size: int | None = None) -> None:
        self.module = module
        self.vocab_size = vocab_size  # lets a dict without 'logits' be read by the vocabulary's width
        try:
            sig = inspect.signature(module.forward)
        except (TypeError, ValueError) as exc:  # builtins/compiled forwards may have no signature
            raise LoadError(
                f"Cannot read the signature of {type(module).__name__}.forward: {exc}",
                "Wrap the model in an nn.Module whose forward takes one token tensor.",
            ) from exc
        params = list(sig.parameters.values())
        self.has_var_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        var_positional = any(p.kind is p.VAR_POSITIONAL for p in params)
        keyword_names = {p.name for p in params if p.kind is not p.VAR_POSITIONAL}
        self.mask_name: str | None = next((n for n in MASK_NAMES if n in keyword_names), None)
        self.accepts_mask = self.mask_name is not None
        self.input_name = positional[0].name if positional else ("*args" if var_positional else "input_ids")
        self.by_keyword = bool(positional) and self.input_name == "input_ids" and _is_hf_model(module)
        if not positional and not var_positional:
            if not self.has_var_kwargs:
                raise LoadError(
                    f"{type(module).__name__}.forward() takes no token input.",
                    "Give forward a first parameter for the token ids, e.g. forward(self, input_ids).",
                )
            self.by_keyword = True  # forward(**kwargs): input_ids is the only sensible name
        self._check_required(type(module).__name__, params)
        self.output_kind = "unknown"
        optional = [p.name for p in params[1:] if p.default is not p.empty]
        self.targets_name: str | None = next((n for n in TARGET_NAMES if n in optional), None)
        self.pass_targets = False  # set by calibrate(): forward gives every position only with targets
        self.logits_key: str | None = None  # a dict entry used as logits (no 'logits' key)

    def _check_required(self, cls_name: str, params: list[inspect.Parameter]) -> None:
        """Refuse forward signatures that need more than tokens (and a mask)."""
        required = [
            p.name
            for p in params[1:]
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        extra = [n for n in required if n != self.mask_name]
        leaked = leaked_intermediates(extra)
        if leaked:
            raise export_bug_error(cls_name, self.input_name, leaked)
        if extra:
            raise LoadError(
                f"{cls_name}.forward() requires {', '.join(extra)} besides the tokens "
                f"({self.input_name}); tbwidgets only knows how to supply token ids and an attention mask.",
                "Give those parameters defaults (e.g. `=None`) or wrap the model in a module whose "
                "forward takes only the token ids.",
            )
        self.mask_required = self.mask_name in required

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        kwargs: dict[str, Any] = {}
        if self.mask_name is not None and (attention_mask is not None or self.mask_required):
            mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
            # padding_mask follows PyTorch's key_padding_mask convention: True marks padding.
            kwargs[self.mask_name] = ~mask.bool() if self.mask_name == "padding_mask" else mask
        if self.pass_targets and self.targets_name is not None:
            # dummy targets: only the logits' shape matters; contiguous because models .view() them
            kwargs[self.targets_name] = input_ids.contiguous()
        if self.by_keyword:
            out = self.module(input_ids=input_ids, **kwargs)
        else:
            out = self.module(input_ids, **kwargs)
        return self.extract_logits(out)

    def calibrate(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Call once at load: when the logits lack positions (nanoGPT returns only the last one
        without targets) and forward takes targets, check that passing them gives every position."""
        logits = self(input_ids)
        if self.targets_name is None or logits.ndim != 3 or logits.shape[1] == input_ids.shape[1]:
            return logits
        self.pass_targets = True
        try:
            full = self(input_ids)
        except Exception:  # noqa: BLE001 - targets of this shape are not accepted: keep the first call
            full = logits
        if full.ndim == 3 and full.shape[1] == input_ids.shape[1]:
            return full
        self.pass_targets = False
        return logits

    def extract_logits(self, out: Any) -> torch.Tensor:
        """The logits inside whatever forward returned; remembers the kind for `describe()`."""
        if isinstance(out, torch.Tensor):
            self.output_kind = "tensor"
            return out
        logits = getattr(out, "logits", None)
        if isinstance(logits, torch.Tensor):
            self.output_kind = "attr"
            return logits
        if isinstance(out, Mapping) and isinstance(out.get("logits"), torch.Tensor):
            self.output_kind = "dict"
            return out["logits"]
        if isinstance(out, Mapping) and self._vocab_entry(out) is not None:
            self.output_kind = "dict_key"
            return out[self.logits_key]
        if isinstance(out, (tuple, list)):
            first = next((x for x in out if isinstance(x, torch.Tensor)), None)
            if first is not None:
                self.output_kind = "tuple"
                return first
        raise LoadError(
            f"{type(self.module).__name__}.forward() returned {type(out).__name__}, which holds no logits tensor.",
            "Return the logits: a tensor, a tuple whose first tensor is the logits, a dict with "
            "'logits', or an object with a .logits attribute.",
        )

    def _vocab_entry(self, out: Mapping[Any, Any]) -> Any:
        """The one dict entry whose last dimension is the vocabulary's width (None unless exactly one)."""
        if self.logits_key in out:
            return self.logits_key
        width = self.vocab_size
        keys = [
            k
            for k, v in out.items()
            if isinstance(v, torch.Tensor) and v.ndim >= 2 and width is not None and v.shape[-1] == width
        ]
        self.logits_key = keys[0] if len(keys) == 1 else None
        return self.logits_key

    def describe(self) -> str:
        """One line saying how the model is called, e.g. `model(input_0_tokens) → tensor`."""
        call = f"input_ids={self.input_name}" if self.by_keyword else self.input_name
        if self.by_keyword and self.input_name == "input_ids":
            call = "input_ids=…"
        mask = f", {self.mask_name}=…" if self.accepts_mask else ""
        kinds = {
            "tensor": "logits tensor",
            "tuple": "tuple, logits = first tensor",
            "dict": "dict['logits']",
            "attr": "output.logits",
            "dict_key": f"dict[{self.logits_key!r}] (no 'logits' key; the one entry as wide as the vocabulary)",
            "unknown": "not called yet",
        }
        note = "" if self.accepts_mask else "; attention mask not accepted (ignored)"
        if self.pass_targets:
            call += f", {self.targets_name}=<the input ids>"
            note += (
                f"; dummy {self.targets_name} are passed because without them forward returns "
                "fewer positions than it was given (e.g. only the last one)"
            )
        return f"model({call}{mask}) → {kinds[self.output_kind]}{note}"

    def __repr__(self) -> str:
        return f"<ModelAdapter {self.describe()}>"
