"""The ValidatorWidget through bad inputs, then a good one: each error shown, the widget still usable."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tbwidgets.api import SelectionError
from tbwidgets.core import checks_for
from tbwidgets.widgets import validator as validator_module
from tbwidgets.widgets.validator import ValidatorWidget
from tests.fakes.gist_server import FakeGistAPI

pytestmark = pytest.mark.bad_input

FAST = ["tier1.shape_robustness", "tier1.causal_leakage"]


@pytest.fixture
def fast_tier1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tier 1 as two quick real checks, so "runs afterwards" costs seconds, not the whole suite."""
    monkeypatch.setattr(validator_module, "suite_checks", lambda key, tokenizer=None: checks_for(FAST))


def _type_in_box(w: ValidatorWidget, text: str) -> None:
    """What the gist box and its Load button send (the front end strips the text)."""
    w._on_front_end_msg(w, {"type": "load", "source": text, "origin": "input"}, [])
    w.wait(60)


def _shows_error(w: ValidatorWidget, words: str) -> None:
    assert w.header["state"] == "error", w.header
    assert words in w.header["problem"]["cause"], w.header["problem"]
    assert w.header["problem"]["fix"]  # and what to do about it
    assert "Traceback" not in w.header["problem"]["cause"] + w.header["problem"]["fix"]
    assert w.loaded is None
    assert w.tier1["state"] in ("idle", "stopped") and "No model loaded" in w.tier1["message"], w.tier1


def test_three_bad_inputs_then_a_good_one(fake_gist_env: FakeGistAPI, fast_tier1: None) -> None:
    gist = fake_gist_env.add_tb_example()
    w = ValidatorWidget("", autorun="tier1")  # e.g. ValidatorWidget(os.environ.get("GIST_ID", ""))
    w.wait(60)
    _shows_error(w, "no gist id given — is GIST_ID set?")

    _type_in_box(w, "f" * 32)
    _shows_error(w, "was not found (HTTP 404)")
    assert w.gist_input == "f" * 32

    _type_in_box(w, "https://example.com/model.py")
    _shows_error(w, "https://example.com/model.py is not a gist URL")

    _type_in_box(w, gist.id)
    assert w.header["state"] == "ready", w.header
    assert w.loaded is not None and w.loaded.source.gist_id == gist.id
    assert w.tier1["state"] == "done", w.tier1
    assert [r["id"] for r in w.tier1["rows"]] == FAST
    assert w.report is not None and w.report.ok


def test_blank_gist_id_is_an_error_not_the_example(fake_gist_env: FakeGistAPI) -> None:
    w = ValidatorWidget("   ", autorun=None)
    w.wait(30)
    _shows_error(w, "no gist id given — is GIST_ID set?")


@pytest.mark.parametrize(
    ("selection", "words"),
    [
        ("tier3", "Unknown tier 3 (tier 3 is training"),
        ([], "No checks selected"),
        ("tier1.nope", "Unknown check 'tier1.nope'"),
        (0, "Unknown tier 0: valid tiers are 1 and 2"),
    ],
)
def test_bad_run_selection_is_refused_and_the_widget_still_runs(
    selection: Any, words: str, fast_tier1: None
) -> None:
    w = ValidatorWidget(autorun=None)  # the built-in example
    w.wait(60)
    with pytest.raises(SelectionError, match=words.replace("(", r"\(")):
        w.run(selection)
    assert w.tier1["state"] not in ("running", "stopping")
    w.run("1", wait=True)
    assert w.tier1["state"] == "done" and [r["id"] for r in w.tier1["rows"]] == FAST


def test_run_takes_tiers_the_way_the_api_does(fast_tier1: None) -> None:
    w = ValidatorWidget(autorun=None)
    w.wait(60)
    w.run(" tier1 ", wait=True)
    assert w.tier1["state"] == "done"
    w.run(["tier1.causal_leakage"], wait=True)
    assert [r["id"] for r in w.tier1["rows"]] == ["tier1.causal_leakage"]


def test_stop_ends_a_model_py_that_hangs_at_import(tmp_path: Any, fast_tier1: None) -> None:
    # a long top-level loop in Python (Stop cannot cut a single blocking C call such as time.sleep)
    (tmp_path / "model.py").write_text("total = 0\nfor i in range(10**12):\n    total += i\n")
    w = ValidatorWidget(path=str(tmp_path), autorun="tier1")
    deadline = time.monotonic() + 60
    while "still running" not in w._header.get("message", ""):  # the loader names the running line
        assert time.monotonic() < deadline, w._header
        time.sleep(0.1)
    assert "line 3 is running: `total += i`" in w._header["message"]
    w.stop()
    w.wait(30)
    _shows_error(w, "interrupted at line 3: `total += i` (Stop was pressed)")
    _type_in_box(w, "")  # the empty box loads the built-in example (its placeholder says so)
    assert w.header["state"] == "ready" and w.tier1["state"] == "done"
