"""Text data: packing, padding with masks, 80/10/10 masking, labels, sources, tokenizers, pass-through."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
import torch
from data_helpers import WordTokenizer, fake_loaded
from torch.utils.data import DataLoader

from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.data import TrainingData, make_data
from tbwidgets.training.data.text import BYTE_EOS, BYTE_MASK, BYTE_PAD

DOCS = [f"document number {i} says something a little different each time. " * (1 + i % 3) for i in range(30)]


def _batches(loader: object) -> list[dict[str, torch.Tensor]]:
    return list(loader)  # type: ignore[call-overload]


def test_causal_text_is_packed_into_full_blocks_with_eos_between_documents() -> None:
    data = make_data(DOCS, fake_loaded(max_len=64), TrainingConfig(batch_size=4))
    assert data.kind == "causal-lm" and data.tokenizer == "byte tokenizer" and data.seq_len == 64
    batches = _batches(data.train) + _batches(data.val)
    ids = torch.cat([b["input_ids"] for b in batches])
    assert all("attention_mask" not in b for b in batches)  # full blocks: nothing padded
    assert all(torch.equal(b["labels"], b["input_ids"]) for b in batches)  # the module shifts
    assert (ids == BYTE_EOS).sum() >= 20  # documents stay separated (one tail block is dropped)
    assert data.n_train + data.n_val == ids.shape[0] and data.n_val >= 1
    assert "blocks of ≤ 64 tokens" in data.description


def test_documents_are_split_before_packing_so_no_text_leaks() -> None:
    docs = [f"unique-{i:03d} " * 20 for i in range(40)]
    data = make_data(docs, fake_loaded(max_len=32), TrainingConfig(validation_split=0.25))

    def words(loader: object) -> set[str]:
        text = bytes(x for b in _batches(loader) for x in b["input_ids"].flatten().tolist() if x < 256)
        return set(text.decode().split())

    train, val = words(data.train), words(data.val)
    assert len({w for w in val if w.startswith("unique-")}) >= 9
    assert not {w for w in train & val if w.startswith("unique-") and len(w) == 10}


def test_short_text_gives_one_padded_block_with_a_mask() -> None:
    data = make_data(["hello"], fake_loaded(max_len=64), TrainingConfig(validation_split=0.0))
    (batch,) = _batches(data.train)
    assert batch["input_ids"].shape == (1, 6) and batch["attention_mask"].tolist() == [[1] * 6]
    assert data.val is None and data.n_val == 0


def test_masked_lm_masks_fifteen_percent_eighty_ten_ten() -> None:
    text = ["the quick brown fox jumps over the lazy dog " * 40] * 20
    data = make_data(text, fake_loaded("masked-lm", max_len=128), TrainingConfig(validation_split=0.0))
    batches = _batches(data.train)
    ids = torch.cat([b["input_ids"] for b in batches])
    labels = torch.cat([b["labels"] for b in batches])
    chosen = labels != -100
    rate = chosen.float().mean().item()
    assert 0.13 < rate < 0.17
    n = chosen.sum().item()
    to_mask = (ids[chosen] == BYTE_MASK).sum().item() / n
    kept = (ids[chosen] == labels[chosen]).sum().item() / n
    randomised = 1 - to_mask - kept
    assert 0.77 < to_mask < 0.83 and 0.07 < kept < 0.13 and 0.06 < randomised < 0.13  # random may hit itself
    assert (ids[~chosen] != BYTE_MASK).all()
    again = torch.cat([b["labels"] for b in _batches(data.train)])  # epoch 2: new masks
    assert not torch.equal(again, labels)
    rerun = make_data(text, fake_loaded("masked-lm", max_len=128), TrainingConfig(validation_split=0.0))
    assert torch.equal(torch.cat([b["labels"] for b in _batches(rerun.train)]), labels)  # seeded


def test_classification_pads_variable_lengths_with_masks() -> None:
    pairs = [("short", 0), ("a much longer sentence here", 1), ("mid length", 1)] * 10
    data = make_data(pairs, fake_loaded("classification", num_labels=2), TrainingConfig(batch_size=8))
    for batch in _batches(data.train):
        ids, mask = batch["input_ids"], batch["attention_mask"]
        assert ids.shape == mask.shape and batch["labels"].shape == (ids.shape[0],)
        lengths = mask.sum(1)
        assert lengths.max() == ids.shape[1]
        for row, n in zip(ids, lengths.tolist(), strict=True):
            assert (row[n:] == BYTE_PAD).all()
    assert data.n_train + data.n_val == 30
    val_labels = torch.cat([b["labels"] for b in _batches(data.val)]).tolist()
    assert data.chance_accuracy == max(val_labels.count(0), val_labels.count(1)) / len(val_labels)


def test_string_labels_are_mapped_and_bad_labels_refused() -> None:
    frame = pd.DataFrame({"review": ["good", "bad", "fine"] * 5, "sentiment": ["pos", "neg", "pos"] * 5})
    data = make_data(
        frame, fake_loaded("classification", num_labels=2), text_column="review", label_column="sentiment"
    )
    assert "{'neg': 0, 'pos': 1}" in " ".join(data.notes)
    with pytest.raises(ValueError, match="does not fit this model's 2 classes"):
        make_data([("x", 0), ("y", 5)], fake_loaded("classification", num_labels=2))
    with pytest.raises(ValueError, match="has no labels"):
        make_data(["no", "labels"], fake_loaded("classification", num_labels=2))


def test_dataframe_column_rules() -> None:
    loaded = fake_loaded()
    assert (
        "column 'text'" in make_data(pd.DataFrame({"id": [1, 2], "text": ["a b", "c d"]}), loaded).description
    )
    only = pd.DataFrame({"n": [1, 2], "body": ["aaa", "bbb"]})
    assert "column 'body'" in make_data(only, loaded).description
    two = pd.DataFrame({"a": ["x", "y"], "b": ["z", "w"]})
    with pytest.raises(ValueError, match=r"text_column="):
        make_data(two, loaded)
    with pytest.raises(ValueError, match="No column 'c'"):
        make_data(two, loaded, text_column="c")
    assert "(2 rows)" in make_data(two["a"], loaded).description  # a Series is the text


def test_files_folders_and_tables(tmp_path: Path) -> None:
    (tmp_path / "corpus" / "sub").mkdir(parents=True)
    (tmp_path / "corpus" / "a.txt").write_text("alpha " * 50)
    (tmp_path / "corpus" / "sub" / "b.md").write_text("beta " * 50)
    (tmp_path / "corpus" / "skip.bin").write_bytes(b"\x00\xff")
    loaded = fake_loaded(max_len=32)
    assert "2 files under corpus/" in make_data(tmp_path / "corpus", loaded).description
    assert make_data(str(tmp_path / "corpus" / "a.txt"), loaded).description.startswith("a.txt")
    (tmp_path / "t.tsv").write_text("sentence\tlabel\n" + '"quoted start\t1\nNA\t0\n' * 5)
    data = make_data(tmp_path / "t.tsv", fake_loaded("classification", num_labels=2))
    assert data.n_train + data.n_val == 10
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No text files"):
        make_data(tmp_path / "empty", loaded)


def test_hf_style_tokenizer_specials_are_used() -> None:
    tok = WordTokenizer()
    data = make_data(["one two three"] * 20, fake_loaded("masked-lm", vocab=64), tokenizer=tok)
    assert data.tokenizer == "WordTokenizer" and data.pad_token_id == 0
    ids = torch.cat([b["input_ids"] for b in _batches(data.train)])
    assert (ids == 3).any() and (ids == 1).any()  # MASK used, CLS kept
    labels = torch.cat([b["labels"] for b in _batches(data.train)])
    assert not ((labels == 1) | (labels == 2)).any()  # specials are never masked


def test_tokenizer_ids_outside_the_vocab_are_refused() -> None:
    tok = WordTokenizer()
    with pytest.raises(ValueError, match="outside this model's vocabulary of 6"):
        make_data([" ".join(f"w{i}" for i in range(10))], fake_loaded(vocab=6), tokenizer=tok)


def test_small_vocab_without_tokenizer_says_to_pass_one() -> None:
    with pytest.raises(ValueError, match="tokenizer="):
        make_data(["text"], fake_loaded(vocab=100))


def test_masked_lm_without_a_mask_token_says_so() -> None:
    with pytest.raises(ValueError, match="needs a MASK token"):
        make_data(["some text"] * 3, fake_loaded("masked-lm", vocab=257))


def test_unknown_names_and_types_get_the_accepted_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="did you mean 'copy'"):
        make_data("cpoy", fake_loaded())
    monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed: no Hub lookup
    with pytest.raises(ValueError, match=r"not a task \(copy, .*pip install datasets"):
        make_data("wikitext-103", fake_loaded())
    with pytest.raises(ValueError, match="Cannot read int"):
        make_data(42, fake_loaded())


class FakeDataset:
    """Duck-typed like datasets.Dataset: column_names and to_pandas."""

    column_names = ("sentence", "label")

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame({"sentence": ["good film", "bad film"] * 6, "label": [1, 0] * 6})


class FakeDatasetDict(dict):  # type: ignore[type-arg]
    column_names: ClassVar[dict[str, list[str]]] = {"train": ["sentence", "label"]}


def test_datasets_objects_and_their_validation_split() -> None:
    loaded = fake_loaded("classification", num_labels=2)
    assert make_data(FakeDataset(), loaded).n_train == 11
    dd = FakeDatasetDict(train=FakeDataset(), validation=FakeDataset())
    data = make_data(dd, loaded)
    assert data.n_train == 12 and data.n_val == 12 and "'validation' split" in " ".join(data.notes)


def test_loaders_and_training_data_pass_through() -> None:
    loaded = fake_loaded()
    same = make_data("copy", loaded)
    assert make_data(same, loaded) is same
    dl = DataLoader([{"input_ids": torch.zeros(4, dtype=torch.long)}] * 3, batch_size=2)
    data = make_data((dl, None), loaded)
    assert isinstance(data, TrainingData) and data.train is dl and data.val is None
    assert not data.resumable and "restarts its epoch" in data.notes[0] and data.n_train == 3
    assert make_data(same.train, loaded).resumable  # our own loader passed alone


def test_regression_gives_float_targets_and_a_variance_yardstick() -> None:
    pairs = [("low", 0.5), ("high and long text", 4.5), ("mid", 2.0)] * 6
    cfg = TrainingConfig(task="regression", batch_size=4)
    data = make_data(pairs, fake_loaded("classification", num_labels=1), cfg)
    batch = next(iter(data.train))
    assert (
        data.kind == "regression" and batch["labels"].dtype == torch.float32 and batch["labels"].shape == (4,)
    )
    assert "attention_mask" in batch and data.chance_accuracy is None
    assert "variance" in data.expected and "targets 0.5 to 4.5" in data.description
    with pytest.raises(ValueError, match="numeric targets"):
        make_data([("a", "x"), ("b", "y")], fake_loaded("classification", num_labels=1), cfg)
    dl = DataLoader([{"input_ids": torch.zeros(3, dtype=torch.long), "labels": torch.tensor(1.0)}] * 2)
    assert make_data((dl, dl), fake_loaded(), cfg).kind == "regression"  # passthrough follows config.task


def test_masks_do_not_depend_on_batching() -> None:
    text = ["masks must not depend on how rows are grouped " * 10] * 12
    sets_ = make_data(
        text, fake_loaded("masked-lm", max_len=32), TrainingConfig(validation_split=0.0)
    ).train.dataset  # type: ignore[attr-defined]
    keys = list(range(3, 20))
    together = sets_.__getitems__(keys)
    alone = [sets_[k] for k in keys]
    for j, item in enumerate(alone):
        assert torch.equal(together["input_ids"][j], item["input_ids"])
        assert torch.equal(together["labels"][j], item["labels"])


def test_synthetic_batches_are_built_in_one_go_and_equal_row_by_row() -> None:
    dataset = make_data("copy", fake_loaded()).train.dataset  # type: ignore[attr-defined]
    together = dataset.__getitems__([4, 1, 7])
    assert all(torch.equal(together["labels"][j], dataset[i]["labels"]) for j, i in enumerate([4, 1, 7]))


class PairsDataset(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """A user's own map-style dataset in the batch format, with varying lengths."""

    def __len__(self) -> int:
        return 20

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ids = torch.arange(3 + i % 4)
        return {"input_ids": ids, "labels": ids.clone()}


