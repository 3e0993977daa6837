"""Input kinds tbwidgets cannot feed, found at load and explained once (never as a row of crashed checks).

Every check feeds token ids shaped (batch, length). Two common kinds of module want something else:
a module that takes float embeddings (a bare `nn.TransformerEncoder`, or any model without a token
embedding that crashes on ids), and a sequence-first model (`batch_first=False` layers fed (length,
batch)). Both are refused with the few lines of wrapper code that make them checkable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from tbwidgets.loading.errors import LoadError

_EMBEDDING_TAKERS = (
    nn.TransformerEncoder,
    nn.TransformerDecoder,
    nn.Transformer,
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
    nn.MultiheadAttention,
)

_DTYPE_CRASH = re.compile(r"dtype|scalar type|not implemented for '?(Long|Int)|Long|Float", re.I)

_WRAP_EMBEDDINGS = """Wrap it in a module that embeds token ids and projects to the vocabulary:
    class Wrapped(nn.Module):
        def __init__(self, body, vocab_size, d_model, max_len):
            super().__init__()
            self.tok = nn.Embedding(vocab_size, d_model)
            self.pos = nn.Embedding(max_len, d_model)
            self.body = body  # batch_first=True layers
            self.head = nn.Linear(d_model, vocab_size)
        def forward(self, input_ids):
            x = self.tok(input_ids) + self.pos(torch.arange(input_ids.shape[1], device=input_ids.device))
            return self.head(self.body(x))"""

_WRAP_SEQ_FIRST = """Build its layers with batch_first=True, or wrap it:
    class BatchFirst(nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model
        def forward(self, input_ids):  # (batch, length)
            return self.model(input_ids.t()).transpose(0, 1)  # the model sees (length, batch)"""


def embedding_input_error(name: str, why: str) -> LoadError:
    return LoadError(
        f"{name} takes float embeddings (batch, length, d_model), not token ids ({why}); every "
        "tbwidgets check feeds token ids, so there is nothing to check on this module alone.",
        _WRAP_EMBEDDINGS,
    )


def check_takes_tokens(module: nn.Module, has_token_embedding: bool, crash: str | None) -> None:
    """Raise for modules that take embeddings: known PyTorch layers, or no embedding and a dtype crash on ids.

    Only a dtype complaint counts: a model that embeds ids its own way and crashes for another
    reason keeps loading, so the checks can show that crash.
    """
    name = type(module).__name__
    if isinstance(module, _EMBEDDING_TAKERS):
        raise embedding_input_error(name, f"it is torch.nn.{name}")
    if not has_token_embedding and crash is not None and _DTYPE_CRASH.search(crash):
        raise embedding_input_error(name, f"it has no nn.Embedding and crashed on ids: {crash}")


def _out_rows(logits: torch.Tensor, seq_first: bool) -> torch.Tensor:
    return logits.transpose(0, 1) if seq_first and logits.ndim >= 2 else logits


def _mixes(fn: Callable[[torch.Tensor], Any], ids: torch.Tensor, seq_first: bool) -> bool | None:
    """Does row 0 change when a second row joins the batch? None when the call fails or shapes are odd."""
    pair, single = (ids.t(), ids[:1].t()) if seq_first else (ids, ids[:1])
    try:
        with torch.no_grad():
            both, alone = _out_rows(fn(pair), seq_first), _out_rows(fn(single), seq_first)
    except Exception:  # noqa: BLE001 - this layout does not run: no evidence either way
        return None
    if not isinstance(both, torch.Tensor) or not isinstance(alone, torch.Tensor) or both.ndim < 2:
        return None
    if both.shape[0] != 2 or both.shape[1:] != alone.shape[1:]:
        return None
    a, b = both[0].float(), alone[0].float()
    tol = (1e-4 if both.dtype == torch.float32 else 2e-2) * max(1.0, float(b.abs().max()))
    return bool((a - b).abs().max() > tol)


def check_batch_first(module: nn.Module, call: Callable[[torch.Tensor], Any], ids: torch.Tensor) -> None:
    """Raise when rows of a (batch, length) batch mix but columns of a (length, batch) one do not.

    A sequence-first model fed (batch, length) attends across the batch; its outputs still have
    the expected shape, so without this test every check would run on nonsense. Only models holding
    nn.MultiheadAttention(batch_first=False) are suspected: a batch-first model whose rows mix has a
    bug that Batch independence reports, and must not be refused here.
    """
    seq_first_layers = [
        m for m in module.modules() if isinstance(m, nn.MultiheadAttention) and not m.batch_first
    ]
    if not seq_first_layers:
        return  # without such layers, rows that mix are a bug for Batch independence to report
    was_training = module.training
    module.eval()
    try:
        if _mixes(call, ids, False) and _mixes(call, ids, True) is False:
            name = type(module).__name__
            raise LoadError(
                f"{name} expects sequence-first input (length, batch): fed (batch, length), rows of a "
                "batch change each other's outputs, while fed (length, batch) they do not "
                "(nn.Transformer layers default to batch_first=False).",
                _WRAP_SEQ_FIRST,
            )
    finally:
        module.train(was_training)
