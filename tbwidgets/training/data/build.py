"""Build TrainingData from a synthetic task or from text: seeded split, datasets, resumable loaders.

Seeds are derived from `config.random_seed` with a fixed offset per use (task generation, split,
shuffling, masking), so the same seed gives the same examples, split and batches on every run.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from tbwidgets.training.data import sets, synthetic, text
from tbwidgets.training.data.bundle import TrainingData
from tbwidgets.training.data.loader import ResumableLoader
from tbwidgets.training.data.sources import TextSource

SPLIT_SEED, SHUFFLE_SEED, MASK_SEED = 1, 2, 3  # offsets from config.random_seed
MIN_DOCS_FOR_DOC_SPLIT = 10  # fewer documents than this: split packed blocks instead


def split_indices(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded (train, val) index lists; val gets round(n * fraction), at least 1 when fraction > 0 and n ≥ 2."""
    n_val = round(n * fraction) if fraction > 0 else 0
    if fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return sorted(perm[n_val:]), sorted(perm[:n_val])


def _loaders(
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


def from_task(task: str, kind: str, facts: Any, cfg: Any) -> TrainingData:
    """A synthetic task as TrainingData for a language model of this vocabulary and length."""
    if kind == "classification":
        raise ValueError(
            f"'{task}' is a sequence task for language models, and this model is a classifier. "
            "Pass (text, label) pairs, a DataFrame with text and label columns, or a datasets.Dataset."
        )
    t = synthetic.build_task(task, facts.vocab_size, usable_length(facts, cfg), cfg.random_seed)
    train_idx, val_idx = split_indices(len(t.ids), cfg.validation_split, cfg.random_seed + SPLIT_SEED)
    full = sets.AnswerSet(t.ids, t.answer, kind, synthetic.MASK)
    train = sets.AnswerSet(t.ids[train_idx], t.answer[train_idx], kind, synthetic.MASK)
    val = sets.AnswerSet(t.ids[val_idx], t.answer[val_idx], kind, synthetic.MASK) if val_idx else None
    train_dl, val_dl = _loaders(train, val, cfg, sets.PadCollate(synthetic.PAD, with_mask=False), False)
    del full
    return TrainingData(
        kind=kind,
        train=train_dl,
        val=val_dl,
        description=t.description,
        expected=synthetic.expected_text(task, t.n_symbols),
        seq_len=int(t.ids.shape[1]),
        vocab_size=facts.vocab_size,
        n_train=len(train_idx),
        n_val=len(val_idx),
        pad_token_id=synthetic.PAD,
        task=task,
        chance_accuracy=1.0 / t.n_symbols,
        tokenizer="",
    )


def from_text(src: TextSource, kind: str, facts: Any, cfg: Any, tokenizer: Any) -> TrainingData:
    """Text (with labels for classification) as TrainingData for the model's task."""
    vocab = text.make_vocab(facts.vocab_size, tokenizer, facts.pad_token_id, specials=kind != "causal-lm")
    length = usable_length(facts, cfg)
    if kind == "classification":
        return _classification(src, facts, cfg, vocab, length)
    train_sets, val_sets, notes = _lm_sequences(src, vocab, length, cfg)
    if kind == "masked-lm":
        spec = text.mask_spec(vocab, cfg.random_seed + MASK_SEED)
        train: Dataset[Any] = sets.MaskedBlocks(train_sets, spec)
        val: Dataset[Any] | None = sets.MaskedBlocks(val_sets, spec) if val_sets else None
    else:
        train, val = sets.CausalBlocks(train_sets), (sets.CausalBlocks(val_sets) if val_sets else None)
    padded = any(s.shape[0] < length for s in train_sets + val_sets)
    train_dl, val_dl = _loaders(
        train, val, cfg, sets.PadCollate(vocab.pad_id, with_mask=padded), kind == "masked-lm"
    )
    what = "next-token prediction" if kind == "causal-lm" else "masked-token prediction (15 %, 80/10/10)"
    return TrainingData(
        kind=kind,
        train=train_dl,
        val=val_dl,
        description=f"{src.origin}: {len(train_sets) + len(val_sets)} blocks of ≤ {length} tokens ({vocab.name}) for {what}.",
        expected="Real text: the validation loss should fall below the first steps' value and keep falling; "
        "a gap that opens between training and validation loss means overfitting.",
        seq_len=max(s.shape[0] for s in train_sets),
        vocab_size=facts.vocab_size,
        n_train=len(train_sets),
        n_val=len(val_sets),
        pad_token_id=vocab.pad_id,
        task="text",
        tokenizer=vocab.name,
        notes=src.notes + notes,
    )


def _lm_sequences(
    src: TextSource, vocab: text.Vocab, length: int, cfg: Any
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[str]]:
    """Packed (train, val) blocks: the data's own split, else documents split, else blocks split."""
    docs = text.encode_all(src.texts, vocab)
    seed = cfg.random_seed + SPLIT_SEED
    if src.val_texts is not None:
        val_docs = text.encode_all(src.val_texts, vocab)
        return text.pack(docs, length, vocab.eos_id), text.pack(val_docs, length, vocab.eos_id), []
    if len(docs) >= MIN_DOCS_FOR_DOC_SPLIT:
        tr, va = split_indices(len(docs), cfg.validation_split, seed)
        val_blocks = text.pack([docs[i] for i in va], length, vocab.eos_id) if va else []
        return text.pack([docs[i] for i in tr], length, vocab.eos_id), val_blocks, []
    blocks = text.pack(docs, length, vocab.eos_id)
    tr, va = split_indices(len(blocks), cfg.validation_split, seed)
    notes = (
        [] if va or cfg.validation_split == 0 else ["Too little text for a validation split: no validation."]
    )
    return [blocks[i] for i in tr], [blocks[i] for i in va], notes


def _classification(src: TextSource, facts: Any, cfg: Any, vocab: text.Vocab, length: int) -> TrainingData:
    if src.labels is None:
        raise ValueError(
            f"This model is a classifier, and {src.origin} has no labels. Pass (text, label) pairs or a "
            "table with a 'label' column (or label_column='…')."
        )
    labels, mapping = text.class_ids(src.labels, facts.num_labels)
    seqs = [
        torch.tensor(ids[:length] or [vocab.pad_id], dtype=torch.long)
        for ids in text.encode_all(src.texts, vocab)
    ]
    n_cut = sum(len(ids) > length for ids in text.encode_all(src.texts, vocab))
    if src.val_texts is not None and src.val_labels is not None:
        val_labels, _ = text.class_ids(src.val_labels, facts.num_labels)
        val_seqs = [
            torch.tensor(ids[:length] or [vocab.pad_id], dtype=torch.long)
            for ids in text.encode_all(src.val_texts, vocab)
        ]
        train_set, val_set = sets.LabelledTexts(seqs, labels), sets.LabelledTexts(val_seqs, val_labels)
    else:
        tr, va = split_indices(len(seqs), cfg.validation_split, cfg.random_seed + SPLIT_SEED)
        train_set = sets.LabelledTexts([seqs[i] for i in tr], [labels[i] for i in tr])
        val_set = sets.LabelledTexts([seqs[i] for i in va], [labels[i] for i in va])
    train_dl, val_dl = _loaders(train_set, val_set, cfg, sets.PadCollate(vocab.pad_id), False)
    n_classes = facts.num_labels or len(set(labels))
    notes = [f"Labels mapped to ids: {mapping}."] if mapping else []
    notes += [f"{n_cut} texts longer than {length} tokens were cut."] if n_cut else []
    return TrainingData(
        kind="classification",
        train=train_dl,
        val=val_dl,
        description=f"{src.origin}: {len(seqs)} labelled texts, {n_classes} classes ({vocab.name}).",
        expected="A learnable labelling beats the majority class on validation; the chance line is 1/classes.",
        seq_len=max(s.shape[0] for s in seqs),
        vocab_size=facts.vocab_size,
        n_train=len(train_set),
        n_val=len(val_set),
        pad_token_id=vocab.pad_id,
        task="text",
        chance_accuracy=1.0 / n_classes,
        tokenizer=vocab.name,
        notes=src.notes + notes,
    )
