"""`validate`/`select_checks` arguments: normalised the ways people write them, or refused clearly."""

from __future__ import annotations

import pytest

from tbwidgets import validate
from tbwidgets.api import SelectionError, normalize_checks, normalize_tiers, select_checks
from tbwidgets.checks import tier_suite
from tbwidgets.loading import EmptySourceError
from tests.core.helpers import FixedCheck

TIER1 = [c.check_id for c in tier_suite(1).checks]
TIER2 = [c.check_id for c in tier_suite(2).checks]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("tiers", "expected"),
    [
        (1, [1]),
        (2, [2]),
        ("1", [1]),
        ("1,2", [1, 2]),
        (" 2 , 1 ", [2, 1]),
        ("tier1", [1]),
        ((1, 2), [1, 2]),
        ([1, "2"], [1, 2]),
        ({2}, [2]),
        ((1, 1, "1"), [1]),
        (["1,2"], [1, 2]),
    ],
)
def test_tiers_are_normalised(tiers: object, expected: list[int]) -> None:
    assert normalize_tiers(tiers) == expected  # type: ignore[arg-type]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("tiers", "words"),
    [
        ((), "No tiers selected (tiers=())"),
        ("", "No tiers selected"),
        ([], "No tiers selected"),
        (3, "Unknown tier 3 (tier 3 is training, not a check suite): valid tiers are 1 and 2"),
        ("1,5", "Unknown tier 5: valid tiers are 1 and 2"),
        ("one", "Unknown tier 'one': valid tiers are 1 and 2"),
        (True, "tiers must be 1, 2, (1, 2) or '1,2', not bool"),
        (1.5, "not float"),
        (None, "not NoneType"),
    ],
)
def test_bad_tiers_are_refused_with_the_valid_ones(tiers: object, words: str) -> None:
    with pytest.raises(SelectionError) as info:
        normalize_tiers(tiers)  # type: ignore[arg-type]
    assert words in str(info.value)


def test_select_checks_by_tiers_in_suite_order() -> None:
    assert [c.check_id for c in select_checks(tiers="1,2")] == TIER1 + TIER2
    assert [c.check_id for c in select_checks(tiers=2)] == TIER2


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ("tier1.determinism", ["tier1.determinism"]),
        ("tier1.determinism,tier1.gradient_flow", ["tier1.determinism", "tier1.gradient_flow"]),
        (" tier1.determinism , tier1.gradient_flow ", ["tier1.determinism", "tier1.gradient_flow"]),
        (["tier1.determinism"], ["tier1.determinism"]),
        (("tier1.determinism", "tier2.perturbation"), ["tier1.determinism", "tier2.perturbation"]),
        (["tier1.determinism,tier1.gradient_flow"], ["tier1.determinism", "tier1.gradient_flow"]),
    ],
)
def test_checks_take_a_string_or_a_sequence(checks: object, expected: list[str]) -> None:
    assert [c.check_id for c in select_checks(checks=checks)] == expected  # type: ignore[arg-type]


def test_check_instances_keep_their_place_between_ids() -> None:
    mine = FixedCheck()
    chosen = select_checks(checks=["tier1.determinism", mine, "tier1.gradient_flow"])
    assert [c.check_id for c in chosen] == ["tier1.determinism", "test.fixed", "tier1.gradient_flow"]
    assert chosen[1] is mine
    assert select_checks(checks=mine) == [mine]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("checks", "words"),
    [
        ("", "No checks selected (checks='')"),
        ([], "No checks selected (checks=[])"),
        (" , ", "No checks selected"),
        ("tier1.nope", "Unknown check 'tier1.nope'. Valid checks: tier1."),
        ("tier1.determinsm", "Did you mean 'tier1.determinism'?"),
        ("tier1", "Unknown check 'tier1': that is a tier; use tiers=1 (CLI: --tiers 1)"),
        ([3], "checks holds a int; give check ids or Check instances"),
        (7, "checks must be an id, 'a,b' or a list of ids, not int"),
    ],
)
def test_bad_checks_are_refused_with_the_valid_ones(checks: object, words: str) -> None:
    with pytest.raises(SelectionError) as info:
        select_checks(checks=checks)  # type: ignore[arg-type]
    assert words in str(info.value)
    if "Unknown" in words:
        assert all(check_id in str(info.value) for check_id in TIER1 + TIER2)


@pytest.mark.bad_input
def test_unknown_check_fails_before_any_gist_is_fetched(fake_gist_env) -> None:
    with pytest.raises(SelectionError, match=r"tier1\.nope"):
        validate("0123456789abcdef0123456789abcdef", checks="tier1.nope")
    assert fake_gist_env.paths() == []


@pytest.mark.bad_input
def test_validate_takes_a_comma_list_of_checks_and_refuses_no_tiers() -> None:
    report = validate(checks="tier1.shape_robustness,tier1.causal_leakage")
    assert [r.check_id for r in report.results] == ["tier1.shape_robustness", "tier1.causal_leakage"]
    with pytest.raises(SelectionError, match="No tiers selected"):
        validate(tiers=())


def test_normalize_checks_none_means_use_tiers() -> None:
    assert normalize_checks(None) is None


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs", [{"source": ""}, {"source": "  "}, {"gist_id": ""}, {"gist_id": "\t"}])
def test_validate_refuses_an_empty_source_instead_of_the_example(kwargs: dict[str, str]) -> None:
    with pytest.raises(EmptySourceError, match=r"no gist id given — is GIST_ID set\?"):
        validate(checks="tier1.shape_robustness", **kwargs)
