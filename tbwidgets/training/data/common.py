"""What every builder shares: seed offsets, the seeded split, the loaders, the usable length.

Seeds are derived from `config.random_seed` with a fixed offset per use (task generation, split,
shuffling, masking), so the same seed gives the same examples, split and batches on every run.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from tbwidgets.training.data import sets
from tbwidgets.training.data.loader import ResumableLoader

SPLIT_SEED, SHUFFLE_SEED, MASK_SEED = 1, 2, 3  # offsets from config.random_seed
MIN_DOCS_FOR_DOC_SPLIT = 10  # fewer documents than this: split packed blocks instead


def split_indices(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded (train, val) index lists; val gets round(n * fraction), at least 1 when fraction > 0 and n ≥ 2."""
    n_val = round(n * fraction) if fraction > 0 else 0
    if fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return sorted(perm[n_val:]), sorted(perm[:n_val])


def make_loaders(
    train: Dataset[Any], val: Dataset[Any] | None, cfg: Any, collate: sets.PadCollate, tag_epoch: bool
) -> tuple[ResumableLoader, ResumableLoader | None]:
    seed = cfg.random_seed + SHUFFLE_SEED
    train_dl = ResumableLoader(
        train, batch_size=cfg.batch_size, seed=seed, collate_fn=collate, tag_epoch=tag_epoch
    )
    val_dl = None
    if val is not None and len(val) > 0:  # type: ignore[arg-type]
        val_dl = ResumableLoader(
            val, batch_size=cfg.batch_size, seed=seed, shuffle=False, collate_fn=collate, tag_epoch=tag_epoch
        )
    return train_dl, val_dl


def usable_length(facts: Any, cfg: Any) -> int:
    """Sequence length to build: the config's hint capped at what the model takes."""
    return min(cfg.seq_len or facts.max_len, facts.max_len)
