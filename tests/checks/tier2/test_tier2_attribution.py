"""integrated_gradients and tier2.attribution: completeness within the reported delta, retries, verdicts."""

from __future__ import annotations

import pytest
import torch

from tbwidgets.checks.tier2.attribution import integrated_gradients
from tbwidgets.checks.tier2.attribution_check import AttributionCheck
from tbwidgets.core import Runner, Status, eval_mode
from tbwidgets.loading.examples.tiny_gpt import build_example
from tests.checks.tier2.models import TBStyle, loaded


@pytest.mark.parametrize("make", [build_example, TBStyle], ids=["tiny-gpt", "tb-style"])
def test_completeness_within_reported_delta(make: type) -> None:
    model = make()
    lm = loaded(model)
    a = integrated_gradients(lm, text="Integrated gradients add up.")
    # completeness: sum(attributions) = f(input) − f(baseline) up to the convergence delta captum reports
    assert abs(float(a.scores.sum()) - (a.f_input - a.f_baseline)) <= abs(a.delta) + 1e-4
    assert a.converged and a.relative_delta <= 0.05
    assert a.scores.shape == (len(a.tokens),) == (28,) and a.position == 27
    with (
        torch.no_grad(),
        eval_mode(model),
    ):  # the target is the argmax logit at the last position, f values are real logits
        logits = lm.adapter(torch.tensor([list(b"Integrated gradients add up.")]))[0, -1]
        base = lm.adapter(torch.zeros(1, 28, dtype=torch.long))[0, -1]
    assert a.target == int(logits.argmax())
    assert a.f_input == pytest.approx(float(logits[a.target]), abs=1e-5)
    assert a.f_baseline == pytest.approx(float(base[a.target]), abs=1e-5)


def test_explicit_target_position_and_baseline() -> None:
    a = integrated_gradients(
        loaded(build_example()), input_ids=[72, 105, 33, 33], position=1, target=7, baseline_id=32
    )
    assert (a.target, a.position, a.baseline_id, a.target_token) == (7, 1, 32, "<0x07>")
    assert abs(float(a.scores.sum()) - (a.f_input - a.f_baseline)) <= abs(a.delta) + 1e-4


class PaddingPositionsLM(torch.nn.Module):
    """RoBERTa's scheme: position ids count the non-padding tokens, padding sits at position row 0."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.tok, self.pos = torch.nn.Embedding(64, 16), torch.nn.Embedding(34, 16, padding_idx=0)
        self.mix, self.head = torch.nn.Linear(16, 16), torch.nn.Linear(16, 64)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        real = input_ids.ne(0).long()
        x = self.tok(input_ids) + self.pos(torch.cumsum(real, dim=1) * real)
        return self.head(torch.tanh(self.mix(x)).cumsum(dim=1))


def test_a_model_that_reads_the_padding_id_gets_a_baseline_its_path_ends_at() -> None:
    lm = loaded(PaddingPositionsLM(), max_len=32)
    a = integrated_gradients(lm, input_ids=[5, 9, 17, 3, 40, 22])
    assert a.baseline_id == 2 and any("outside its embedding" in n for n in a.notes)
    assert a.converged and abs(float(a.scores.sum()) - (a.f_input - a.f_baseline)) <= abs(a.delta) + 1e-4
    forced = integrated_gradients(
        lm, input_ids=[5, 9, 17, 3, 40, 22], baseline_id=0, n_steps=50, max_steps=50
    )
    assert forced.baseline_id == 0 and not forced.converged  # the all-padding baseline: the path misses f(b)


def test_steps_are_raised_up_to_the_cap_and_reported() -> None:
    a = integrated_gradients(loaded(TBStyle()), text="abcdefgh", n_steps=2, max_steps=8, tolerance=1e-9)
    assert [s for s, _ in a.tries] == [2, 4, 8]
    assert a.n_steps in (2, 4, 8) and abs(a.delta) == min(abs(d) for _, d in a.tries)
    assert any("cap of 8" in n for n in a.notes) and any("n_steps raised" in n for n in a.notes)
    assert not a.converged


def test_check_passes_on_healthy_models_and_warns_when_delta_stays_large() -> None:
    ok = Runner(loaded(build_example()), [AttributionCheck()]).run().results[0]
    assert ok.status is Status.PASS and ok.metrics["relative_delta"] <= 0.05
    assert len(ok.table or []) == 64 and ok.artifacts["scores"].shape == (64,)
    bad = (
        Runner(loaded(TBStyle()), [AttributionCheck(n_steps=2, max_steps=4, tolerance=1e-9)]).run().results[0]
    )
    assert bad.status is Status.WARN and "did not converge" in bad.summary and bad.metrics["tries"] == 2


def test_no_token_embedding_is_a_clear_error() -> None:
    lm = loaded(build_example())
    lm.token_embedding = None
    with pytest.raises(ValueError, match="token embedding"):
        integrated_gradients(lm)
    assert Runner(lm, [AttributionCheck()]).run().results[0].status is Status.SKIPPED


def test_check_stop_interrupts_a_long_attribution() -> None:
    lm = loaded(build_example())
    calls = []

    def stop_after_three() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt):
        integrated_gradients(lm, n_steps=50, internal_batch_size=5, check_stop=stop_after_three)
    assert len(calls) == 4 and not lm.module._forward_pre_hooks  # stopped mid-way, hook removed
