"""The AttentionExplorer inside the ValidatorWidget: built from a real Tier 2 run of the example model,
shown in the displayed tree under the shell only while the Tier 2 tab is open, replaced or removed."""

from __future__ import annotations

import ipywidgets
import pytest

from tbwidgets.loading import load_model
from tbwidgets.widgets import validator as validator_module
from tbwidgets.widgets._areas import WIDGET_MIME
from tbwidgets.widgets.explorer import AttentionExplorer
from tbwidgets.widgets.validator import ValidatorWidget
from tests.widgets.helpers import CrashCheck, QuickCheck
from tests.widgets.test_validator import walk

BANNED = tuple(getattr(ipywidgets, n) for n in ("Tab", "Accordion", "Output"))


@pytest.fixture(scope="module")
def ran() -> ValidatorWidget:
    """The example model (2 layers × 4 heads) after one real Tier 2 run (~2.5 s on a shared CPU)."""
    w = ValidatorWidget(model=load_model(), autorun=None)
    assert w.wait(30) is None and w.explorer is None  # nothing before Tier 2 ran
    w.run(2, wait=True)
    return w


def test_tier2_run_builds_the_explorer_from_the_report(ran: ValidatorWidget) -> None:
    ex = ran.explorer
    assert isinstance(ex, AttentionExplorer)
    patterns = next(r for r in ran.report.results if r.check_id == "tier2.attention_patterns")  # type: ignore[union-attr]
    n_layers, n_heads, length = patterns.artifacts["maps"].shape[:3]
    assert (n_layers, n_heads) == (2, 4) and n_layers == ran.loaded.facts.n_layers
    assert (ex.overview["n_layers"], ex.overview["n_heads"], ex.overview["length"]) == (2, 4, length)
    assert ex.tokens == patterns.artifacts["tokens"]  # the run's captures, not a new capture
    assert ex.attribution["state"] == "done"  # the run's IG scores
    assert [p["title"] for p in ex.curves["panels"]] == ["influence by distance", "embedding noise"]
    assert ex._loaded is ran.loaded  # the attribution view can recompute on this model


def test_explorer_is_in_the_displayed_tree_and_follows_the_tab(ran: ValidatorWidget) -> None:
    data, _metadata = ran._repr_mimebundle_()
    assert data[WIDGET_MIME]["model_id"] == ran.view.model_id  # the notebook shows the composed box
    assert data["text/plain"] == repr(ran)  # nbval still sees the widget's stable repr
    tree = walk(ran.view)
    assert ran in tree and ran.explorer in tree
    assert tree.index(ran) < tree.index(ran.explorer)  # the shell (with the Tier 2 rows) comes first
    assert not [x for x in tree if isinstance(x, BANNED)]
    area = ran._tier2_area.box
    for tab, shown in (("tier2", ""), ("tier1", "none"), ("model", "none"), ("tier3", "none"), ("tier2", "")):
        ran.active_tab = tab  # what a click on a tab does through the synced trait
        assert area.layout.display == shown, tab
    ran.active_tab = "tier1"


def test_explorer_state_has_no_float_json(ran: ValidatorWidget) -> None:
    from tbwidgets.widgets.explorer import float_json_arrays, state_size

    ex = ran.explorer
    assert not float_json_arrays({k: getattr(ex, k) for k in ("overview", "attribution", "curves")})
    assert state_size(ex)["total"] < 200_000


def test_rerun_replaces_and_loading_removes_the_explorer(ran: ValidatorWidget) -> None:
    first = ran.explorer
    ran.run(2, wait=True)
    second = ran.explorer
    assert second is not None and second is not first
    assert first.comm is None  # the old explorer was closed, its maps freed
    assert ran._tier2_area.box.children == (second,)
    ran.load({"source": ran.loaded}, autorun=None)
    ran.wait(30)
    assert ran.explorer is None and ran._tier2_area.box.children == ()
    assert second.comm is None


def test_tier2_without_attention_maps_shows_no_explorer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        validator_module,
        "suite_checks",
        lambda key, tokenizer=None: [QuickCheck()] if key == "tier1" else [CrashCheck()],
    )
    w = ValidatorWidget(model=load_model(), autorun=None)
    w.run(2, wait=True)
    assert w.tier2["state"] == "done" and w.explorer is None
    assert w._tier2_area.box.children == ()


def test_report_without_attribution_offers_recompute(ran: ValidatorWidget) -> None:
    """A Tier 2 run stopped after capturing maps but before IG: the explorer says how to get it."""
    from tbwidgets.core import Report

    full = ran.report  # the module's Tier 2 run (loading another model keeps the last report)
    assert full is not None
    partial = Report(results=[r for r in full.results if r.check_id == "tier2.attention_patterns"])
    ex = AttentionExplorer.from_report(partial, source=ran.loaded, attribute=False)
    assert ex.attribution["state"] == "none" and "Recompute" in ex.attribution["message"]
    ex.close()


class WordTokenizer:
    """The two methods Tier 2 uses from a Hugging Face tokenizer: one id per word."""

    def encode(self, text: str) -> list[int]:
        return [100 + len(word) for word in text.split()]

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [f"w{i}" for i in ids]


def test_tier2_reads_its_text_through_the_given_tokenizer() -> None:
    w = ValidatorWidget(model=load_model(), autorun=None, tokenizer=WordTokenizer())
    w.wait(30)
    w.run(2, wait=True)
    tokens = w.report["tier2.attention_patterns"].artifacts["tokens"]  # type: ignore[index]
    assert tokens and all(t.startswith("w1") for t in tokens)  # words, not bytes
