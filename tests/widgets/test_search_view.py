"""The Tier 3 Search section: live trial rows, the figures, Stop, errors in place, best parameters handed on.

Runs the real engine (Optuna + fit) on a tiny model and the `copy` task for a few steps per trial.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("lightning", reason="the training extra (Lightning) is not installed")
pytest.importorskip("optuna", reason="the search needs Optuna (training extra)")

from tbwidgets.loading import load_model
from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.outcome import TrainingError
from tbwidgets.widgets.search_view import SearchView
from tests.training.search_helpers import search_config, tiny_factory
from tests.widgets.helpers import until


def host() -> Any:
    return SimpleNamespace(loaded=load_model(model=tiny_factory()), tokenizer=None, busy=False)


class FakeTrainView:
    """Stands in for the Train section: its form's settings, and what `train` was asked to do."""

    def __init__(self) -> None:
        self.form = SimpleNamespace(config=lambda: (TrainingConfig(max_steps=400), []))
        self.run = SimpleNamespace(active=False)
        self.calls: list[tuple[Any, Any]] = []

    def train(self, data: Any = None, config: Any = None) -> None:
        self.calls.append((data, config))


def test_rows_appear_live_then_the_history_and_best_go_to_the_train_view(tmp_path: Path, capfd: Any) -> None:
    train_view = FakeTrainView()
    view = SearchView(host(), train_view=train_view)  # the default 0.25 s between redraws
    redraws: list[float] = []
    view.status.observe(lambda _: redraws.append(time.monotonic()), names="value")
    t0 = time.monotonic()
    # 24 steps: a trial runs across several 0.25 s redraws even on a busy CI machine
    view.start("copy", n_trials=2, config=search_config(tmp_path, max_steps=24, val_every_n_steps=4))
    assert until(lambda: "tbw-trial-running" in view.table.value), "a running trial row shows while it trains"
    assert view.stop_button.disabled is False and view.start_button.disabled is True
    result = view.wait(120)
    elapsed = time.monotonic() - t0
    # dozens of step events, but the view redraws at most 4 times a second (+ start and final redraws)
    assert 2 <= len(redraws) <= 4 * elapsed + 3, (len(redraws), elapsed)
    assert capfd.readouterr().out == "", "the search printed into the notebook"
    assert result is not None and result.n_complete + result.n_pruned == 2
    table = view.table.value
    assert table.count("<tr class='tbw-trial-") == 2 and "tbw-trial-running" not in table
    assert "learning rate" in table and "weight decay" in table and "★" in table  # best trial starred
    assert "Done" in view.status.value and "best val loss" in view.status.value
    plots = view.plots
    assert len(plots.done.x) == result.n_complete and min(plots.done.y) == pytest.approx(result.best_value)
    assert list(plots.best.y)[-1] == pytest.approx(result.best_value)  # best-so-far line ends at the best
    values = [*plots.done.y, *plots.pruned.y]  # every marker inside the y range, clear of title and axis
    assert plots.hs["y"].min < min(values) and max(values) < plots.hs["y"].max
    assert plots.curves.marks and all(
        len(m.x) >= 1 for m in plots.curves.marks
    )  # val loss per step, per trial
    assert view.plots.box.layout.display == ""
    assert not view.best_button.disabled
    view.best_button.click()
    assert view.problems.html.value == ""
    ((data, config),) = train_view.calls
    assert data == "copy" and config.max_steps == 400  # the Train section's budget, the search's best values
    assert config.learning_rate == pytest.approx(result.best_params["learning_rate"])
    assert config.batch_size == result.best_params["batch_size"]


def test_stop_ends_the_running_trial_within_a_step_and_the_view_stays_usable(tmp_path: Path) -> None:
    view = SearchView(host(), interval=0.05)
    view.start("copy", n_trials=3, config=search_config(tmp_path, max_steps=5000, val_every_n_steps=50))
    assert until(lambda: any(r.step >= 2 for r in view.record.snapshot().trials.values()))
    view.stop_button.click()
    view.wait(60)
    assert not view.active, "Stop really stopped the worker"
    (row,) = view.record.snapshot().trials.values()
    assert row.state == "stopped" and row.step < 5000
    assert "Stopped" in view.status.value and "tbw-trial-stopped" in view.table.value
    assert not view.start_button.disabled and view.stop_button.disabled
    view.best_button.click()  # nothing completed: said in place, not raised
    assert "No trial has completed" in view.problems.html.value
    view.reset()  # what a new model in the validator does
    assert (
        view.table.value == ""
        and "No search yet" in view.status.value
        and view.plots.box.layout.display == "none"
    )


def test_space_problems_and_engine_errors_are_shown_in_place() -> None:
    calls: list[Any] = []

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        raise TrainingError("The loss became NaN at step 3.", "Lower the learning rate (e.g. 1e-4).")

    view = SearchView(host(), search=failing, interval=0.05)
    view.form.lr[0].value = 0.5  # low above high
    view.start_button.click()
    assert "must be below" in view.problems.html.value and not calls and not view.active
    view.form.lr[0].value = 1e-4
    view.form.batch.value = "16, many"
    view.start_button.click()
    assert "Batch sizes" in view.problems.html.value and not calls
    view.form.batch.value = "8, 16"
    view.start_button.click()
    view.wait(10)
    (args,) = calls
    assert args[2]["batch_size"] == [8, 16] and args[2]["learning_rate"]["log"] is True
    assert "The loss became NaN" in view.status.value and "Lower the learning rate" in view.status.value
    assert "Failed" in view.status.value and not view.start_button.disabled


def test_start_without_a_model_says_what_to_do() -> None:
    view = SearchView(SimpleNamespace(loaded=None, tokenizer=None, busy=False))
    view.start_button.click()
    assert "No model is loaded" in view.problems.html.value


def test_the_validator_composes_search_and_benchmarks_under_the_train_view() -> None:
    from tbwidgets.widgets.validator import ValidatorWidget

    w = ValidatorWidget(model=load_model(model=tiny_factory()), autorun=None, tab="tier3")
    w.wait(60)
    area = w._tier3
    assert [c._dom_classes[0] for c in area.box.children[-3:]] == ["tbw-train", "tbw-search", "tbw-bench"]
    assert area.search.train_view is w.train_view and area.search.host is w and area.bench.host is w
    assert area.box.layout.display == ""
    w.active_tab = "tier1"
    assert area.box.layout.display == "none"  # the sections follow the Tier 3 tab


def test_train_with_the_best_parameters_trains_in_the_real_train_view(tmp_path: Path) -> None:
    from tbwidgets.widgets.validator import ValidatorWidget

    w = ValidatorWidget(model=load_model(model=tiny_factory()), autorun=None, tab="tier3")
    w.wait(60)
    search = w._tier3.search
    w.train_view.form.set_config(search_config(tmp_path, max_steps=4, val_every_n_steps=2))
    search.start("copy", n_trials=2, config=search_config(tmp_path, max_steps=4, val_every_n_steps=2))
    result = search.wait(120)
    assert result is not None and result.best_params
    search.best_button.click()
    assert search.problems.html.value == ""
    trained = w.wait_training(120)
    assert trained is not None and trained.steps == 4  # the Train section's budget
    assert trained.config["learning_rate"] == pytest.approx(result.best_params["learning_rate"])
    assert trained.config["weight_decay"] == pytest.approx(result.best_params["weight_decay"])