def test_a_users_dataset_gets_a_split_padding_and_resumable_loaders() -> None:
    data = make_data(PairsDataset(), fake_loaded(), TrainingConfig(batch_size=4, validation_split=0.2))
    assert (data.n_train, data.n_val) == (16, 4) and data.resumable and data.seq_len == 6
    batch = next(iter(data.train))
    assert batch["attention_mask"].shape == batch["input_ids"].shape
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()
    state = data.train.state_dict()  # type: ignore[attr-defined]
    assert state["batches_consumed"] == 1
    with pytest.raises(ValueError, match="must return dicts with 'input_ids'"):
        make_data(torch.utils.data.TensorDataset(torch.zeros(4, 3)), fake_loaded())


def test_token_id_rows_train_a_causal_lm() -> None:
    import numpy as np

    rows = np.arange(40 * 10).reshape(40, 10) % 500
    data = make_data(rows, fake_loaded(), TrainingConfig(validation_split=0.25, batch_size=8))
    batch = next(iter(data.train))
    assert batch["input_ids"].shape == (8, 10) and torch.equal(batch["labels"], batch["input_ids"])
    assert (data.n_train, data.n_val) == (30, 10)
    long = make_data(torch.arange(4 * 300).reshape(4, 300) % 500, fake_loaded(max_len=128))
    assert long.seq_len == 128 and long.n_train + long.n_val == 9  # 1200 ids re-packed into 128-blocks
    with pytest.raises(ValueError, match="outside this model's vocabulary"):
        make_data(torch.full((2, 4), 600), fake_loaded())
    with pytest.raises(ValueError, match="train causal LMs only"):
        make_data(torch.zeros(2, 4, dtype=torch.long), fake_loaded("masked-lm"))


def test_previews_show_what_the_model_sees() -> None:
    copy = make_data("copy", fake_loaded())
    first = copy.preview(1)[0]
    question, answer = first.split("  → ")
    assert question.replace(" |", "").strip() == answer  # copy: the answer repeats the question
    assert make_data(["Hello wörld"] * 20, fake_loaded(max_len=16)).preview(1)[0].startswith("Hello wörld⏎")
    pairs = make_data([("great film", 1), ("bad", 0)] * 5, fake_loaded("classification", num_labels=2))
    assert all(p.endswith(("→ 1", "→ 0")) for p in pairs.preview(3))
    assert make_data(torch.arange(40).reshape(4, 10), fake_loaded()).preview(1)[0].count(" ") == 9
    summary = copy.summary()
    assert len(summary["preview"]) == 3 and "render" not in summary
    assert make_data((copy.train, None), fake_loaded()).preview() == []  # loaders passed in: no renderer
