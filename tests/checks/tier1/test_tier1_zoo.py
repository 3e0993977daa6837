"""Each bug in the zoo is flagged FAIL by the check that claims it, with a summary naming the bug."""

from __future__ import annotations

import pytest
import torch

from tbwidgets.checks.tier1 import TIER1_CHECKS, tier1_suite
from tbwidgets.core import Runner, Status
from tbwidgets.loading import LoadedModel, load_model
from tests.checks.tier1.zoo import BUGS, MaskedEncoder, ZooLM

_BY_ID = {cls.check_id: cls for cls in TIER1_CHECKS}


def _load(bug_name: str) -> LoadedModel:
    bug = BUGS[bug_name]
    torch.manual_seed(0)
    return load_model(model=bug.factory(), config=bug.config, task=bug.task)


def test_zoo_is_big_enough() -> None:
    assert len(BUGS) >= 15
    assert {b.check_id for b in BUGS.values()} >= {
        "tier1.causal_leakage",
        "tier1.gradient_flow",
        "tier1.shape_robustness",
        "tier1.parameter_init",
    }


@pytest.mark.parametrize("bug_name", sorted(BUGS))
def test_bug_is_caught_by_its_check(bug_name: str) -> None:
    bug = BUGS[bug_name]
    result = Runner(_load(bug_name), [_BY_ID[bug.check_id]()]).run()[bug.check_id]
    assert result.status is Status.FAIL, f"{bug_name}: {result.status} {result.summary}\n{result.error or ''}"
    assert bug.phrase.lower() in result.summary.lower(), result.summary
    assert result.details, "every FAIL must say why it matters and what to try"


@pytest.mark.parametrize("check_id", sorted({b.check_id for b in BUGS.values()}))
def test_healthy_zoo_model_passes_the_checks_used_on_bugs(check_id: str) -> None:
    torch.manual_seed(0)
    if check_id == "tier1.padding_invariance":  # needs a mask argument: the healthy masked encoder
        loaded = load_model(model=MaskedEncoder(), task="masked-lm")
    else:
        loaded = load_model(model=ZooLM(), task="causal-lm")
    result = Runner(loaded, [_BY_ID[check_id]()]).run()[check_id]
    assert result.status is Status.PASS, f"{result.summary}\n{result.error or ''}"


@pytest.mark.parametrize("bug_name", sorted(BUGS))
def test_one_bug_gives_no_crash_anywhere_in_the_suite(bug_name: str) -> None:
    """A planted bug must show up as verdicts (FAIL/WARN/SKIPPED with a reason), never as check crashes."""
    report = Runner(_load(bug_name), tier1_suite()).run()
    errors = [f"{r.check_id}: {r.summary}" for r in report.results if r.status is Status.ERROR]
    assert not errors, errors
    assert report[BUGS[bug_name].check_id].status is Status.FAIL


def test_guessed_causal_task_is_explained_in_the_leak_verdict() -> None:
    loaded = _load("tb_export_without_mask")
    assert loaded.task_reason.startswith("guessed")
    result = Runner(loaded, [_BY_ID["tier1.causal_leakage"]()]).run()["tier1.causal_leakage"]
    assert result.status is Status.FAIL
    assert "only guessed" in result.details and "task='masked-lm'" in result.details


def test_reports_of_broken_models_are_strict_json() -> None:
    """NaN/Inf cells leave as null: browsers' JSON.parse rejects the NaN token."""
    import json

    report = Runner(_load("nan_on_token"), tier1_suite()).run()
    rows = report["tier1.numerical_stability"].table or []
    assert any(v is None for row in rows for v in row.values())  # the NaN logit statistics
    text = report.to_json()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the report JSON"))
