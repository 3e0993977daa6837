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


class AnswerSet(Dataset[Item]):
    """Fixed-length examples with labels only where `answer` is True (synthetic tasks, any LM kind)."""

    def __init__(self, ids: torch.Tensor, answer: torch.Tensor, kind: str, mask_id: int) -> None:
        self.ids, self.answer, self.kind, self.mask_id = ids, answer, kind, mask_id

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __getitem__(self, i: int) -> Item:
        ids, answer = self.ids[i], self.answer[i]
        labels = torch.where(answer, ids, torch.full_like(ids, IGNORE))
        if self.kind == "masked-lm":  # the answer is hidden from a bidirectional model
            ids = torch.where(answer, torch.full_like(ids, self.mask_id), ids)
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


def mask_tokens(ids: torch.Tensor, spec: MaskSpec, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking of a (T,) sequence: 15 % chosen; of those 80 % MASK, 10 % random, 10 % kept.

    At least one position is chosen whenever one can be, so no example is without a label.
    """
    can = torch.tensor([int(t) not in spec.special_ids for t in ids.tolist()], dtype=torch.bool)
    chosen = (torch.rand(ids.shape, generator=gen) < spec.rate) & can
    if not chosen.any() and can.any():
        idx = can.nonzero().flatten()
        chosen[idx[int(torch.randint(len(idx), (1,), generator=gen))]] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    roll = torch.rand(ids.shape, generator=gen)
    replaced = ids.clone()
    replaced[chosen & (roll < 0.8)] = spec.mask_id
    randomised = chosen & (roll >= 0.8) & (roll < 0.9)
    n_rand = int(randomised.sum())
    pick = torch.randint(len(spec.random_ids), (n_rand,), generator=gen)
    replaced[randomised] = spec.random_ids[pick]
    return replaced, labels


class MaskedBlocks(Dataset[Item]):
    """Token sequences masked on the fly; index `epoch * n + i` gives example i masked for that epoch."""

    def __init__(self, seqs: Sequence[torch.Tensor], spec: MaskSpec) -> None:
        self.seqs, self.spec = list(seqs), spec

    def __len__(self) -> int:
        return len(self.seqs)

    def __getitem__(self, key: int) -> Item:
        n = len(self.seqs)
        epoch, i = divmod(int(key), n)
        # one stream per (seed, epoch, example): same mask on every rerun, a new one every epoch
        gen = torch.Generator().manual_seed((self.spec.seed * 1_000_003 + epoch) * 10_000_019 + i)
        ids, labels = mask_tokens(self.seqs[i], self.spec, gen)
        return {"input_ids": ids, "labels": labels}


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

    def __call__(self, items: list[Item]) -> dict[str, torch.Tensor]:
        lengths = [int(it["input_ids"].shape[0]) for it in items]
        width = max(lengths)
        batch: dict[str, Any] = {"input_ids": _pad([it["input_ids"] for it in items], width, self.pad_id)}
        if self.with_mask:
            batch["attention_mask"] = (torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]).long()
        labels = [it["labels"] for it in items]
        batch["labels"] = torch.stack(labels) if labels[0].dim() == 0 else _pad(labels, width, IGNORE)
        return batch


def _pad(seqs: list[torch.Tensor], width: int, value: int) -> torch.Tensor:
    out = torch.full((len(seqs), width), value, dtype=torch.long)  # (B, T)
    for row, s in enumerate(seqs):
        out[row, : s.shape[0]] = s
    return out
