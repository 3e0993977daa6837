"""Loss, metrics, optimizer groups and schedule as plain functions (no Trainer: milliseconds)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from tbwidgets.training.losses import PERPLEXITY_LOSS_CAP, batch_stats, perplexity
from tbwidgets.training.module import lr_lambda, parameter_groups


def test_causal_loss_is_shifted_and_ignores_unlabelled_positions() -> None:
    V = 5
    ids = torch.tensor([[1, 2, 3, 4]])
    labels = torch.tensor([[-100, -100, 3, 4]])  # only the last two tokens are answers
    logits = torch.full((1, 4, V), -10.0)
    logits[0, 1, 3] = 10.0  # position 1 predicts token 3 (label at position 2): right
    logits[0, 2, 0] = 10.0  # position 2 predicts 0 for label 4: wrong
    logits[0, 3, :] = 0.0  # the last position has no next label: must not count
    s = batch_stats("causal-lm", logits, {"input_ids": ids, "labels": labels})
    assert int(s.n_targets) == 2 and int(s.n_correct) == 1
    expected = (nn.functional.cross_entropy(logits[0, 1:3], torch.tensor([3, 4]))).item()
    assert s.loss.item() == pytest.approx(expected)


def test_a_batch_without_targets_gives_zero_loss_not_nan() -> None:
    logits = torch.randn(2, 4, 7, requires_grad=True)
    labels = torch.full((2, 4), -100)
    s = batch_stats("masked-lm", logits, {"input_ids": torch.zeros(2, 4, dtype=torch.long), "labels": labels})
    assert s.loss.item() == 0.0 and int(s.n_targets) == 0
    s.loss.backward()  # still differentiable (a zero gradient)
    assert logits.grad is not None and float(logits.grad.abs().sum()) == 0.0


def test_padding_is_neither_loss_nor_accuracy_nor_tokens() -> None:
    ids = torch.tensor([[5, 6, 0, 0], [5, 6, 7, 8]])
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    labels = torch.where(mask.bool(), ids, torch.tensor(-100))
    logits = torch.randn(2, 4, 9)
    s = batch_stats("causal-lm", logits, {"input_ids": ids, "attention_mask": mask, "labels": labels})
    assert int(s.n_targets) == 1 + 3 and int(s.n_tokens) == 6


def test_classification_reads_the_last_real_token_of_per_token_logits() -> None:
    logits = torch.zeros(2, 3, 2)
    logits[0, 1, 1] = 5.0  # sequence 0 has 2 real tokens: its answer is at position 1
    logits[1, 2, 0] = 5.0
    batch = {
        "input_ids": torch.ones(2, 3, dtype=torch.long),
        "attention_mask": torch.tensor([[1, 1, 0], [1, 1, 1]]),
        "labels": torch.tensor([1, 0]),
    }
    s = batch_stats("classification", logits, batch)
    assert int(s.n_correct) == 2 and int(s.n_targets) == 2


def test_perplexity_cap() -> None:
    assert perplexity(1.0) == pytest.approx(math.e)
    assert perplexity(1e9) == pytest.approx(math.exp(PERPLEXITY_LOSS_CAP))
    assert math.isnan(perplexity(math.nan))


def test_warmup_then_cosine_to_zero() -> None:
    f = lr_lambda(warmup_steps=4, total_steps=20)
    values = [f(s) for s in range(20)]
    assert values[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert values[4] == pytest.approx(1.0)
    assert all(a > b for a, b in itertools.pairwise(values[4:]))  # strictly decreasing after warmup
    assert values[12] == pytest.approx(0.5)  # halfway through the cosine
    assert 0 < values[-1] < 0.01


def test_no_weight_decay_on_biases_norms_and_embeddings() -> None:
    model = nn.Sequential(nn.Embedding(10, 4), nn.LayerNorm(4), nn.Linear(4, 4))
    decay, no_decay = parameter_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert [p.shape for p in decay["params"]] == [torch.Size([4, 4])]  # only the Linear weight
    assert len(no_decay["params"]) == 4  # embedding, norm weight and bias, linear bias
