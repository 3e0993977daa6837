"""AttentionExplorer from a model: capture, linked attribution recomputed in a worker thread, curves."""

from __future__ import annotations

import numpy as np
import pytest

from tbwidgets.widgets._explorer_payload import decode_payload
from tbwidgets.widgets.attribution_view import curves_payload
from tbwidgets.widgets.explorer import AttentionExplorer


@pytest.fixture(scope="module")
def explorer() -> AttentionExplorer:
    ex = AttentionExplorer(text="The cat sat on the mat. The cat", attribute=True)
    ex.wait(60)
    return ex


def test_example_model_maps_and_attribution(explorer):
    assert explorer.overview["n_layers"] == 2 and explorer.overview["n_heads"] == 4
    assert explorer.tokens[0] == "T" and len(explorer.tokens) == explorer.overview["length"]
    attr = explorer.attribution
    assert attr["state"] == "done", attr.get("message")
    scores = decode_payload(attr["scores"])
    assert scores.shape == (len(explorer.tokens),) and np.isfinite(scores).all()
    assert attr["delta"] is not None and attr["n_steps"] >= 1


def test_attribution_recomputed_for_another_position(explorer):
    explorer._on_front_end_msg(explorer, {"type": "attribute", "position": 3, "target": 65}, [])
    value = explorer.wait(60)
    assert value["state"] == "done", value.get("message")
    assert value["position"] in (3, 3 - len(explorer.tokens)) and value["target"] == 65
    scores = decode_payload(value["scores"])
    # a causal model's output at position 3 cannot depend on later tokens
    assert np.abs(scores[4:]).max() <= 1e-6


def test_attribute_without_a_model_says_what_to_do():
    from tbwidgets.widgets._explorer_payload import synthetic_maps

    ex = AttentionExplorer(maps=synthetic_maps(1, 1, 8))
    assert ex.attribution["state"] == "none"
    with pytest.raises(RuntimeError, match="create the explorer from a model"):
        ex.attribute(0)


def test_curves_from_artifacts_travel_as_buffers():
    payload = curves_payload(
        {"noise": {"sigma": [0.0, 0.1, 0.2], "kl": [0.0, 0.5, 1.5], "top1": [1, 0.9, 0.6]}, "note": "ignored"}
    )
    (panel,) = payload["panels"]
    assert panel["x_label"] == "sigma" and [s["name"] for s in panel["series"]] == ["kl", "top1"]
    assert decode_payload(panel["series"][0]["y"]).tolist() == pytest.approx([0.0, 0.5, 1.5])


def test_from_report_uses_tier2_artifacts():
    from tbwidgets import validate
    from tbwidgets.loading import load_model

    loaded = load_model()
    report = validate(loaded, tiers=[2])
    ex = AttentionExplorer.from_report(report, source=loaded, attribute=False)
    patterns = next(r for r in report.results if r.check_id == "tier2.attention_patterns")
    assert ex.overview["n_layers"] == patterns.artifacts["maps"].shape[0]
    assert ex.tokens == patterns.artifacts["tokens"]
    assert ex.attribution["state"] == "done" and ex.attribution["relative_delta"] is not None
    titles = [p["title"] for p in ex.curves["panels"]]
    assert titles == ["influence by distance", "embedding noise"]
    noise = ex.curves["panels"][1]
    assert [s["name"] for s in noise["series"]] == ["KL", "top-1 agreement"]
    ex.attribute(5, wait=True)
    assert ex.attribution["state"] == "done" and ex.attribution["position"] == 5


def test_from_report_without_tier2_says_what_to_run():
    from tbwidgets.core import Report

    with pytest.raises(ValueError, match="run Tier 2"):
        AttentionExplorer.from_report(Report(results=[]))


def test_worker_reports_progress_and_drops_superseded_runs(monkeypatch):
    import threading
    import time
    from types import SimpleNamespace

    from tbwidgets.widgets import attribution_view

    release = threading.Event()

    def fake_ig(loaded, input_ids=None, *, position, target, n_steps, progress, check_stop):
        progress(0.5, "half way")
        if position == 0:  # the first request waits until a newer one replaced it
            release.wait(5)
            check_stop()
        return SimpleNamespace(scores=[0.1, -0.2], target=3, delta=0.0, n_steps=n_steps, position=position)

    monkeypatch.setattr(attribution_view, "find_integrated_gradients", lambda: fake_ig)
    published: list[dict] = []
    worker = attribution_view.AttributionWorker(None, None, published.append)
    worker.start(0)
    worker.start(1)
    release.set()
    worker.wait(5)
    time.sleep(0.2)  # the superseded thread ends right after check_stop
    states = [(p["state"], p.get("progress"), p.get("position")) for p in published]
    assert ("running", 0.5, None) in states
    done = [p for p in published if p["state"] == "done"]
    assert [d["position"] for d in done] == [1]
