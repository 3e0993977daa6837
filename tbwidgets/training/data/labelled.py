"""Labelled texts: classification (class ids, one mapping for both splits) and regression (float targets)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

import torch

from tbwidgets.training.data import sets, text
from tbwidgets.training.data.bundle import TrainingData
from tbwidgets.training.data.common import SPLIT_SEED, make_loaders, split_indices
from tbwidgets.training.data.sources import TextSource


def _encode_cut(texts: list[str], vocab: text.Vocab, length: int) -> tuple[list[torch.Tensor], int]:
    """One (≤ length,) tensor per text (an empty text becomes one PAD), and how many were cut."""
    encoded = text.encode_all(texts, vocab)
    seqs = [torch.tensor(ids[:length] or [vocab.pad_id], dtype=torch.long) for ids in encoded]
    return seqs, sum(len(ids) > length for ids in encoded)


def _targets(src: TextSource, kind: str, facts: Any) -> tuple[list[Any], list[str]]:
    """Labels of train then validation: class ids (one mapping for both splits) or floats."""
    own_val = src.val_texts is not None and src.val_labels is not None
    raw = list(src.labels or []) + (list(src.val_labels or []) if own_val else [])
    if kind == "regression":
        try:
            return [float(y) for y in raw], []
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Regression needs numeric targets; {src.origin} has {exc}. Check the label column."
            ) from exc
    ids, mapping = text.class_ids(raw, facts.num_labels)
    return ids, [f"Labels mapped to ids: {mapping}."] if mapping else []


def from_labelled(
    src: TextSource,
    kind: str,
    facts: Any,
    cfg: Any,
    vocab: text.Vocab,
    length: int,
    render: Callable[[Sequence[int]], str] | None = None,
) -> TrainingData:
    """(text, label) data for a classifier (long class ids) or a regression head (float targets)."""
    if src.labels is None:
        raise ValueError(
            f"This model does {kind}, and {src.origin} has no labels. Pass (text, label) pairs or a "
            "table with a 'label' column (or label_column='…')."
        )
    targets, notes = _targets(src, kind, facts)
    dtype = torch.float32 if kind == "regression" else torch.long
    seqs, n_cut = _encode_cut(src.texts, vocab, length)
    if src.val_texts is not None and src.val_labels is not None:
        val_seqs, val_cut = _encode_cut(list(src.val_texts), vocab, length)
        n_cut += val_cut
        train_set = sets.LabelledTexts(seqs, targets[: len(seqs)], dtype)
        val_set = sets.LabelledTexts(val_seqs, targets[len(seqs) :], dtype)
    else:
        tr, va = split_indices(len(seqs), cfg.validation_split, cfg.random_seed + SPLIT_SEED)
        train_set = sets.LabelledTexts([seqs[i] for i in tr], [targets[i] for i in tr], dtype)
        val_set = sets.LabelledTexts([seqs[i] for i in va], [targets[i] for i in va], dtype)
    train_dl, val_dl = make_loaders(train_set, val_set, cfg, sets.PadCollate(vocab.pad_id), False)
    notes += [f"{n_cut} texts longer than {length} tokens were cut."] if n_cut else []
    return TrainingData(
        kind=kind,
        train=train_dl,
        val=val_dl,
        description=f"{src.origin}: {len(train_set) + len(val_set)} labelled texts, "
        f"{_what(kind, facts, targets)} ({vocab.name}).",
        expected=_expected(kind, train_set.labels),
        seq_len=max(int(s.shape[0]) for s in train_set.seqs + val_set.seqs),
        vocab_size=facts.vocab_size,
        n_train=len(train_set),
        n_val=len(val_set),
        pad_token_id=vocab.pad_id,
        task="text",
        chance_accuracy=None if kind == "regression" else _majority(val_set.labels or train_set.labels),
        tokenizer=vocab.name,
        notes=src.notes + notes,
        render=render,
    )


def _what(kind: str, facts: Any, targets: list[Any]) -> str:
    if kind == "regression":
        return f"targets {min(targets):.3g} to {max(targets):.3g}"
    return f"{facts.num_labels or len(set(targets))} classes"


def _expected(kind: str, train_targets: list[Any]) -> str:
    if kind == "regression":
        spread = statistics.pvariance(train_targets) if len(train_targets) > 1 else 0.0
        return (
            f"A learnable target beats predicting the mean: validation MSE below the targets' variance "
            f"({spread:.3g})."
        )
    return "A learnable labelling beats the majority class on validation (the chance line: always answering the most common class)."


def _majority(labels: list[Any]) -> float:
    """Accuracy of always answering the most common class."""
    return max(labels.count(y) for y in set(labels)) / len(labels) if labels else 0.0
