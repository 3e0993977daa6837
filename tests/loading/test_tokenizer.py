"""Tier 2 input: byte tokenizer, HF-style tokenizer passthrough, raw ids, limits."""

from __future__ import annotations

import pytest
import torch

from tbwidgets.loading.tokenizer import DEFAULT_TEXT, ByteTokenizer, prepare_tokens


class FakeTokenizer:
    """The two methods Tier 2 uses from a Hugging Face tokenizer."""

    def encode(self, text: str) -> list[int]:
        return [len(w) for w in text.split()]

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [f"w{i}" for i in ids]


def test_byte_tokens_are_readable() -> None:
    t = prepare_tokens(512, text="Hi there\n\u00e9")
    assert t.ids.tolist() == [[72, 105, 32, 116, 104, 101, 114, 101, 10, 0xC3, 0xA9]]
    assert t.tokens == ["H", "i", "␣", "t", "h", "e", "r", "e", "\\n", "<0xC3>", "<0xA9>"]
    assert t.source == "byte tokenizer"


def test_default_text_and_truncation() -> None:
    t = prepare_tokens(256, max_tokens=10)
    assert t.length == 10 and t.truncated_from == len(DEFAULT_TEXT.encode())


def test_small_vocab() -> None:
    with pytest.raises(ValueError, match="at least 256"):
        ByteTokenizer(100)
    with pytest.raises(ValueError, match="at least 256"):
        prepare_tokens(100, text="abc")
    t = prepare_tokens(100)  # nothing given: deterministic random ids, labelled by id
    assert t.source == "random ids" and int(t.ids.max()) < 100 and t.tokens[0].startswith("<")
    assert torch.equal(t.ids, prepare_tokens(100).ids)


def test_hf_tokenizer_and_raw_ids() -> None:
    t = prepare_tokens(50, text="a bb ccc", tokenizer=FakeTokenizer())
    assert t.ids.tolist() == [[1, 2, 3]] and t.tokens == ["w1", "w2", "w3"]
    raw = prepare_tokens(600, input_ids=torch.tensor([[65, 300]]))
    assert raw.tokens == ["A", "<300>"] and raw.source == "input_ids"
    with pytest.raises(ValueError, match="outside this model's vocabulary"):
        prepare_tokens(50, input_ids=[1, 99])
