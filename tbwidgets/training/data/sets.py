"""Map-style datasets for the three losses, the padding collate, and seeded 80/10/10 masking.

Every item is a dict of 1-D tensors (classification labels are 0-D); `PadCollate` pads a batch to its
longest item with an attention mask, so variable lengths never reach `torch.stack` unequal. Items are
pure functions of the index the sampler yields, which is what makes the loaders resumable; masked-LM
sets read the epoch from that index (`ResumableSampler(tag_epoch=True)`) so masks change per epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset

IGNORE = -100  # CrossEntropyLoss's ignore_index: no loss at this position

Item = dict[str, torch.Tensor]


class Batched(dict):  # type: ignore[type-arg]
    """A batch a dataset built in one go (`__getitems__`); PadCollate passes it through untouched."""


class AnswerSet(Dataset[Item]):
    """Fixed-length examples with labels only where `answer` is True (synthetic tasks, any LM kind)."""

    def __init__(self, ids: torch.Tensor, answer: torch.Tensor, kind: str, mask_id: int) -> None:
        self.ids, self.answer, self.kind, self.mask_id = ids, answer, kind, mask_id

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __getitem__(self, i: int) -> Item:
        return self._rows(self.ids[i], self.answer[i])

    def __getitems__(self, idx: list[int]) -> Batched:
        """A whole batch in one indexing op (DataLoader calls this instead of one __getitem__ per row)."""
        return Batched(self._rows(self.ids[idx], self.answer[idx]))

    def _rows(self, ids: torch.Tensor, answer: torch.Tensor) -> Item:
        labels = torch.where(answer, ids, IGNORE)
        if self.kind == "masked-lm":  # the answer is hidden from a bidirectional model
            ids = torch.where(answer, self.mask_id, ids)
        return {"input_ids": ids, "labels": labels}


class CausalBlocks(Dataset[Item]):
    """Packed token blocks for next-token prediction; labels equal the inputs (the module shifts)."""

    def __init__(self, blocks: Sequence[torch.Tensor]) -> None:
        self.blocks = list(blocks)

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, i: int) -> Item:
        ids = self.blocks[i]
        return {"input_ids": ids, "labels": ids.clone()}


@dataclass(frozen=True)
class MaskSpec:
    """How to mask: rate, the MASK id, the ids random replacements come from, ids never masked."""

    mask_id: int
    random_ids: torch.Tensor  # (K,) ordinary tokens: a replacement is never PAD, MASK or another special
    special_ids: frozenset[int]
    rate: float = 0.15  # BERT's masking rate
    seed: int = 0

    @property
    def special_tensor(self) -> torch.Tensor:
        return torch.tensor(sorted(self.special_ids), dtype=torch.long)


def _mix(x: torch.Tensor) -> torch.Tensor:
    """A 31-bit integer hash (two multiply-xorshift rounds); int64 never overflows on the way."""
    for _ in range(2):
        x = ((x ^ (x >> 16)) * 0x45D9F3B) % _M31
    return x ^ (x >> 16)


_M31 = 2**31


def _uniform(keys: torch.Tensor, width: int, salt: int) -> torch.Tensor:
    """(B, width) numbers in [0, 1), a pure function of (key, position, salt): the same for a row alone
    or inside any batch, which is what keeps masks identical across batch sizes, workers and resumes."""
    pos = torch.arange(width, dtype=torch.long)
    x = _mix(_mix(keys[:, None] % _M31 + salt * 7919) ^ pos[None, :])  # (B, T)
    return _mix(x + salt).double() / _M31


def mask_tokens(ids: torch.Tensor, keys: torch.Tensor, spec: MaskSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking of (B, T) ids: 15 % chosen; of those 80 % MASK, 10 % random, 10 % kept.

    `keys` (B,) identify each row (seed, epoch, example). A row with nothing chosen gets one position
    whenever it has a maskable one, so no example is without a label.
    """
    special = spec.special_tensor
    can = ~torch.isin(ids, special) if special.numel() else torch.ones_like(ids, dtype=torch.bool)
    u_choose, u_roll, u_pick = (_uniform(keys, ids.shape[1], salt) for salt in (1, 2, 3))
    chosen = (u_choose < spec.rate) & can
    empty = ~chosen.any(1) & can.any(1)
    if empty.any():
        first = torch.where(can, u_choose, 2.0).argmin(1)  # the would-be-first pick among maskable ones
        chosen[empty.nonzero().flatten(), first[empty]] = True
    labels = torch.where(chosen, ids, IGNORE)
    replaced = torch.where(chosen & (u_roll < 0.8), spec.mask_id, ids)
    pick = spec.random_ids[(u_pick * len(spec.random_ids)).long().clamp(max=len(spec.random_ids) - 1)]
    replaced = torch.where(chosen & (u_roll >= 0.8) & (u_roll < 0.9), pick, replaced)
    return replaced, labels


