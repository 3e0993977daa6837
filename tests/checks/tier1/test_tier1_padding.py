"""tier1.padding_invariance: padding must not move real-token outputs; bugs named, healthy models pass."""

from __future__ import annotations

import pytest
import torch

from tbwidgets.checks.tier1 import PaddingInvariance
from tbwidgets.checks.tier1.padding_invariance import absolute_positions, tolerance
from tbwidgets.core import Runner, Status
from tbwidgets.loading import load_model
from tests.checks.tier1.zoo import MaskedEncoder, ZooLM

_ID = "tier1.padding_invariance"


def _run(model: torch.nn.Module, task: str = "masked-lm"):
    torch.manual_seed(0)
    return Runner(load_model(model=model, task=task), [PaddingInvariance()]).run()[_ID]


def test_key_padding_mask_passes_and_says_what_was_compared() -> None:
    result = _run(MaskedEncoder())
    assert result.status is Status.PASS, result.summary
    assert result.metrics["max_abs_move"] <= result.metrics["tolerance"]
    assert "Left padding was not checked" in result.details  # absolute table, no position_ids
    assert {row["padding"] for row in result.table or []} == {"right"}
    assert len({row["pad_id"] for row in result.table or []}) == 2  # pad id 0 and a random id


def test_ignored_mask_fails_naming_the_move_and_the_fix() -> None:
    result = _run(MaskedEncoder(pad_use="ignore"))
    assert result.status is Status.FAIL
    assert "ignores it" in result.summary and "pads of id" in result.summary
    assert "key_padding_mask" in result.details and "−inf" in result.details


def test_mask_added_as_zero_one_fails_without_blaming_ignorance() -> None:
    result = _run(MaskedEncoder(pad_use="additive01"))
    assert result.status is Status.FAIL
    assert "does not keep attention off the padding" in result.summary


def test_causal_model_without_mask_argument_is_skipped_with_the_reason() -> None:
    result = _run(ZooLM(), task="causal-lm")
    assert result.status is Status.SKIPPED
    assert "takes no attention mask" in result.summary and "right padding" in result.summary


def test_bidirectional_model_without_mask_argument_is_told_to_add_one() -> None:
    result = _run(ZooLM(mask="none"))
    assert result.status is Status.SKIPPED and "add an attention_mask argument" in result.summary


class RelativeEncoder(MaskedEncoder):
    """No position table at all (like ALiBi/RoPE models): left padding is compared too."""

    def __init__(self, pad_use: str = "key") -> None:
        super().__init__(pad_use)
        del self.pos

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        real = attention_mask.bool() if attention_mask is not None else None
        x = self.tok(input_ids)
        for block in self.blocks:
            x = block(x, real)
        return self.head(self.ln_f(x))


def test_models_without_absolute_positions_are_checked_with_left_padding_too() -> None:
    assert not absolute_positions(RelativeEncoder()) and absolute_positions(MaskedEncoder())
    result = _run(RelativeEncoder())
    assert result.status is Status.PASS, result.summary
    assert {row["padding"] for row in result.table or []} == {"right", "left"}
    assert _run(RelativeEncoder(pad_use="ignore")).status is Status.FAIL


def test_tolerance_scales_with_the_dtype() -> None:
    assert tolerance(torch.float32, 1.0) == pytest.approx(1e-4)
    assert tolerance(torch.float16, 1.0) > 0.03 and tolerance(torch.bfloat16, 1.0) > tolerance(
        torch.float16, 1.0
    )
    assert tolerance(torch.float32, 10.0) == pytest.approx(1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["gpt2", "bert", "roberta"])
def test_hugging_face_models_pass_with_left_padding_via_position_ids(arch: str) -> None:
    import transformers as tf

    V, D, L = 128, 32, 64
    small = {"vocab_size": V, "hidden_size": D, "num_hidden_layers": 2, "num_attention_heads": 2}
    build = {
        "gpt2": lambda: tf.GPT2LMHeadModel(
            tf.GPT2Config(vocab_size=V, n_positions=L, n_embd=D, n_layer=2, n_head=2)
        ),
        "bert": lambda: tf.BertForMaskedLM(
            tf.BertConfig(**small, intermediate_size=4 * D, max_position_embeddings=L)
        ),
        "roberta": lambda: tf.RobertaForMaskedLM(
            tf.RobertaConfig(**small, intermediate_size=4 * D, max_position_embeddings=L + 2)
        ),
    }[arch]
    torch.manual_seed(0)
    result = Runner(load_model(model=build()), [PaddingInvariance()]).run()[_ID]
    assert result.status is Status.PASS, result.summary
    assert {row["padding"] for row in result.table or []} == {"right", "left"}
