"""Shared Tier 1 helpers (block discovery, naming, task loss) and verdict paths the zoo does not reach."""

from __future__ import annotations

import math

import torch
from torch import nn

from tbwidgets.checks.tier1 import GradientFlow, NumericalStability
from tbwidgets.checks.tier1._blocks import describe_modules, find_blocks, top_modules
from tbwidgets.checks.tier1._common import abs_diff, ranges, task_batch
from tbwidgets.core import Runner, Status
from tbwidgets.loading import Task, load_model
from tests.checks.tier1.zoo import V, ZooLM


def test_ranges_and_module_names_read_like_prose() -> None:
    assert ranges([5, 0, 1, 2]) == "0–2, 5"
    assert describe_modules(["blocks.0.attn", "blocks.1.attn"]) == "attn in blocks 0–1"
    assert describe_modules(["mhsa_0", "mhsa_1", "head"]) == "mhsa 0–1; head"


def test_top_modules_names_the_highest_fully_unused_module() -> None:
    model = ZooLM()
    names = {n for n, _ in model.named_parameters() if n.startswith("blocks.0.attn.")}
    assert top_modules(model, names) == ["blocks.0.attn"]
    assert top_modules(model, {"blocks.0.attn.qkv.bias"}) == ["blocks.0.attn.qkv.bias"]


class FlatTB(nn.Module):
    """Transformer Builder's flat layout: numbers of different node kinds do not line up."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding_0_token = nn.Embedding(V, 8)
        for i in range(2):
            setattr(self, f"mhsa_{i}", nn.MultiheadAttention(8, 2, batch_first=True))
            setattr(self, f"layernorm_{2 * i}", nn.LayerNorm(8))
            setattr(self, f"ffn_{i}", nn.Sequential(nn.Linear(8, 8)))
            setattr(self, f"layernorm_{2 * i + 1}", nn.LayerNorm(8))
        self.output_0_proj = nn.Linear(8, V)


def test_blocks_of_a_flat_transformer_builder_model_start_at_attention() -> None:
    blocks = find_blocks(FlatTB())
    assert [b.name for b in blocks] == [
        "block 0 (mhsa_0, layernorm_0, ffn_0, layernorm_1)",
        "block 1 (mhsa_1, layernorm_2, ffn_1, layernorm_3)",
    ]
    assert [b.name for b in find_blocks(ZooLM(n_layers=3))] == ["blocks.0", "blocks.1", "blocks.2"]


def test_masked_lm_batch_masks_some_positions_in_every_row() -> None:
    loaded = load_model(model=ZooLM(), task="masked-lm")
    ids = torch.randint(0, V, (3, 20))
    batch = task_batch(loaded, ids, torch.Generator().manual_seed(0))
    chosen = batch.targets != -100
    assert chosen.any(dim=1).all() and not chosen.all()
    assert torch.equal(batch.targets[chosen], ids[chosen])
    loss = batch.loss(torch.zeros(3, 20, V))
    assert math.isclose(float(loss), math.log(V), rel_tol=1e-6)


def test_abs_diff_treats_matching_nans_as_equal() -> None:
    a = torch.tensor([1.0, float("nan"), float("inf")])
    assert abs_diff(a, a.clone()).tolist() == [0.0, 0.0, 0.0]
    assert abs_diff(a, torch.tensor([1.0, 2.0, float("inf")]))[1] == float("inf")


class ZeroHead(ZooLM):
    def __init__(self) -> None:
        super().__init__()
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)


def test_constant_logits_are_a_warning() -> None:
    result = Runner(load_model(model=ZeroHead(), task="causal-lm"), [NumericalStability()]).run().results[0]
    assert result.status is Status.WARN and "near-constant" in result.summary.lower()


class SqrtOfZero(ZooLM):
    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        logits = super().forward(ids)
        return logits + torch.sqrt(logits * 0.0)  # d sqrt(x)/dx at 0 is inf: NaN gradients


def test_nan_gradients_fail_gradient_flow() -> None:
    torch.manual_seed(0)
    result = Runner(load_model(model=SqrtOfZero(), task="causal-lm"), [GradientFlow()]).run().results[0]
    assert result.status is Status.FAIL and "NaN/Inf gradients" in result.summary


def test_classification_gets_cross_entropy_on_random_labels() -> None:
    loaded = load_model(model=ZooLM(), task="causal-lm")
    loaded.task = Task.CLASSIFICATION
    batch = task_batch(loaded, torch.randint(0, V, (4, 8)), torch.Generator().manual_seed(0))
    assert math.isclose(float(batch.loss(torch.zeros(4, 3))), math.log(3), rel_tol=1e-6)