class MaskedBlocks(Dataset[Item]):
    """Token sequences masked on the fly; index `epoch * n + i` gives example i masked for that epoch."""

    def __init__(self, seqs: Sequence[torch.Tensor], spec: MaskSpec) -> None:
        self.seqs, self.spec = list(seqs), spec

    def __len__(self) -> int:
        return len(self.seqs)

    def _key(self, key: int) -> tuple[int, int]:
        epoch, i = divmod(int(key), len(self.seqs))
        # one stream per (seed, epoch, example): same mask on every rerun, a new one every epoch
        return (self.spec.seed * 1_000_003 + epoch) * 10_000_019 + i, i

    def __getitem__(self, key: int) -> Item:
        k, i = self._key(key)
        ids, labels = mask_tokens(self.seqs[i][None, :], torch.tensor([k]), self.spec)
        return {"input_ids": ids[0], "labels": labels[0]}

    def __getitems__(self, keys: list[int]) -> Batched | list[Item]:
        pairs = [self._key(k) for k in keys]
        seqs = [self.seqs[i] for _, i in pairs]
        if any(s.shape != seqs[0].shape for s in seqs):
            return [self[k] for k in keys]  # a short last block: the collate pads
        ids, labels = mask_tokens(torch.stack(seqs), torch.tensor([k for k, _ in pairs]), self.spec)
        return Batched({"input_ids": ids, "labels": labels})


class LabelledTexts(Dataset[Item]):
    """Token ids of one text each with a class id (classification) or a float target (regression)."""

    def __init__(
        self, seqs: Sequence[torch.Tensor], labels: Sequence[float], dtype: torch.dtype = torch.long
    ) -> None:
        if len(seqs) != len(labels):
            raise ValueError(f"{len(seqs)} texts but {len(labels)} labels: give one label per text.")
        self.seqs, self.labels, self.dtype = list(seqs), list(labels), dtype

    def __len__(self) -> int:
        return len(self.seqs)

    def __getitem__(self, i: int) -> Item:
        return {"input_ids": self.seqs[i], "labels": torch.tensor(self.labels[i], dtype=self.dtype)}


class PadCollate:
    """Stack items into a batch, right-padding sequences; adds `attention_mask` when `with_mask`.

    A class (not a closure) so DataLoader workers can pickle it.
    """

    def __init__(self, pad_id: int, with_mask: bool = True) -> None:
        self.pad_id, self.with_mask = pad_id, with_mask

    def __call__(self, items: list[Item] | Batched) -> dict[str, torch.Tensor]:
        if isinstance(items, Batched):  # already stacked: equal lengths, nothing padded
            stacked = dict(items)
            if self.with_mask:  # every batch of a loader has the same keys
                stacked["attention_mask"] = torch.ones_like(stacked["input_ids"])
            return stacked
        lengths = [int(it["input_ids"].shape[0]) for it in items]
        width = max(lengths)
        batch: dict[str, Any] = {"input_ids": _pad([it["input_ids"] for it in items], width, self.pad_id)}
        if self.with_mask:
            batch["attention_mask"] = (torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]).long()
        labels = [it["labels"] for it in items]
        batch["labels"] = torch.stack(labels) if labels[0].dim() == 0 else _pad(labels, width, IGNORE)
        return batch


def _pad(seqs: list[torch.Tensor], width: int, value: int) -> torch.Tensor:
    if all(s.shape[0] == width for s in seqs):
        return torch.stack(seqs)  # packed blocks: nothing to pad
    out = torch.full((len(seqs), width), value, dtype=torch.long)  # (B, T)
    for row, s in enumerate(seqs):
        out[row, : s.shape[0]] = s
    return out
