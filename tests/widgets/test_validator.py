"""ValidatorWidget from Python: loading, runs, Stop, coalescing, errors, two widgets, repr, exports."""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

import ipywidgets
import pytest

from tbwidgets.loading import load_model
from tbwidgets.widgets import validator as validator_module
from tbwidgets.widgets.validator import ValidatorWidget
from tests.widgets.helpers import ChattyCheck, CrashCheck, NonFiniteCheck, QuickCheck, SlowCheck, WarnCheck

FINAL = {"pass", "warn", "fail", "error", "skipped"}


@pytest.fixture(scope="module")
def loaded() -> Any:
    return load_model()


@pytest.fixture
def suites(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Replace the registered tier suites with scripted checks (the real ones have their own tests)."""
    table: dict[str, list[Any]] = {"tier1": [QuickCheck(), WarnCheck()], "tier2": [CrashCheck()]}
    monkeypatch.setattr(validator_module, "suite_checks", lambda key, tokenizer=None: list(table[key]))
    return table


def make(loaded: Any, **kwargs: Any) -> ValidatorWidget:
    kwargs.setdefault("autorun", None)
    w = ValidatorWidget(model=loaded, **kwargs)
    w.wait(10)
    return w


def walk(widget: Any) -> list[Any]:
    """Every widget reachable through trait values (children, nested lists and dicts)."""
    seen: list[Any] = []

    def visit(value: Any) -> None:
        if isinstance(value, ipywidgets.Widget):
            if any(value is s for s in seen):
                return
            seen.append(value)
            for name in value.keys:
                visit(getattr(value, name, None))
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    visit(widget)
    return seen


def test_tree_has_no_tab_accordion_or_output(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    tree = walk(w.view)  # what the notebook displays: the shell and the tab areas under it
    assert tree and tree[0] is w.view and w in tree
    banned = tuple(getattr(ipywidgets, n) for n in ("Tab", "Accordion", "Output"))
    assert not [x for x in tree if isinstance(x, banned)]


def test_autorun_runs_tier1_and_fills_rows_and_details(loaded: Any, suites: Any) -> None:
    w = ValidatorWidget(model=loaded)
    report = w.wait(20)
    assert report is not None and [r.check_id for r in report.results] == ["fake.quick", "fake.warn"]
    assert w.header["state"] == "ready" and w.header["name"] == loaded.name
    assert w.header["n_params"] == loaded.facts.n_params
    rows = w.tier1["rows"]
    assert [r["status"] for r in rows] == ["pass", "warn"]
    assert w.tier1["state"] == "done" and w.tier1["progress"] == 1.0
    details = w.results1["results"]["fake.quick"]
    assert details["metrics"] == {"loss": 1.25} and len(details["table"]) == 2
    assert w.results1["run_id"] == w.tier1["run_id"]
    assert w.model_info["config"] == loaded.config


def test_repr_is_stable_and_informative(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    text = repr(w)
    assert not re.search(r"0x[0-9a-f]+", text)
    assert (
        text
        == f"<ValidatorWidget {loaded.name} from example | Tier 1: idle (2 checks); Tier 2: idle (1 checks); "
        "Tier 3: Not trained yet>"
    )
    w.run(1, wait=True)
    assert "Tier 1: done (1 pass, 1 warn)" in repr(w)
    assert w._repr_mimebundle_()[0]["text/plain"] == repr(w)  # what nbval compares


def test_crashing_check_is_shown_and_widget_stays_usable(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    w.run("tier2", wait=True)
    row = w.tier2["rows"][0]
    assert row["status"] == "error" and "planted failure" in row["summary"]
    assert "ValueError" in w.results2["results"]["fake.crash"]["error"]
    w.run("tier1", wait=True)  # re-running after an error works
    assert {r["status"] for r in w.tier1["rows"]} <= FINAL


def test_rerun_replaces_the_rows(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    w.run(1, wait=True)
    first = w.tier1["run_id"]
    w.run(1, wait=True)
    assert w.tier1["run_id"] != first and [r["status"] for r in w.tier1["rows"]] == ["pass", "warn"]


def test_run_all_runs_both_tiers_in_order(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    w.run("all", wait=True)
    assert w.tier1["state"] == "done" and w.tier2["state"] == "done"
    assert w.report is not None and w.report.results[0].check_id == "fake.crash"  # latest run = Tier 2


def test_stop_ends_a_run_quickly(loaded: Any) -> None:
    w = make(loaded)
    w.run([SlowCheck(30.0), QuickCheck()])
    time.sleep(0.5)
    t0 = time.monotonic()
    w.stop()
    assert w.tier1["state"] in ("stopping", "running")  # traits lag ≤ one interval
    report = w.wait(5)
    assert time.monotonic() - t0 < 2.0
    assert report is not None and report.cancelled
    assert w.tier1["state"] == "stopped"
    assert [r["status"] for r in w.tier1["rows"]] == ["skipped", "skipped"]
    w.run([QuickCheck()], wait=True)  # usable after Stop
    assert w.tier1["state"] == "done"


def test_trait_updates_are_coalesced(loaded: Any) -> None:
    w = make(loaded)
    sent: list[float] = []
    original = w._apply_traits

    def counting(values: dict[str, Any]) -> None:
        sent.append(time.monotonic())
        original(values)

    w._sync._apply = counting
    t0 = time.monotonic()
    w.run([ChattyCheck(events=2000, seconds=1.0)], wait=True)
    elapsed = time.monotonic() - t0
    assert w.tier1["rows"][0]["status"] == "pass"
    assert len(sent) <= elapsed * 10 + 3, (len(sent), elapsed)
    gaps = [b - a for a, b in itertools.pairwise(sent[:-1])]  # the last flush comes from wait()
    assert all(g >= 0.09 for g in gaps), gaps


def test_two_widgets_do_not_interfere(loaded: Any) -> None:
    a = make(loaded)
    b = make(loaded)
    a.run([SlowCheck(30.0)])
    b.run([QuickCheck()], wait=True)
    assert b.tier1["state"] == "done"
    b.stop()  # stopping b must not stop a
    time.sleep(0.3)
    assert a.busy
    a.stop()
    a.wait(5)
    assert a.tier1["state"] == "stopped" and b.tier1["rows"][0]["status"] == "pass"


def test_bad_source_shows_cause_and_fix_then_loads_another(tmp_path: Any, suites: Any) -> None:
    w = ValidatorWidget(path=str(tmp_path / "missing"), autorun="tier1")
    w.wait(20)
    assert w.loaded is None
    assert w.header["state"] == "error"
    problem = w.header["problem"]
    assert problem["cause"] and problem["fix"]
    assert w.tier1["state"] in ("idle", "stopped") and "No model" in w.tier1["message"]
    w._on_front_end_msg(w, {"type": "load", "source": "", "origin": "input"}, [])  # empty box: example
    w.wait(20)
    assert w.header["state"] == "ready" and w.tier1["state"] == "done"


def test_front_end_messages_run_stop_and_export(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    sent: list[dict[str, Any]] = []
    w.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    w._on_front_end_msg(w, {"type": "export", "format": "json"}, [])
    w._sync.flush()
    assert w.notice["level"] == "error" and "Nothing to export" in w.notice["text"]
    w._on_front_end_msg(w, {"type": "run", "tier": "tier1"}, [])
    w.wait(10)
    w._on_front_end_msg(w, {"type": "export", "format": "json"}, [])
    w._on_front_end_msg(w, {"type": "export", "format": "html"}, [])
    kinds = [(m["type"], m["mime"]) for m in sent]
    assert kinds == [("download", "application/json"), ("download", "text/html")]
    assert json.loads(sent[0]["text"])["results"][0]["check_id"] == "fake.quick"
    assert "<html" in sent[1]["text"].lower() and sent[1]["filename"].endswith(".html")


def test_export_files_from_python(loaded: Any, suites: Any, tmp_path: Any) -> None:
    w = make(loaded)
    w.run("all", wait=True)
    data = json.loads(w.export_json(tmp_path / "r.json").read_text())
    assert [r["check_id"] for r in data["results"]] == ["fake.quick", "fake.warn", "fake.crash"]
    html = w.export_html(tmp_path / "r.html").read_text()
    assert "fake.crash" in html or "Crashing check" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://cdn" not in html


def test_gist_id_from_env(fake_gist_env: Any, monkeypatch: pytest.MonkeyPatch, suites: Any) -> None:
    gist = fake_gist_env.add_tb_example()
    monkeypatch.setenv("GIST_ID", gist.id)
    w = ValidatorWidget(autorun=None)
    w.wait(30)
    assert w.gist_input == gist.id
    assert w.header["state"] == "ready", w.header
    assert w.header["source"]["kind"] == "gist" and w.header["source"]["gist_id"] == gist.id
    assert "gist" in repr(w)


def test_loading_another_model_clears_old_results(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    w.run("all", wait=True)
    assert w.tier2["state"] == "done" and w.report is not None
    w.load({"source": loaded}, autorun="tier1")
    w.wait(20)
    assert w.tier1["state"] == "done"
    assert w.tier2["state"] == "idle" and not w.tier2["counts"] and w.results2["results"] == {}
    assert [r["status"] for r in w.tier2["rows"]] == ["not-run"]


def test_trait_values_are_strict_json(loaded: Any) -> None:
    w = make(loaded)
    w.run([NonFiniteCheck()], wait=True)
    for name in ("header", "model_info", "tier1", "results1"):
        json.dumps(getattr(w, name), allow_nan=False)  # raises on NaN/inf or non-JSON objects
    row = w.results1["results"]["fake.nonfinite"]["table"][0]
    assert row == {"name": "a", "norm": None, "ratio": None, "n": 1.5, "shape": [2, 3]}


def test_page_url_gist_only_applies_without_a_source(
    loaded: Any, fake_gist_env: Any, monkeypatch: pytest.MonkeyPatch, suites: Any
) -> None:
    gist = fake_gist_env.add_tb_example()
    given = make(loaded)
    given._on_front_end_msg(given, {"type": "load", "source": gist.id, "origin": "url"}, [])
    given.wait(10)
    assert given.header["source"]["kind"] == "example"  # an explicit model wins over the page URL
    monkeypatch.delenv("GIST_ID", raising=False)
    bare = ValidatorWidget(autorun=None)  # no source: the example, replaced by the URL's gist
    bare._on_front_end_msg(bare, {"type": "load", "source": gist.id, "origin": "url"}, [])
    bare.wait(30)
    assert bare.header["source"]["gist_id"] == gist.id and bare.gist_input == gist.id


def test_loading_while_running_stops_the_run_first(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    w.run([SlowCheck(30.0)])
    time.sleep(0.3)
    t0 = time.monotonic()
    w._on_front_end_msg(w, {"type": "load", "source": "", "origin": "input"}, [])
    w.wait(20)
    assert time.monotonic() - t0 < 10
    assert w.header["state"] == "ready" and w.tier1["state"] == "done"
    assert [r["id"] for r in w.tier1["rows"]] == ["fake.quick", "fake.warn"]  # autorun on the new model


def test_tier3_area_follows_the_tab_and_composes_without_banned_widgets(loaded: Any, suites: Any) -> None:
    w = make(loaded)
    figure = ipywidgets.HTML("a bqplot figure would go here")
    area = w.tier3_area(figure)
    app = ipywidgets.VBox([w.view, area])
    assert area.layout.display == "none"
    w.active_tab = "tier3"  # what a click on the Tier 3 tab does through the synced trait
    assert area.layout.display == ""
    w.active_tab = "tier1"
    assert area.layout.display == "none"
    tree = walk(app)
    assert w in tree and figure in tree
    banned = tuple(getattr(ipywidgets, n) for n in ("Tab", "Accordion", "Output"))
    assert not [x for x in tree if isinstance(x, banned)]
