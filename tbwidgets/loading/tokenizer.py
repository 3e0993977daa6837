"""Text in, tokens out: a byte-level tokenizer for any vocab ≥ 256, HF tokenizer passthrough, raw ids.

Tier 2 shows what a model does with a piece of text, and Tier 3 trains on text: both read it through
here, so it lives with loading, which both may import. Most models users bring have no tokenizer, so
the built-in one maps each UTF-8 byte to the id of the same value (ids 0-255), which every model with
a vocabulary of at least 256 tokens accepts, and gives readable token strings for the views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

DEFAULT_TEXT = "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog again."  # repeats itself, so induction and previous-token heads have something to latch onto
DEFAULT_MAX_TOKENS = 128  # long enough for patterns, small enough for O(T^2) maps on a CPU
BYTE_VOCAB = 256


@dataclass(frozen=True)
class TokenInput:
    """Token ids `(1, T)` with one readable string per token and where they came from."""

    ids: torch.Tensor  # (1, T) int64
    tokens: list[str]
    source: str  # "byte tokenizer", "tokenizer", "input_ids" or "random ids"
    truncated_from: int | None = None  # original length when the input was cut to fit

    @property
    def length(self) -> int:
        return int(self.ids.shape[-1])


def byte_token_string(token_id: int) -> str:
    """A readable label for a byte-level token: printable ASCII as is, others escaped."""
    if token_id >= BYTE_VOCAB:
        return f"<{token_id}>"
    if token_id == 0x20:
        return "␣"  # a visible space, so a row of spaces can be told apart in views
    if token_id == 0x0A:
        return "\\n"
    if 0x21 <= token_id <= 0x7E:
        return chr(token_id)
    return f"<0x{token_id:02X}>"


class ByteTokenizer:
    """UTF-8 bytes as token ids 0-255; needs a vocabulary of at least 256 tokens."""

    def __init__(self, vocab_size: int) -> None:
        if vocab_size < BYTE_VOCAB:
            raise ValueError(
                f"The built-in byte tokenizer needs a vocabulary of at least {BYTE_VOCAB} tokens; this "
                f"model has {vocab_size}. Pass `input_ids=` (token ids of your own) or `tokenizer=`."
            )
        self.vocab_size = vocab_size

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def tokens(self, ids: Sequence[int]) -> list[str]:
        return [byte_token_string(int(i)) for i in ids]


def _hf_encode(tokenizer: Any, text: str) -> tuple[list[int], list[str]]:
    """Encode with a Hugging Face style tokenizer (anything with `encode`/`convert_ids_to_tokens`)."""
    ids = [int(i) for i in tokenizer.encode(text)]
    if hasattr(tokenizer, "convert_ids_to_tokens"):
        tokens = [str(t) for t in tokenizer.convert_ids_to_tokens(ids)]
    else:
        tokens = [str(tokenizer.decode([i])) for i in ids]
    return ids, tokens


def id_strings(ids: Sequence[int], vocab_size: int, tokenizer: Any = None) -> list[str]:
    """Labels for raw ids: the tokenizer's strings when there is one, else byte labels or `<id>`."""
    if tokenizer is not None and hasattr(tokenizer, "convert_ids_to_tokens"):
        return [str(t) for t in tokenizer.convert_ids_to_tokens([int(i) for i in ids])]
    if vocab_size >= BYTE_VOCAB:
        return [byte_token_string(int(i)) for i in ids]
    return [f"<{int(i)}>" for i in ids]


def prepare_tokens(
    vocab_size: int,
    *,
    input_ids: torch.Tensor | Sequence[int] | None = None,
    text: str | None = None,
    tokenizer: Any = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    seed: int = 0,
) -> TokenInput:
    """Resolve what the user gave (ids, text, or nothing) into `(1, T)` ids of at most `max_tokens`.

    With nothing given, the default sample text is used, or deterministic random ids when the
    vocabulary is too small for bytes.
    """
    if input_ids is not None:
        ids_t = (
            torch.as_tensor(input_ids, dtype=torch.long).reshape(-1)
            if not isinstance(input_ids, torch.Tensor)
            else input_ids.detach().long()
        )
        if ids_t.dim() == 2:
            if ids_t.shape[0] != 1:
                raise ValueError(f"Pass one sequence (shape (T,) or (1, T)); got shape {tuple(ids_t.shape)}.")
            ids_t = ids_t[0]
        ids_list = [int(i) for i in ids_t.cpu()]
        _check_range(ids_list, vocab_size)
        return _finish(ids_list, id_strings(ids_list, vocab_size, tokenizer), "input_ids", max_tokens)
    if tokenizer is not None:
        ids_list, tokens = _hf_encode(tokenizer, text if text is not None else DEFAULT_TEXT)
        _check_range(ids_list, vocab_size)
        return _finish(ids_list, tokens, "tokenizer", max_tokens)
    if text is None and vocab_size < BYTE_VOCAB:
        gen = torch.Generator().manual_seed(seed)
        ids_list = torch.randint(0, vocab_size, (min(max_tokens, 64),), generator=gen).tolist()
        return _finish(ids_list, id_strings(ids_list, vocab_size), "random ids", max_tokens)
    byte_tok = ByteTokenizer(vocab_size)
    ids_list = byte_tok.encode(text if text is not None else DEFAULT_TEXT)
    return _finish(ids_list, byte_tok.tokens(ids_list), "byte tokenizer", max_tokens)


def _check_range(ids: Sequence[int], vocab_size: int) -> None:
    bad = [i for i in ids if i < 0 or i >= vocab_size]
    if bad:
        raise ValueError(
            f"Token id {bad[0]} is outside this model's vocabulary (0..{vocab_size - 1}). "
            "Use the tokenizer the model was built for, or ids below the vocabulary size."
        )


def _finish(ids: list[int], tokens: list[str], source: str, max_tokens: int) -> TokenInput:
    if not ids:
        raise ValueError("The input is empty: pass a non-empty `text` or `input_ids`.")
    truncated = len(ids) if len(ids) > max_tokens else None
    ids, tokens = ids[:max_tokens], tokens[:max_tokens]
    return TokenInput(torch.tensor([ids], dtype=torch.long), tokens, source, truncated)
