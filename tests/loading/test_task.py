"""Task detection: argument, config, class name, logits shape, then a recorded guess."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tbwidgets.loading import LoadError, Task, load_model
from tbwidgets.loading.task import GUESS_REASON, detect_task, parse_task


class Plain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(20, 4)
        self.out = nn.Linear(4, 20)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.embedding(x))


class SentimentClassifier(Plain):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.embedding(x)).mean(dim=1)[:, :3]  # (B, 3)


class PooledHead(SentimentClassifier):
    pass


def test_parse_task_aliases() -> None:
    assert parse_task("mlm") is Task.MASKED_LM and parse_task(Task.CAUSAL_LM) is Task.CAUSAL_LM
    assert parse_task("Text-Classification") is Task.CLASSIFICATION
    with pytest.raises(LoadError, match="Unknown task 'seq2seq'"):
        parse_task("seq2seq")


@pytest.mark.parametrize(
    ("config", "task", "reason"),
    [
        ({"task": "masked-lm"}, Task.MASKED_LM, "config task='masked-lm'"),
        ({"architectures": ["BertForMaskedLM"]}, Task.MASKED_LM, "config architectures name BertForMaskedLM"),
        ({"is_decoder": True}, Task.CAUSAL_LM, "config is_decoder=True"),
        ({"causal": True}, Task.CAUSAL_LM, "config causal=true (causal attention)"),
        ({"causal": False}, Task.CAUSAL_LM, GUESS_REASON),  # bidirectional says nothing about the task
        ({}, Task.CAUSAL_LM, GUESS_REASON),
    ],
)
def test_config_decides_before_class_names(config: dict, task: Task, reason: str) -> None:
    assert detect_task(Plain(), config) == (task, reason)


def test_argument_beats_everything() -> None:
    assert detect_task(Plain(), {"task": "masked-lm"}, "classification") == (Task.CLASSIFICATION, "given")


def test_class_names_and_logits_shape() -> None:
    m = load_model(SentimentClassifier())
    assert m.task is Task.CLASSIFICATION and m.task_reason == "class name SentimentClassifier"
    assert m.facts.num_labels == 3 and m.facts.vocab_size == 20
    m = load_model(PooledHead())
    assert m.task is Task.CLASSIFICATION and "(B, C)" in m.task_reason


def test_default_guess_is_recorded() -> None:
    m = load_model(Plain())
    assert (
        m.task is Task.CAUSAL_LM
        and m.task_reason.startswith("guessed:")
        and "task='masked-lm'" in m.task_reason
    )


def test_hf_models_from_tiny_configs() -> None:
    transformers = pytest.importorskip("transformers")
    gpt2 = transformers.GPT2LMHeadModel(
        transformers.GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=100, n_positions=64)
    )
    m = load_model(gpt2)
    assert m.task is Task.CAUSAL_LM and m.task_reason == "class name GPT2LMHeadModel"
    assert (m.facts.vocab_size, m.facts.max_len, m.facts.n_layers, m.facts.d_model) == (100, 64, 2, 32)
    assert m.token_embedding is gpt2.transformer.wte and m.findings == []
    bert_cfg = transformers.BertConfig(
        vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=48, pad_token_id=0,
    )  # fmt: skip
    m = load_model(transformers.BertForMaskedLM(bert_cfg))
    assert m.task is Task.MASKED_LM and (m.facts.vocab_size, m.facts.max_len) == (120, 48)
    assert m.facts.pad_token_id == 0 and m.token_embedding_name == "bert.embeddings.word_embeddings"
    assert m.adapter.accepts_mask
