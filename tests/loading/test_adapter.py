"""ModelAdapter: one calling convention for every forward signature and output type we meet."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch
from torch import nn

from tbwidgets.loading import ExportBugError, LoadError, ModelAdapter, load_model
from tests.loading.fixtures import FIXTURES

VOCAB = 50


class Base(nn.Module):
    """Embedding + head; subclasses vary only forward's signature and return type."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(VOCAB, 8)
        self.head = nn.Linear(8, VOCAB)

    def logits(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.emb(ids)  # (B, T, C)
        if mask is not None:
            x = x * mask.unsqueeze(-1).float()
        return self.head(x)  # (B, T, V)


class Positional(Base):
    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.logits(input_ids)


class OddName(Base):
    def forward(self, input_0_tokens: torch.Tensor) -> torch.Tensor:
        return self.logits(input_0_tokens)


class WithMask(Base):
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.logits(input_ids, attention_mask)


class WithPaddingMask(Base):
    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.logits(x, None if padding_mask is None else ~padding_mask)


class Kwargs(Base):
    def forward(self, input_ids: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return self.logits(input_ids)


class OnlyKwargs(Base):
    def forward(self, **kwargs: Any) -> torch.Tensor:
        return self.logits(kwargs["input_ids"])


class TupleOut(Base):
    def forward(self, x: torch.Tensor) -> tuple[None, torch.Tensor, torch.Tensor]:
        return (None, self.logits(x), torch.zeros(1))


class DictOut(Base):
    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"hidden": self.emb(x), "logits": self.logits(x)}


class AttrOut(Base):
    def forward(self, x: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(loss=None, logits=self.logits(x))


IDS = torch.randint(0, VOCAB, (2, 7), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize(
    ("cls", "input_name", "kind"),
    [
        (Positional, "input_ids", "tensor"),
        (OddName, "input_0_tokens", "tensor"),
        (WithMask, "input_ids", "tensor"),
        (Kwargs, "input_ids", "tensor"),
        (TupleOut, "x", "tuple"),
        (DictOut, "x", "dict"),
        (AttrOut, "x", "attr"),
    ],
)
def test_adapter_logits_equal_a_direct_call(cls: type[Base], input_name: str, kind: str) -> None:
    model = cls().eval()
    adapter = ModelAdapter(model)
    assert adapter.input_name == input_name and not adapter.by_keyword
    assert torch.equal(adapter(IDS), model.logits(IDS))
    assert adapter.output_kind == kind


def test_attention_mask_is_passed_by_keyword_when_accepted() -> None:
    model = WithMask().eval()
    adapter = ModelAdapter(model)
    mask = torch.ones_like(IDS)
    mask[:, -3:] = 0
    assert adapter.accepts_mask and adapter.mask_name == "attention_mask"
    assert torch.equal(adapter(IDS, mask), model(IDS, attention_mask=mask))
    assert not torch.equal(adapter(IDS, mask), adapter(IDS))


def test_padding_mask_uses_pytorch_convention() -> None:
    model = WithPaddingMask().eval()
    mask = torch.ones_like(IDS)
    mask[0, -2:] = 0
    assert torch.equal(ModelAdapter(model)(IDS, mask), model.logits(IDS, mask))


def test_mask_is_ignored_when_not_accepted() -> None:
    model = Positional().eval()
    adapter = ModelAdapter(model)
    assert not adapter.accepts_mask and "not accepted" in adapter.describe()
    assert torch.equal(adapter(IDS, torch.zeros_like(IDS)), model(IDS))


def test_forward_with_only_kwargs_gets_input_ids_by_keyword() -> None:
    adapter = ModelAdapter(OnlyKwargs().eval())
    assert adapter.by_keyword
    assert torch.equal(adapter(IDS), adapter.module.logits(IDS))


def test_describe_says_how_the_model_is_called() -> None:
    adapter = ModelAdapter(OddName())
    assert adapter.describe().startswith("model(input_0_tokens) → not called yet")
    adapter(IDS)
    assert adapter.describe().startswith("model(input_0_tokens) → logits tensor")


def test_output_without_logits_is_a_clear_error() -> None:
    class Strange(Base):
        def forward(self, x: torch.Tensor) -> str:
            return "hello"

    with pytest.raises(LoadError, match="returned str, which holds no logits"):
        ModelAdapter(Strange())(IDS)


def test_required_unknown_parameter_is_refused() -> None:
    class NeedsPositions(Base):
        def forward(self, x: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
            return self.logits(x)

    with pytest.raises(LoadError, match="requires position_ids") as info:
        ModelAdapter(NeedsPositions())
    assert not isinstance(info.value, ExportBugError)


def test_leaked_intermediates_are_an_export_bug() -> None:
    with pytest.raises(ExportBugError) as info:
        load_model(FIXTURES / "tb_broken_intermediates.py")
    err = info.value
    assert err.cause.startswith("Transformer Builder export bug: CustomTransformer.forward() takes ")
    assert "mhsa_0_output, residual_0_output, residual_1_output" in err.cause
    assert "intermediate results" in err.cause
    assert "Re-export" in err.fix and "forward takes only input_0_tokens" in err.fix


def test_hf_gpt2_called_by_keyword_with_mask() -> None:
    transformers = pytest.importorskip("transformers")
    cfg = transformers.GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=100, n_positions=64)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(cfg).eval()
    ids = torch.randint(0, 100, (2, 9))
    mask = torch.ones_like(ids)
    mask[1, :3] = 0
    adapter = ModelAdapter(model)
    assert adapter.by_keyword and adapter.accepts_mask and adapter.mask_name == "attention_mask"
    with torch.no_grad():
        assert torch.equal(adapter(ids, mask), model(input_ids=ids, attention_mask=mask).logits)
    assert adapter.output_kind == "attr"


def test_hf_bert_masked_lm() -> None:
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(
        vocab_size=120,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=48,
    )
    torch.manual_seed(0)
    model = transformers.BertForMaskedLM(cfg).eval()
    ids = torch.randint(0, 120, (2, 11))
    adapter = ModelAdapter(model)
    with torch.no_grad():
        assert torch.equal(adapter(ids), model(input_ids=ids).logits)
