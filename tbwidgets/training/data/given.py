"""Data the user already prepared: their loaders (passed through), a map-style Dataset, or token ids.

A map-style `torch.utils.data.Dataset` whose items are dicts in the batch format (`input_ids`, `labels`,
optional `attention_mask`) and a 2-D integer tensor or array of token ids both get seeded splits and
resumable loaders like the built-in data; loaders passed in are used as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, Subset

from tbwidgets.training.data import sets
from tbwidgets.training.data.bundle import TrainingData
from tbwidgets.training.data.common import SPLIT_SEED, make_loaders, split_indices, usable_length
from tbwidgets.training.data.text import pack

_LENGTH_PROBE = 64  # items looked at to decide whether batches need padding


def is_loader(obj: Any) -> bool:
    """A DataLoader, or an iterable of batches with a length (not text, tables, tensors or datasets)."""
    if isinstance(obj, DataLoader):
        return True
    excluded = (str, bytes, list, tuple, dict, torch.Tensor, Dataset)
    return (
        isinstance(obj, Iterable)
        and hasattr(obj, "__len__")
        and not isinstance(obj, excluded)
        and not hasattr(obj, "column_names")
        and type(obj).__module__.split(".")[0] not in ("pandas", "numpy")
    )


def is_map_dataset(obj: Any) -> bool:
    return isinstance(obj, Dataset) and not isinstance(obj, IterableDataset) and hasattr(obj, "__len__")


def is_token_ids(obj: Any) -> bool:
    """A 2-D integer tensor or NumPy array: rows of token ids."""
    if type(obj).__module__.split(".")[0] == "numpy" and getattr(obj, "ndim", 0) == 2:
        return obj.dtype.kind in "iu"  # type: ignore[no-any-return]
    return isinstance(obj, torch.Tensor) and obj.dim() == 2 and not obj.is_floating_point()


def _size(loader: Any) -> int:
    dataset = getattr(loader, "dataset", None)
    try:
        return len(dataset) if dataset is not None else 0  # type: ignore[arg-type]
    except TypeError:  # an IterableDataset without a length
        return 0


def passthrough(train: Any, val: Any, kind: str, facts: Any) -> TrainingData:
    """The user's own loaders, described as such; resumable only if they have state_dict/load_state_dict."""
    resumable = hasattr(train, "state_dict") and hasattr(train, "load_state_dict")
    note = (
        "Your train loader has no state_dict/load_state_dict: a resumed run restarts its epoch from the "
        "first batch. Use tbwidgets.training.data.ResumableLoader to resume at the exact batch."
    )
    return TrainingData(
        kind=kind,
        train=train,
        val=val,
        description="Your own loaders.",
        expected="",
        seq_len=facts.max_len,
        vocab_size=facts.vocab_size,
        n_train=_size(train),
        n_val=_size(val) if val is not None else 0,
        pad_token_id=facts.pad_token_id,
        task="custom",
        resumable=resumable,
        notes=[] if resumable else [note],
    )


def from_dataset(dataset: Dataset[Any], kind: str, facts: Any, cfg: Any) -> TrainingData:
    """A map-style Dataset of batch-format dicts, split with the config's seed, in resumable loaders."""
    n = len(dataset)  # type: ignore[arg-type]
    probe = [dataset[i] for i in range(min(n, _LENGTH_PROBE))]
    if not probe or not all(isinstance(it, dict) and "input_ids" in it and "labels" in it for it in probe):
        raise ValueError(
            "A Dataset passed to make_data must return dicts with 'input_ids' (T,) and 'labels' ((T,) for "
            "language models, a scalar for classification); wrap yours or pass DataLoaders instead."
        )
    padded = len({int(torch.as_tensor(it["input_ids"]).shape[0]) for it in probe}) > 1
    tr, va = split_indices(n, cfg.validation_split, cfg.random_seed + SPLIT_SEED)
    pad = facts.pad_token_id if facts.pad_token_id is not None else 0
    val = Subset(dataset, va) if va else None
    train_dl, val_dl = make_loaders(
        Subset(dataset, tr), val, cfg, sets.PadCollate(pad, with_mask=padded), False
    )
    return TrainingData(
        kind=kind,
        train=train_dl,
        val=val_dl,
        description=f"Your dataset ({type(dataset).__name__}, {n} examples).",
        expected="",
        seq_len=max(int(torch.as_tensor(it["input_ids"]).shape[0]) for it in probe),
        vocab_size=facts.vocab_size,
        n_train=len(tr),
        n_val=len(va),
        pad_token_id=pad,
        task="custom",
        render=_numbers,
    )


def from_ids(ids: Any, kind: str, facts: Any, cfg: Any) -> TrainingData:
    """Rows of token ids for next-token prediction; rows longer than the model takes are re-packed."""
    if kind != "causal-lm":
        raise ValueError(
            f"Token ids alone carry no labels or mask token, so they train causal LMs only; this run is {kind}. "
            "Pass text with tokenizer=, or DataLoaders whose batches hold the labels."
        )
    rows = torch.as_tensor(ids).long()
    if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= facts.vocab_size):
        raise ValueError(
            f"Token ids span {int(rows.min())}..{int(rows.max())}, outside this model's vocabulary "
            f"(0..{facts.vocab_size - 1}). Use ids from the model's own tokenizer."
        )
    length = usable_length(facts, cfg)
    blocks = list(rows) if rows.shape[1] <= length else pack([r.tolist() for r in rows], length, None)
    tr, va = split_indices(len(blocks), cfg.validation_split, cfg.random_seed + SPLIT_SEED)
    train = sets.CausalBlocks([blocks[i] for i in tr])
    val = sets.CausalBlocks([blocks[i] for i in va]) if va else None
    pad = facts.pad_token_id if facts.pad_token_id is not None else 0
    train_dl, val_dl = make_loaders(train, val, cfg, sets.PadCollate(pad, with_mask=False), False)
    return TrainingData(
        kind=kind,
        train=train_dl,
        val=val_dl,
        description=f"Your token ids: {len(blocks)} sequences of {int(blocks[0].shape[0])} tokens.",
        expected="The validation loss should fall below the first steps' value and keep falling.",
        seq_len=int(blocks[0].shape[0]),
        vocab_size=facts.vocab_size,
        n_train=len(tr),
        n_val=len(va),
        pad_token_id=pad,
        task="custom",
        render=_numbers,
    )


def _numbers(ids: Any) -> str:
    return " ".join(str(int(i)) for i in ids)
