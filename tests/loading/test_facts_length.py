"""The usable length: claims (user config, model config), position tables of every kind, the bisecting probe."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from tbwidgets.checks.tier1.shape_robustness import ShapeRobustness
from tbwidgets.core import Runner
from tbwidgets.core.result import Status
from tbwidgets.loading import load_model
from tbwidgets.loading.length import position_tables
from tests.regression import handwritten as hw


class _Limited(nn.Module):
    """No position table; crashes above `limit` tokens (a hard-coded limit the probe must find)."""

    def __init__(self, limit: int | None = 100, table: int | None = None) -> None:
        super().__init__()
        self.limit = limit
        self.tok = nn.Embedding(50, 8)
        self.pos = nn.Embedding(table, 8) if table else None
        self.head = nn.Linear(8, 50)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if self.limit is not None and ids.shape[1] > self.limit:
            raise ValueError(f"length {ids.shape[1]} > {self.limit}")
        x = self.tok(ids)
        if self.pos is not None:
            x = x + self.pos(torch.arange(ids.shape[1]))
        return self.head(x)


@pytest.mark.parametrize("layout", ["T1D", "1TD"])
def test_a_sinusoidal_buffer_is_a_position_table(layout: str) -> None:
    m = load_model(hw.SinusoidalEncoderLM(layout))
    assert (m.facts.max_len, m.facts.max_len_source) == (hw.T, "position buffer pe")
    assert m.facts.position_rows == hw.T and m.findings == []


def test_tables_of_any_layout_are_found() -> None:
    module = nn.Module()
    module.register_buffer("pe", torch.zeros(1, 1, 40, 16))
    module.pos_embed = nn.Parameter(torch.zeros(24, 1, 16))
    found = {t.name: t.rows for t in position_tables(module, width=16)}
    assert found == {"pos_embed": 24, "pe": 40}


def test_an_offset_table_is_a_finding_and_the_usable_length_is_used() -> None:
    m = load_model(hw.OffsetTableLM(), task="causal-lm")
    assert m.facts.max_len == hw.T and m.facts.claimed_len is None
    (finding,) = m.findings
    assert finding.level == "info" and f"{hw.T + 2} rows, {hw.T} usable" in finding.message
    assert "start at 2" in finding.message


def test_hf_roberta_offset_table_with_a_config_length() -> None:
    transformers = pytest.importorskip("transformers")
    cfg = transformers.RobertaConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=130,
    )  # fmt: skip
    torch.manual_seed(0)
    m = load_model(transformers.RobertaForMaskedLM(cfg), config={"max_seq_len": 128})
    assert (m.facts.max_len, m.facts.claimed_len) == (128, 128)
    assert any("130 rows, 128 usable: position ids start at 2" in f.message for f in m.findings)
    assert not [f for f in m.findings if f.level != "info"]
    bare = load_model(transformers.RobertaForMaskedLM(cfg))  # the model's own config says 130
    assert bare.facts.max_len == 128 and bare.facts.claimed_len is None
    result = Runner(bare, [ShapeRobustness()]).run().results[0]
    assert result.status is Status.PASS, result.summary


def test_a_promise_beyond_the_table_is_kept_for_shape_robustness_to_fail() -> None:
    m = load_model(_Limited(limit=None, table=16), config={"max_seq_len": 32})
    assert (m.facts.max_len, m.facts.claimed_len, m.facts.claimed_len_source) == (
        16,
        32,
        "config max_seq_len",
    )
    warn = [f.message for f in m.findings if f.level == "warn"]
    assert len(warn) == 1 and "config max_seq_len is 32" in warn[0] and "would crash" in warn[0]
    result = Runner(m, [ShapeRobustness()]).run().results[0]
    assert result.status is Status.FAIL
    assert "promises length 32" in result.summary and "longest input that runs is 16" in result.summary


def test_a_config_shorter_than_the_table_is_used_without_alarm() -> None:
    m = load_model(_Limited(limit=None, table=64), config={"max_seq_len": 32})
    assert (m.facts.max_len, m.facts.max_len_source) == (32, "config max_seq_len")
    assert m.findings == []


def test_the_probe_bisects_to_a_hard_limit() -> None:
    m = load_model(_Limited(limit=100))
    assert m.facts.max_len == 100 and m.facts.length_verified == 100
    assert m.facts.max_len_source.startswith("longest length that runs")


def test_a_config_object_block_size_is_a_claim() -> None:
    @dataclasses.dataclass
    class Cfg:
        block_size: int = 40

    module = _Limited(limit=None)
    module.config = Cfg()  # type: ignore[assignment]
    m = load_model(module)
    assert (m.facts.max_len, m.facts.claimed_len_source) == (40, "model config block_size")


def test_claims_beyond_the_cpu_cap_are_trusted_and_say_so() -> None:
    m = load_model(_Limited(limit=None), config={"max_seq_len": 100_000})
    assert m.facts.max_len == 100_000 and m.facts.length_verified == 4096
    assert "verified up to 4096" in m.facts.max_len_source


def test_a_model_broken_at_every_length_keeps_its_claim() -> None:
    m = load_model(_Limited(limit=2), config={"max_seq_len": 64})
    assert m.facts.max_len == 64 and m.facts.length_verified == 0
    assert [f.level for f in m.findings] == ["error"]


def test_shape_robustness_tries_claims_beyond_the_cap_only_up_to_it() -> None:
    m = load_model(_Limited(limit=None), config={"max_seq_len": 100_000})
    result = Runner(m, [ShapeRobustness()]).run().results[0]
    assert result.status is Status.PASS and "tried up to 4096 only" in result.details
    assert max(row["length"] for row in result.table or []) == 4096
