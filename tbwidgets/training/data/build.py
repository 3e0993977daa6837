"""Build TrainingData for language models: a synthetic task, or text packed into blocks (causal/masked)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from tbwidgets.training.data import sets, synthetic, text
from tbwidgets.training.data.bundle import TrainingData
from tbwidgets.training.data.common import (
    MASK_SEED,
    MIN_DOCS_FOR_DOC_SPLIT,
    SPLIT_SEED,
    make_loaders,
    split_indices,
    usable_length,
)
from tbwidgets.training.data.labelled import from_labelled
from tbwidgets.training.data.sources import TextSource


def from_task(task: str, kind: str, facts: Any, cfg: Any) -> TrainingData:
    """A synthetic task as TrainingData for a language model of this vocabulary and length."""
    if kind == "regression" or (kind == "classification" and task != "majority"):
        raise ValueError(
            f"'{task}' is a sequence task for language models, and this model does {kind}. "
            + ("Use task 'majority', or pass " if kind == "classification" else "Pass ")
            + "(text, label) pairs, a DataFrame with text and label columns, or a datasets.Dataset."
        )
    n_classes = facts.num_labels if kind == "classification" else None
    t = synthetic.build_task(task, facts.vocab_size, usable_length(facts, cfg), cfg.random_seed, n_classes)
    if kind == "classification":
        return _majority_classes(t, facts, cfg)
    train_idx, val_idx = split_indices(len(t.ids), cfg.validation_split, cfg.random_seed + SPLIT_SEED)
    train = sets.AnswerSet(t.ids[train_idx], t.answer[train_idx], kind, synthetic.MASK)
    val = sets.AnswerSet(t.ids[val_idx], t.answer[val_idx], kind, synthetic.MASK) if val_idx else None
    train_dl, val_dl = make_loaders(train, val, cfg, sets.PadCollate(synthetic.PAD, with_mask=False), False)
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
        render=synthetic.render_symbols(t.n_symbols),
    )


def from_text(src: TextSource, kind: str, facts: Any, cfg: Any, tokenizer: Any) -> TrainingData:
    """Text (with labels for classification) as TrainingData for the model's task."""
    vocab = text.make_vocab(facts.vocab_size, tokenizer, facts.pad_token_id, specials=kind != "causal-lm")
    length = usable_length(facts, cfg)
    if kind in ("classification", "regression"):
        return from_labelled(src, kind, facts, cfg, vocab, length, text.renderer(vocab, tokenizer))
    train_sets, val_sets, notes = _lm_sequences(src, vocab, length, cfg)
    if kind == "masked-lm":
        spec = text.mask_spec(vocab, cfg.random_seed + MASK_SEED)
        train: Dataset[Any] = sets.MaskedBlocks(train_sets, spec)
        val: Dataset[Any] | None = sets.MaskedBlocks(val_sets, spec) if val_sets else None
    else:
        train, val = sets.CausalBlocks(train_sets), (sets.CausalBlocks(val_sets) if val_sets else None)
    padded = any(s.shape[0] < length for s in train_sets + val_sets)
    train_dl, val_dl = make_loaders(
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
        render=text.renderer(vocab, tokenizer),
    )


def _lm_sequences(
    src: TextSource, vocab: text.Vocab, length: int, cfg: Any
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[str]]:
    """Packed (train, val) blocks: the data's own split, else documents split, else blocks split."""
    docs = text.encode_all(src.texts, vocab)
    seed = cfg.random_seed + SPLIT_SEED
    if src.val_texts is not None:
        val_docs = text.encode_all(src.val_texts, vocab)
        return text.pack(docs, length, vocab.separator), text.pack(val_docs, length, vocab.separator), []
    if len(docs) >= MIN_DOCS_FOR_DOC_SPLIT:
        tr, va = split_indices(len(docs), cfg.validation_split, seed)
        val_blocks = text.pack([docs[i] for i in va], length, vocab.separator) if va else []
        return text.pack([docs[i] for i in tr], length, vocab.separator), val_blocks, []
    blocks = text.pack(docs, length, vocab.separator)
    tr, va = split_indices(len(blocks), cfg.validation_split, seed)
    notes = (
        [] if va or cfg.validation_split == 0 else ["Too little text for a validation split: no validation."]
    )
    return [blocks[i] for i in tr], [blocks[i] for i in va], notes


def _majority_classes(t: synthetic.TaskTensors, facts: Any, cfg: Any) -> TrainingData:
    """`majority` for a classifier: [BOS] x1 .. xn in, the majority symbol's class out."""
    seqs, labels = t.ids[:, :-2], (t.ids[:, -1] - synthetic.N_SPECIAL).tolist()
    tr, va = split_indices(len(seqs), cfg.validation_split, cfg.random_seed + SPLIT_SEED)
    train = sets.LabelledTexts(list(seqs[tr]), [labels[i] for i in tr])
    val = sets.LabelledTexts(list(seqs[va]), [labels[i] for i in va]) if va else None
    train_dl, val_dl = make_loaders(train, val, cfg, sets.PadCollate(synthetic.PAD, with_mask=False), False)
    return TrainingData(
        kind="classification",
        train=train_dl,
        val=val_dl,
        description=t.description.replace("the answer is", "the class is"),
        expected=synthetic.expected_text("majority", t.n_symbols),
        seq_len=int(seqs.shape[1]),
        vocab_size=facts.vocab_size,
        n_train=len(tr),
        n_val=len(va),
        pad_token_id=synthetic.PAD,
        task="majority",
        chance_accuracy=1.0 / t.n_symbols,
        render=synthetic.render_symbols(t.n_symbols),
    )
