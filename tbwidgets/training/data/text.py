"""Tokenize text for the model's task: packed causal blocks, masked blocks, or padded labelled texts.

With a Hugging Face tokenizer its own special tokens are used. Without one, the byte tokenizer of
Tier 2 maps UTF-8 bytes to ids 0-255 and the ids just above (256 EOS, 257 PAD, 258 MASK when the
vocabulary has room) serve as specials; a model with fewer than 256 tokens needs a tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from tbwidgets.training.data.sets import MaskSpec

BYTE_EOS, BYTE_PAD, BYTE_MASK = 256, 257, 258


@dataclass(frozen=True)
class Vocab:
    """How text becomes ids for this model: encode plus the special ids the datasets need."""

    encode: Callable[[str], list[int]]
    name: str  # "byte tokenizer" or the tokenizer's class
    vocab_size: int
    eos_id: int | None
    pad_id: int
    mask_id: int | None
    special_ids: frozenset[int]
    random_range: tuple[int, int]  # where 80/10/10's random replacements come from
    separator: int | None  # appended after each document when packing (None: the tokenizer marks ends itself)


def make_vocab(vocab_size: int, tokenizer: Any, model_pad: int | None, *, specials: bool) -> Vocab:
    """The user's tokenizer when given (with its specials when `specials`), else bytes."""
    if tokenizer is not None:
        return _hf_vocab(vocab_size, tokenizer, model_pad, specials)
    from tbwidgets.loading.tokenizer import ByteTokenizer

    byte = ByteTokenizer(vocab_size)  # raises the "needs ≥ 256 tokens, pass tokenizer=" message
    room = vocab_size > BYTE_MASK
    eos = BYTE_EOS if room else 10  # newline separates documents when no id is free
    pad = model_pad if model_pad is not None else (BYTE_PAD if room else 0)
    mask = BYTE_MASK if room else None
    special = frozenset(i for i in (eos, pad, mask) if i is not None and i >= 256)
    return Vocab(byte.encode, "byte tokenizer", vocab_size, eos, pad, mask, special, (0, 256), eos)


def _hf_vocab(vocab_size: int, tok: Any, model_pad: int | None, specials: bool) -> Vocab:
    def encode(text: str) -> list[int]:
        try:
            ids = tok.encode(text, add_special_tokens=specials)
        except TypeError:  # a tokenizer without the keyword
            ids = tok.encode(text)
        return [int(i) for i in ids]

    eos = _first_id(tok, "eos_token_id", "sep_token_id")
    pad = _first_id(tok, "pad_token_id")
    pad = (
        pad if pad is not None else (model_pad if model_pad is not None else (eos if eos is not None else 0))
    )
    mask = _first_id(tok, "mask_token_id")
    special = frozenset(int(i) for i in getattr(tok, "all_special_ids", []) or [])
    special |= {i for i in (eos, pad, mask) if i is not None}
    separator = None if specials else eos  # with specials, each text already ends in [SEP] or </s>
    return Vocab(encode, type(tok).__name__, vocab_size, eos, pad, mask, special, (0, vocab_size), separator)


def _first_id(tok: Any, *names: str) -> int | None:
    for name in names:
        value = getattr(tok, name, None)
        if isinstance(value, int):
            return value
    return None


def encode_all(texts: Sequence[str], vocab: Vocab) -> list[list[int]]:
    """Encode every text, checking that every id fits the model's vocabulary."""
    out = [vocab.encode(t) for t in texts]
    top = max((max(ids) for ids in out if ids), default=-1)
    if top >= vocab.vocab_size:
        raise ValueError(
            f"The {vocab.name} produced id {top}, outside this model's vocabulary of {vocab.vocab_size}. "
            "Use the tokenizer the model was built for."
        )
    return out


def pack(docs: Sequence[list[int]], block: int, separator: int | None) -> list[torch.Tensor]:
    """Concatenate documents (`separator` after each, when given) and cut into blocks of `block` ids.

    A tail shorter than a block is dropped when there is at least one full block; otherwise the one
    short block is kept (and padded by the collate), so a tiny corpus still gives one example.
    """
    stream: list[int] = []
    for ids in docs:
        stream.extend(ids)
        if separator is not None:
            stream.append(separator)
    if not stream:
        raise ValueError("The text is empty after tokenizing; pass some non-empty text.")
    full = len(stream) // block
    if full == 0:
        return [torch.tensor(stream, dtype=torch.long)]
    return list(torch.tensor(stream[: full * block], dtype=torch.long).view(full, block))


def mask_spec(vocab: Vocab, seed: int) -> MaskSpec:
    """The 80/10/10 setup for this vocabulary; ValueError when there is no MASK id."""
    if vocab.mask_id is None:
        raise ValueError(
            f"Masked-LM training needs a MASK token, and the {vocab.name} has none for a vocabulary of "
            f"{vocab.vocab_size}. Pass the model's tokenizer (with mask_token_id), or use a model with ≥ 259 tokens."
        )
    low, high = vocab.random_range
    ordinary = torch.tensor([i for i in range(low, high) if i not in vocab.special_ids], dtype=torch.long)
    return MaskSpec(vocab.mask_id, ordinary, vocab.special_ids, seed=seed)


def class_ids(labels: Sequence[Any], num_labels: int | None) -> tuple[list[int], dict[Any, int] | None]:
    """Class ids from int or string labels (strings get ids in sorted order, returned as the mapping)."""
    if all(hasattr(y, "__index__") for y in labels) or all(
        isinstance(y, str) and y.isdigit() for y in labels
    ):
        ids, mapping = [int(y) for y in labels], None  # ints, NumPy ints, or "0"/"1" read from a file
    else:
        names = sorted({str(y) for y in labels})
        mapping = {name: i for i, name in enumerate(names)}
        ids = [mapping[str(y)] for y in labels]
    bad = [y for y in ids if y < 0 or (num_labels is not None and y >= num_labels)]
    if bad:
        raise ValueError(
            f"Label {bad[0]} does not fit this model's {num_labels} classes (ids 0..{(num_labels or 1) - 1}). "
            "Relabel the data or use a model with a bigger classification head."
        )
    return ids, mapping


def renderer(vocab: Vocab, tokenizer: Any) -> Callable[[Sequence[int]], str]:
    """Ids back to readable text: the tokenizer's decode, or bytes with the byte specials named."""
    if tokenizer is not None:
        if hasattr(tokenizer, "decode"):
            return lambda ids: str(tokenizer.decode([int(i) for i in ids]))
        return lambda ids: " ".join(str(int(i)) for i in ids)  # a tokenizer that cannot decode: show the ids
    names = {BYTE_EOS: "⏎", BYTE_PAD: "", BYTE_MASK: "[MASK]"}

    def render(ids: Sequence[int]) -> str:
        parts, run = [], bytearray()
        for i in map(int, ids):
            if i < 256:
                run.append(i)
                continue
            parts += [run.decode("utf-8", "replace"), names.get(i, f"<{i}>")]
            run = bytearray()
        parts.append(run.decode("utf-8", "replace"))
        return "".join(parts).replace("\n", "⏎")

    return render
