"""The Tier 3 Benchmarks section: a GLUE fixture task runs live with its reference rows, Stop, export, errors.

Runs the real engine (fit, a classification head, the same-budget baseline) on the official-layout
fixtures in tests/fixtures/glue for a few optimizer steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("lightning", reason="the training extra (Lightning) is not installed")

from tbwidgets.loading import load_model
from tbwidgets.training.config import TrainingConfig
from tbwidgets.widgets.bench_view import BenchView
from tests.widgets.helpers import until

GLUE = Path(__file__).resolve().parents[1] / "fixtures" / "glue"


@pytest.fixture(scope="module")
def loaded() -> Any:
    return load_model()


def host(loaded: Any) -> Any:
    sent: list[dict[str, Any]] = []
    return SimpleNamespace(loaded=loaded, tokenizer=None, busy=False, send=sent.append, sent=sent)


def tiny(tmp_path: Path, steps: int) -> TrainingConfig:
    return TrainingConfig(max_steps=steps, batch_size=8, val_every_n_steps=2, checkpoint_every_n_steps=None,
                          keep_best=0, checkpoint_dir=str(tmp_path), accelerator="cpu")  # fmt: skip


def test_a_glue_task_shows_model_majority_and_baseline_and_exports(loaded: Any, tmp_path: Path) -> None:
    h = host(loaded)
    view = BenchView(h, interval=0.05)
    tables: list[str] = []  # every redraw: a short run can end between two polls of the live value
    disabled: list[bool] = []
    view.table.observe(lambda change: tables.append(change["new"]), names="value")
    view.run_button.observe(lambda change: disabled.append(change["new"]), names="disabled")
    view.run("sst2", data_dir=GLUE, config=tiny(tmp_path, 3))
    assert until(lambda: any("tbw-bench-running" in t for t in tables)), (
        "the running contender shows while it trains"
    )
    assert any("training model on sst2" in t for t in tables) and True in disabled
    report = view.wait(120)
    assert report is not None and [(r.task, r.metric) for r in report.rows] == [("sst2", "accuracy")]
    row = report.rows[0]
    assert row.majority == pytest.approx(0.5) and row.baseline is not None and row.steps == 3
    table = view.table.value
    assert (
        table.count("tbw-bench-row") == 1
        and "same-budget baseline" in table
        and "tbw-bench-running" not in table
    )
    assert f"{row.majority:.4f}" in table and f"{row.baseline:.4f}" in table and f"{row.model:.4f}" in table
    assert "Done" in view.status.value and "parameters" in view.status.value
    assert not view.json_button.disabled
    view.json_button.click()
    view.html_button.click()
    assert view.problems.html.value == ""
    saved = json.loads((tmp_path / "benchmark-glue.json").read_text())
    assert saved["rows"][0]["task"] == "sst2" and saved["rows"][0]["baseline"] == pytest.approx(row.baseline)
    assert "<table>" in (tmp_path / "benchmark-glue.html").read_text()
    assert [m["filename"] for m in h.sent] == ["benchmark-glue.json", "benchmark-glue.html"]


def test_stop_ends_the_run_within_a_step_and_keeps_the_view_usable(loaded: Any, tmp_path: Path) -> None:
    view = BenchView(host(loaded), interval=0.05)
    view.run("sst2,cola", data_dir=GLUE, config=tiny(tmp_path, 5000))
    assert until(lambda: view.record.snapshot().step >= 2)
    view.stop_button.click()
    view.wait(60)
    assert not view.active, "Stop really stopped the worker"
    snap = view.record.snapshot()
    assert snap.step < 5000 and snap.current == "model on sst2"  # neither the baseline nor CoLA started
    assert "Stopped" in view.status.value and not view.run_button.disabled and view.stop_button.disabled
    view.reset()  # what a new model in the validator does
    assert view.table.value == "" and "No benchmark yet" in view.status.value and view.report is None


def test_problems_are_shown_in_place(loaded: Any, tmp_path: Path) -> None:
    view = BenchView(host(loaded), interval=0.05)
    view.form.tasks.value = ("sst2", "lm")
    view.form.data_dir.value = str(GLUE)
    view.run_button.click()
    assert "LM text" in view.problems.html.value and not view.active
    view.form.tasks.value = ("rte",)
    view.form.data_dir.value = str(tmp_path / "nowhere")
    view.run(config=tiny(tmp_path, 2))
    view.wait(60)
    status = view.status.value
    assert "Failed" in status and "What to do" in status and "nowhere" in status
    assert not view.run_button.disabled
    with pytest.raises(ValueError, match="Unknown task"):
        view.run("sst3", data_dir=GLUE)
    empty = BenchView(SimpleNamespace(loaded=None, tokenizer=None, busy=False))
    empty.run_button.click()
    assert "No model is loaded" in empty.problems.html.value
