"""The Tier 3 Train view on the built-in example: the form, the Python control, Stop/Resume, errors.

Runs the real engine for a few dozen CPU steps per test (seconds); long runs live in benchmarks/.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets
import pytest

from tbwidgets.loading import load_model
from tbwidgets.widgets.validator import ValidatorWidget

pytest.importorskip("lightning", reason="the training extra (Lightning) is not installed")
from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.events import CheckpointSaved, StepMetrics, TrainingFailed, TrainingStarted


@pytest.fixture(scope="module")
def loaded() -> Any:
    return load_model()


def make(loaded: Any) -> ValidatorWidget:
    w = ValidatorWidget(model=loaded, autorun=None, tab="tier3")
    w.wait(60)
    return w


def small(tmp_path: Path, **changes: Any) -> Any:
    base = {"max_steps": 12, "batch_size": 8, "val_every_n_steps": 6, "checkpoint_every_n_steps": 6}
    return TrainingConfig(checkpoint_dir=str(tmp_path), **{**base, **changes})


def walk(widget: Any) -> list[Any]:
    seen: list[Any] = []

    def visit(value: Any) -> None:
        if isinstance(value, ipywidgets.Widget) and not any(value is s for s in seen):
            seen.append(value)
            for name in value.keys:
                visit(getattr(value, name, None))
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    visit(widget)
    return seen


def test_form_is_built_from_the_config_fields_and_shows_problems_inline(loaded: Any) -> None:
    w = make(loaded)
    form = w.train_view.form
    fields = {i["name"] for i in TrainingConfig.fields_info()} - {"created_at", "config_version"}
    assert set(form.rows) == fields
    essential = {i["name"] for i in TrainingConfig.fields_info() if i.get("level") == "essential"}
    visible = {n for n, r in form.rows.items() if r.box in form.box.children}
    assert visible == essential and {"learning_rate", "batch_size", "max_steps", "precision"} <= visible
    assert form.advanced.layout.display == "none"
    assert "Default: 0.001" in form.rows["learning_rate"].help.value
    form.rows["batch_size"].input.value = "many"
    assert "not a whole number" in form.rows["batch_size"].problem.value
    assert w.train_view.buttons.train.disabled
    form.rows["batch_size"].input.value = "8"
    form.rows["warmup_ratio"].input.value = "1.5"  # an advanced field: the fold opens to show why
    assert form.rows["warmup_ratio"].problem.value and form.advanced.layout.display == ""
    form.rows["warmup_ratio"].input.value = "0.05"
    assert not w.train_view.buttons.train.disabled
    banned = tuple(getattr(ipywidgets, n) for n in ("Tab", "Accordion", "Output"))
    tree = walk(w.view)
    assert w.train_view.box in tree and not [x for x in tree if isinstance(x, banned)]


def test_tab_argument_and_area_visibility(loaded: Any) -> None:
    w = make(loaded)
    assert w.active_tab == "tier3" and w._tier3.box.layout.display == ""
    w.active_tab = "tier1"
    assert w._tier3.box.layout.display == "none"
    with pytest.raises(ValueError, match="Unknown tab"):
        ValidatorWidget(model=loaded, autorun=None, tab="tier4")


def test_train_through_the_python_control(loaded: Any, tmp_path: Path) -> None:
    w = make(loaded)
    result = w.train("copy", small(tmp_path), wait=True)
    assert result is not None and w.training_result is result and not result.stopped
    view = w.train_view
    steps = [int(r["step"]) for r in view.histories.rows if "loss" in r]
    assert steps == list(range(1, 13))
    loss_line = view.curves.lines[0].mark
    assert loss_line.x[-1] == 12 and len(loss_line.y) == 12  # the final redraw sent every step
    assert "Done: step 12 / 12" in repr(w) and "0x" not in repr(w)
    assert view.results.box.layout.display == "" and "first step" in view.results.table.value
    view.save_csv()
    csv = Path(view.run.snapshot().out_dir) / "history.csv"
    assert csv.read_text().splitlines()[0].startswith("step") and len(csv.read_text().splitlines()) == 13
    view.save_png()
    assert (Path(view.run.snapshot().out_dir) / "curves.png").stat().st_size > 10_000


def test_stop_then_resume_continues_the_step_axis(loaded: Any, tmp_path: Path) -> None:
    w = make(loaded)
    view = w.train_view
    w.train("copy", small(tmp_path, max_steps=400, checkpoint_every_n_steps=100))
    deadline = time.monotonic() + 60
    while (view.histories.last_step or 0) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    w.stop()
    assert w.wait_training(60) is not None
    snap = view.run.snapshot()
    assert snap.state == "stopped" and snap.step < 400
    stop_step = snap.step
    assert any(c.reason == "stop" and c.step == stop_step for c in snap.checkpoints)
    assert view.checkpoints.box.layout.display == "" and view.checkpoints.rows.children
    assert not view.buttons.resume.disabled and "Stopped: step" in repr(w)
    w.resume()
    deadline = time.monotonic() + 60
    while (view.histories.last_step or 0) < stop_step + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    w.stop()
    w.wait_training(60)
    steps = [int(r["step"]) for r in view.histories.rows if "loss" in r]
    assert steps[: stop_step + 3] == list(range(1, stop_step + 4))  # no restart at 1, no gap, no repeat
    assert view.curves.lines[0].mark.x[-1] == steps[-1]


def test_two_widgets_train_at_once_without_interfering(tmp_path: Path) -> None:
    a, b = (ValidatorWidget(model=load_model(), autorun=None) for _ in range(2))
    a.wait(60)
    b.wait(60)
    a.train("copy", small(tmp_path / "a", max_steps=10))
    b.train("reverse", small(tmp_path / "b", max_steps=14))
    ra, rb = a.wait_training(120), b.wait_training(120)
    assert ra.out_dir != rb.out_dir
    assert len([r for r in a.train_view.histories.rows if "loss" in r]) == 10
    assert len([r for r in b.train_view.histories.rows if "loss" in r]) == 14
    assert "reverse" in b.train_view.run.snapshot().data_description


def test_a_new_model_stops_and_clears_the_old_run(loaded: Any, tmp_path: Path) -> None:
    w = make(loaded)
    w.train("copy", small(tmp_path, max_steps=1000, checkpoint_every_n_steps=None, val_every_n_steps=None))
    deadline = time.monotonic() + 60
    while (w.train_view.histories.last_step or 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    w.load({"source": load_model()})
    w.wait(120)
    view = w.train_view
    assert not view.run.active and view.histories.rows == [] and view.result is None
    assert "Tier 3: Not trained yet" in repr(w)
    assert len(view.curves.lines[0].mark.x) == 0


def test_a_data_problem_is_shown_with_its_fix_and_the_widget_stays_usable(
    loaded: Any, tmp_path: Path
) -> None:
    w = make(loaded)
    w.train(str(tmp_path / "missing.txt"), small(tmp_path))
    w.wait_training(120)
    view = w.train_view
    assert view.run.snapshot().state == "failed"
    assert "missing.txt" in view.status.problem.value and "What to do" in view.status.problem.value
    assert (
        w.train("copy", small(tmp_path, max_steps=4, val_every_n_steps=2), wait=True) is not None
    )  # usable again


def test_a_failure_event_shows_cause_fix_and_the_kept_checkpoint(loaded: Any, tmp_path: Path) -> None:
    def diverging_fit(source: Any, data: Any, config: Any, *, on_event: Any, stop: Any, **_: Any) -> None:
        on_event(TrainingStarted("r1", 100, {}, "copy", str(tmp_path)))
        for step in (1, 2, 3):
            on_event(StepMetrics("r1", step, 0, {"loss": 2.0 / step}))
        ckpt = tmp_path / "step-3.ckpt"
        ckpt.write_text("weights")
        on_event(CheckpointSaved("r1", 3, str(ckpt), "periodic"))
        on_event(
            TrainingFailed(
                "r1", 4, "The loss became NaN at step 4 (diverged).", "Lower the learning rate.", str(ckpt)
            )
        )
        raise RuntimeError("diverged")

    w = make(loaded)
    view = w.train_view
    view.run._fit = diverging_fit
    w.train("copy", small(tmp_path))
    w.wait_training(30)
    problem = view.status.problem.value
    assert "NaN at step 4" in problem and "Lower the learning rate" in problem and "step-3.ckpt" in problem
    assert not view.buttons.train.disabled and not view.buttons.resume.disabled
    assert "Failed: step 3" in repr(w)


def test_the_worker_thread_never_touches_widgets(loaded: Any, tmp_path: Path) -> None:
    """Trait writes from the training thread would race the timer; only the timer may redraw."""
    w = make(loaded)
    writers: set[str] = set()

    def spy(change: Any) -> None:
        writers.add(threading.current_thread().name)

    for widget in walk(w.train_view.box):
        widget.observe(spy)
    w.train("copy", small(tmp_path, max_steps=8), wait=True)
    assert writers and not [n for n in writers if n.startswith("tbwidgets-train-")]


def test_training_changes_the_widgets_model_and_checkpoints_load_back(loaded: Any, tmp_path: Path) -> None:
    import torch

    w = ValidatorWidget(model=load_model(), autorun=None)
    w.wait(60)
    before = {k: v.clone() for k, v in w.loaded.module.state_dict().items()}
    w.train("copy", small(tmp_path, max_steps=12), wait=True)
    after = {k: v.clone() for k, v in w.loaded.module.state_dict().items()}
    assert any(not torch.equal(before[k], after[k]) for k in before), (
        "Tier 1/2 re-runs need the trained weights"
    )
    view = w.train_view
    early = min(view.run.snapshot().checkpoints, key=lambda c: c.step)
    view.load_weights(early.path)
    loaded_back = w.loaded.module.state_dict()
    assert any(not torch.equal(after[k], loaded_back[k]) for k in after)
    assert "Loaded the weights" in view.status.notes.value
    view.resume(early.path)  # "resume from here": the curve is cut back to that step and continues
    view.wait(120)
    steps = [int(r["step"]) for r in view.histories.rows if "loss" in r]
    assert steps == list(range(1, 13)), steps


def test_recheck_runs_tier1_and_tier2_on_the_trained_model(
    loaded: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    w = make(loaded)
    w.train("copy", small(tmp_path, max_steps=4, val_every_n_steps=2), wait=True)
    asked: list[Any] = []
    monkeypatch.setattr(w, "run", lambda tier="tier1", wait=False: asked.append(tier))
    w.train_view.results.box.children[2].children[2].click()  # "Re-run Tier 1 + 2 on the trained weights"
    assert asked == ["all"] and "Tier 1 and Tier 2" in w.train_view.status.notes.value
