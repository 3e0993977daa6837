"""Turn what a user passes (LoadedModel, nn.Module, path, gist id…) into a LoadedModel, and small helpers.

The public Tier 2 functions accept anything `load_model` accepts. A LoadedModel is used as is.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tbwidgets.loading.model import LoadedModel
from tbwidgets.loading.tokenizer import DEFAULT_MAX_TOKENS, TokenInput, prepare_tokens


def as_loaded(source: Any) -> LoadedModel:
    """`source` as a LoadedModel: used as is, else built with `tbwidgets.loading.load_model`."""
    if isinstance(source, LoadedModel):
        return source
    from tbwidgets.loading import load_model  # type: ignore[attr-defined]

    return load_model(source)  # type: ignore[no-any-return]


def model_device(module: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for parameter-free modules)."""
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def token_input(
    loaded: LoadedModel,
    *,
    input_ids: Any = None,
    text: str | None = None,
    tokenizer: Any = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> TokenInput:
    """Token ids for `loaded`, capped at the model's maximum length and `max_tokens`."""
    limit = max(1, min(max_tokens, loaded.facts.max_len))
    return prepare_tokens(
        loaded.facts.vocab_size, input_ids=input_ids, text=text, tokenizer=tokenizer, max_tokens=limit
    )


def logits_of(loaded: LoadedModel, ids: torch.Tensor) -> torch.Tensor:
    """Logits `(B, T, V)`; classification heads `(B, C)` are given a length axis of one."""
    logits = loaded.adapter(ids)
    return logits.unsqueeze(1) if logits.dim() == 2 else logits
