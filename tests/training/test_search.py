"""search(): fresh models per trial, spaces, warmup used, pruning within an epoch, resume, Stop, storages."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import optuna
import pytest
import torch

from tbwidgets.training.events import StepMetrics
from tbwidgets.training.hpo import SearchResult, TrialEvent, TrialFinished, TrialStarted, search
from tbwidgets.training.hpo.space import DEFAULT_SPACE, validate_spec
from tests.training.search_helpers import search_config, tiny_factory


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def test_every_trial_trains_a_fresh_model_and_warmup_is_used(tmp_path: Path) -> None:
    built: list[torch.nn.Module] = []

    def factory() -> torch.nn.Module:
        model = tiny_factory()
        built.append(model)
        return model

    space = {"learning_rate": [1e-2], "warmup_ratio": [0.5, 0.0], "batch_size": [16], "weight_decay": [0.01]}
    rec = Recorder()
    result = search(
        factory,
        "copy",
        space,
        n_trials=3,
        config=search_config(tmp_path, max_steps=8),
        on_event=rec,
        pruner="none",
    )
    assert len(built) == 3 and len({id(m) for m in built}) == 3
    first = {n: p.detach() for n, p in built[0].named_parameters()}
    for other in built[1:]:  # same seed, same initial weights, but each trained on its own
        assert not all(torch.equal(first[n], p.detach()) for n, p in other.named_parameters())
    lr_at_1 = {
        e.number: e.event.metrics["lr"]
        for e in rec.of(TrialEvent)
        if isinstance(e.event, StepMetrics) and e.event.step == 1
    }
    params = {e.number: e.params for e in rec.of(TrialStarted)}
    for number, lr in lr_at_1.items():
        warm = params[number]["warmup_ratio"]
        expected = 1e-2 / (round(warm * 8) + 1) if warm else 1e-2  # linear warmup's first step
        assert lr == pytest.approx(expected)
    assert result.n_complete == 3 and set(result.trials["state"]) == {"complete"}


def test_default_space_and_result_table(tmp_path: Path) -> None:
    result = search(tiny_factory, "copy", n_trials=3, config=search_config(tmp_path))
    assert isinstance(result, SearchResult)
    assert set(result.best_params) == set(DEFAULT_SPACE)
    complete = result.trials[result.trials["state"] == "complete"]
    assert result.best_value == min(complete["value"])
    for column in ("number", "state", "params", "value", "duration_s", "pruned_at", "steps"):
        assert column in result.trials.columns
    assert result.trials["batch_size"].isin([16, 32, 64]).all()
    assert result.trials["learning_rate"].min() >= 1e-4 and result.trials["learning_rate"].max() <= 1e-2
    assert set(result.importances) == set(DEFAULT_SPACE)
    text = result.to_json(tmp_path / "r.json")
    assert '"best_value"' in text and "NaN" not in text and (tmp_path / "r.json").exists()
    assert Path(result.storage.removeprefix("sqlite:///")) == Path(result.run_dir) / "study.db"


def test_model_values_go_to_the_factory_and_functions_are_spaces(tmp_path: Path) -> None:
    seen: list[int] = []

    def factory(d_model: int = 16) -> torch.nn.Module:
        seen.append(d_model)
        return tiny_factory(d_model)

    def space(trial: Any) -> dict[str, Any]:
        return {
            "d_model": trial.suggest_categorical("d_model", [8, 16]),
            "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True),
        }

    result = search(factory, "copy", space, n_trials=3, config=search_config(tmp_path))
    assert seen == list(result.trials["d_model"])
    with pytest.raises(ValueError, match="model factory"):
        search(
            tiny_factory(),
            "copy",
            {"d_model": [8]},
            n_trials=1,
            config=search_config(tmp_path),
            study_name="m",
        )


def test_bad_space_lists_every_problem() -> None:
    with pytest.raises(ValueError, match=r"learning_rate.*low.*batch_size: an empty list"):
        validate_spec({"learning_rate": {"low": 0, "high": 1, "log": True}, "batch_size": []})


def test_pruning_happens_at_the_optimizer_step_inside_the_first_epoch(tmp_path: Path) -> None:
    cfg = search_config(tmp_path, max_steps=40, val_every_n_steps=2, batch_size=16)
    rec = Recorder()
    # prune any trial whose loss is above 0 (all of them) from the first report on
    result = search(
        tiny_factory,
        "copy",
        {"learning_rate": [1e-3]},
        n_trials=2,
        config=cfg,
        on_event=rec,
        pruner=optuna.pruners.ThresholdPruner(upper=0.0),
    )
    assert list(result.trials["state"]) == ["pruned", "pruned"]
    assert list(result.trials["pruned_at"]) == [2, 2] and list(result.trials["steps"]) == [2, 2]
    finished = rec.of(TrialFinished)
    assert [f.state for f in finished] == ["pruned", "pruned"] and finished[0].pruned_at == 2
    steps = [e.event for e in rec.of(TrialEvent) if isinstance(e.event, StepMetrics)]
    assert steps and all(s.epoch == 0 for s in steps)  # copy's 9,900 examples: an epoch is 619 steps


def test_median_pruner_prunes_a_hopeless_trial(tmp_path: Path) -> None:
    def space(trial: Any) -> dict[str, Any]:
        return {"learning_rate": (1e-2, 1e-2, 1e-7)[trial.number]}  # the third cannot learn

    result = search(
        tiny_factory, "copy", space, n_trials=3, config=search_config(tmp_path, max_steps=8, warmup_ratio=0.0)
    )
    assert list(result.trials["state"]) == ["complete", "complete", "pruned"]
    assert result.trials["steps"].iloc[2] < 8


def test_same_study_name_resumes_and_keeps_trials(tmp_path: Path) -> None:
    cfg = search_config(tmp_path)
    first = search(tiny_factory, "copy", n_trials=2, config=cfg, study_name="resume")
    again = search(tiny_factory, "copy", n_trials=4, config=cfg, study_name="resume")
    assert list(again.trials["number"]) == [0, 1, 2, 3]
    kept = again.trials.set_index("number").loc[[0, 1], "value"].tolist()
    assert kept == first.trials["value"].tolist()
    assert (
        search(tiny_factory, "copy", n_trials=4, config=cfg, study_name="resume").trials.shape[0] == 4
    )  # nothing left


def test_stop_fails_the_running_trial_and_a_resume_runs_it_again(tmp_path: Path) -> None:
    stop = threading.Event()

    def listener(event: Any) -> None:
        if (
            isinstance(event, TrialEvent)
            and isinstance(event.event, StepMetrics)
            and event.number == 1
            and event.event.step == 2
        ):
            stop.set()

    cfg = search_config(tmp_path)
    stopped = search(  # no pruner: trial 1 must still be running when Stop comes
        tiny_factory, "copy", n_trials=3, config=cfg, study_name="s", on_event=listener, stop=stop,
        pruner="none",
    )  # fmt: skip
    assert stopped.stopped and list(stopped.trials["state"]) == ["complete", "fail", "waiting"]
    assert stopped.trials["retry_of"].iloc[2] == 1
    done = search(tiny_factory, "copy", n_trials=3, config=cfg, study_name="s", pruner="none")
    states = done.trials.set_index("number")["state"].to_dict()
    assert states == {0: "complete", 1: "fail", 2: "complete", 3: "complete"}
    assert (
        done.trials.set_index("number").loc[2, "params"]
        == stopped.trials.set_index("number").loc[1, "params"]
    )


@pytest.mark.parametrize("kind", ["journal", "url"])
def test_journal_file_and_sqlalchemy_url(tmp_path: Path, kind: str) -> None:
    storage = str(tmp_path / "study.log") if kind == "journal" else f"sqlite:///{tmp_path / 'other.db'}"
    result = search(
        tiny_factory, "copy", n_trials=2, config=search_config(tmp_path), storage=storage, study_name="j",
        pruner="none",
    )  # fmt: skip
    assert result.n_complete == 2
    assert (tmp_path / ("study.log" if kind == "journal" else "other.db")).exists()


def test_train_best_trains_a_fresh_model_with_the_best_parameters(tmp_path: Path) -> None:
    result = search(tiny_factory, "copy", n_trials=2, config=search_config(tmp_path))
    trained = result.train_best()
    assert trained.config["learning_rate"] == pytest.approx(result.best_params["learning_rate"])
    assert trained.config["batch_size"] == result.best_params["batch_size"]
    assert trained.steps == 6 and Path(trained.out_dir) == Path(result.run_dir) / "best"


def test_compat_hyperparameter_search_returns_the_reference_keys(tmp_path: Path) -> None:
    from tbwidgets.compat import test_hyperparameter_search as hyperparameter_search

    out = hyperparameter_search(
        tiny_factory,
        search_config(tmp_path),
        n_trials=2,
        search_space={"lr": (1e-3, 1e-2), "batch_size": [16]},
    )
    assert set(out) >= {"best_params", "best_value", "n_trials", "all_trials"}
    assert out["n_trials"] == 2 and set(out["best_params"]) == {"learning_rate", "batch_size"}
    assert out["best_value"] == min(t["value"] for t in out["all_trials"] if t["value"] is not None)
    assert {"number", "value", "params"} <= set(out["all_trials"][0])


@pytest.mark.slow
def test_cli_search_writes_json_and_exit_codes(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from tests.training.search_helpers import model_folder

    search_config(tmp_path).save(tmp_path / "cfg.json")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [
            sys.executable,
            "-m",
            "tbwidgets",
            "search",
            str(model_folder(tmp_path)),
            "--config",
            str(tmp_path / "cfg.json"),
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600)

    ok = run("--n-trials", "2", "--study", "cli", "--pruner", "none", "--json", str(tmp_path / "s.json"))
    assert ok.returncode == 0, ok.stderr
    assert "trial 1 complete" in ok.stderr and "Best val_loss" in ok.stdout
    assert json.loads((tmp_path / "s.json").read_text())["n_complete"] == 2
    bad = run("--space", "{not json")
    assert bad.returncode == 2 and "--space is not valid JSON" in bad.stderr


def test_pruner_choices_count_in_optimizer_steps(tmp_path: Path) -> None:
    from tbwidgets.training.hpo.study import make_pruner

    cfg = search_config(tmp_path, max_steps=300, val_every_n_steps=20)
    median = make_pruner(None, cfg)
    assert isinstance(median, optuna.pruners.MedianPruner) and median._n_warmup_steps == 20
    starts = {n: make_pruner("median", cfg, n)._n_startup_trials for n in (3, 12, 20, 35, 50, 200)}
    assert starts == {3: 1, 12: 1, 20: 2, 35: 3, 50: 5, 200: 5}  # a tenth of the study, 1 to 5
    hyperband = make_pruner("hyperband", cfg)
    assert isinstance(hyperband, optuna.pruners.HyperbandPruner)
    assert (hyperband._min_resource, hyperband._max_resource) == (20, 300)
    assert isinstance(make_pruner("none", cfg), optuna.pruners.NopPruner)
    with pytest.raises(ValueError, match="'median', 'hyperband', 'none'"):
        make_pruner("asha", cfg)


def test_storage_specs() -> None:
    from tbwidgets.training.hpo.storage import redact, storage_url

    assert storage_url("runs/s.db").startswith("sqlite:///") and storage_url("runs/s.db").endswith(
        "runs/s.db"
    )
    assert storage_url("runs/s.log").startswith("journal:///")
    assert storage_url("postgresql://u:pw@db/hpo") == "postgresql://u:pw@db/hpo"
    assert redact("postgresql://u:secret@db:5432/hpo") == "postgresql://u:***@db:5432/hpo"
