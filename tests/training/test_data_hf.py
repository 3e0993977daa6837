"""Real `datasets` objects and a real Hugging Face fast tokenizer (both built locally, nothing downloaded)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from data_helpers import fake_loaded

from tbwidgets.training.data import make_data

datasets = pytest.importorskip("datasets", reason="datasets is optional (requirements-training.txt)")


def test_dataset_and_dataset_dict_with_validation_split() -> None:
    rows = {"sentence": ["good film", "bad film", "great", "awful"] * 5, "label": [1, 0, 1, 0] * 5}
    loaded = fake_loaded("classification", num_labels=2)
    data = make_data(datasets.Dataset.from_dict(rows), loaded)
    assert data.n_train + data.n_val == 20 and data.n_val == 2
    dd = datasets.DatasetDict(train=datasets.Dataset.from_dict(rows), test=datasets.Dataset.from_dict(rows))
    data = make_data(dd, loaded)
    assert (data.n_train, data.n_val) == (20, 20) and "'test' split" in " ".join(data.notes)
    batch = next(iter(data.train))
    assert batch["labels"].shape == (20,) and "attention_mask" in batch
    named = {"sentence": ["a", "b", "c"], "label": ["pos", "neg", "pos"]}
    only_neg = {"sentence": ["d", "e"], "label": ["neg", "neg"]}  # validation without one of the classes
    dd = datasets.DatasetDict(
        train=datasets.Dataset.from_dict(named), validation=datasets.Dataset.from_dict(only_neg)
    )
    data = make_data(dd, loaded)
    assert next(iter(data.val))["labels"].tolist() == [0, 0]  # "neg" is 0 in both splits
    assert data.chance_accuracy == 1.0


def test_a_dataset_name_that_cannot_load_says_why_and_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("Couldn't reach 'nyu-mll/glue' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(ValueError, match=r"Offline\? Load it once while online") as err:
        make_data("nyu-mll/glue:sst2", fake_loaded("classification", num_labels=2))
    assert "ConnectionError" in str(err.value)


def test_a_dataset_name_is_loaded_with_its_config(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_load(path: str, name: str | None = None) -> Any:
        calls.append((path, name))
        return datasets.DatasetDict(train=datasets.Dataset.from_dict({"text": ["some words here"] * 30}))

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    data = make_data("someone/corpus:small", fake_loaded(max_len=16))
    assert calls == [("someone/corpus", "small")] and data.description.startswith(
        "dataset someone/corpus:small"
    )


def test_transformers_fast_tokenizer() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "hello": 5, "world": 6, "again": 7}
    model = tokenizers.models.WordLevel(vocab=vocab, unk_token="[UNK]")
    core = tokenizers.Tokenizer(model)
    core.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    core.post_processor = tokenizers.processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="[PAD]", mask_token="[MASK]", cls_token="[CLS]", sep_token="[SEP]"
    )
    causal = make_data(
        ["hello world", "world again hello"] * 10, fake_loaded(vocab=8, max_len=8), tokenizer=tok
    )
    ids = torch.cat([b["input_ids"] for b in causal.train])
    assert set(ids.unique().tolist()) <= {3, 5, 6, 7}  # no [CLS] in causal blocks; [SEP] ends documents
    masked = make_data(
        ["hello world again"] * 40, fake_loaded("masked-lm", vocab=8, max_len=10), tokenizer=tok
    )
    batch = torch.cat([b["input_ids"] for b in masked.train])
    labels = torch.cat([b["labels"] for b in masked.train])
    assert (batch == 4).any() and masked.tokenizer == type(tok).__name__
    assert not (batch == 1).any()  # random replacements are ordinary tokens, never [UNK] or [PAD]
    assert set(labels[labels != -100].unique().tolist()) <= {5, 6, 7}  # only words are masked
    assert ((batch == 3).sum(1) <= 2).all()  # one [SEP] per text (no extra separator): ≤ 2 in 10 tokens


def test_glue_pairs_use_the_tokenizers_own_pair_format_within_the_length() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    from tbwidgets.training.benchmarks.glue_run import PairEncoder

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "again": 6}
    core = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    core.post_processor = tokenizers.processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    encode = PairEncoder(fake_loaded(vocab=7, max_len=10, pad=0), tok, max_len=10)
    assert encode("hello world", "again") == [2, 4, 5, 3, 6, 3]  # [CLS] a [SEP] b [SEP]
    assert encode("hello world", None) == [2, 4, 5, 3]
    long = encode("hello " * 12, "world " * 12)
    assert len(long) == 10 and long[0] == 2 and long.count(3) == 2  # cut to fit, both texts kept
    assert 4 in long and 5 in long
