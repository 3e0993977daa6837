"""Search across processes: a SIGKILLed worker's trial is failed and retried; two workers share a study."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tbwidgets.training.hpo import run_worker, search
from tbwidgets.training.hpo.recovery import OWNER_ATTR
from tbwidgets.training.hpo.storage import open_storage
from tests.training.search_helpers import model_folder, search_config, tbwidgets_process, tiny_factory


def _trials(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=study, storage=url).get_trials()


def _wait_for_running_trial_with_reports(url: str, study: str, proc: object, deadline: float) -> int:
    while time.time() < deadline:
        try:
            trials = _trials(url, study)
        except KeyError:  # the worker has not created the study yet
            trials = []
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        # early in its trial (≤ step 30 of 80): the kill lands long before that trial could finish
        running = [
            t
            for t in trials
            if t.state == TrialState.RUNNING and t.intermediate_values and max(t.intermediate_values) <= 30
        ]
        if len(complete) >= 2 and running:
            return running[0].number
        assert proc.poll() is None, "the search process ended before it could be killed"  # type: ignore[attr-defined]
        time.sleep(0.1)
    raise AssertionError("no trial was running with reported values in time")


@pytest.mark.slow
def test_sigkilled_search_resumes_with_the_killed_trial_failed_and_retried(tmp_path: Path) -> None:
    cfg = search_config(tmp_path, max_steps=80, val_every_n_steps=2)
    cfg.save(tmp_path / "cfg.json")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    args = [
        "search",
        str(model_folder(tmp_path)),
        "--data",
        "copy",
        "--config",
        str(tmp_path / "cfg.json"),
        "--n-trials",
        "5",
        "--pruner",
        "none",
        "--storage",
        url,
        "--study",
        "killed",
    ]
    proc = tbwidgets_process(*args, log=tmp_path / "search.log")
    try:
        killed = _wait_for_running_trial_with_reports(url, "killed", proc, time.time() + 400)
        before = {t.number: t.value for t in _trials(url, "killed") if t.state == TrialState.COMPLETE}
    finally:
        proc.kill()  # SIGKILL: no cleanup runs in the worker
        proc.wait()
    assert _trials(url, "killed")[killed].state == TrialState.RUNNING  # what a dead worker leaves behind

    result = run_worker(url, "killed")  # started again (same study, from the stored recipe)

    after = {t.number: t for t in _trials(url, "killed")}
    assert {n: after[n].value for n in before} == before  # every earlier trial kept
    assert after[killed].state == TrialState.FAIL and "died" in after[killed].user_attrs["error"]
    retries = [t for t in after.values() if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == after[killed].params
    assert result.n_complete == 5 and result.n_failed == 1


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # study.ask() plays the other machine
def test_heartbeat_fails_a_silent_trial_of_another_machine(tmp_path: Path) -> None:
    storage, _ = open_storage(tmp_path / "hb.db", tmp_path, heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(storage=storage, study_name="hb")
    ghost = study.ask({"learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-2, log=True)})
    ghost.set_user_attr(OWNER_ATTR, {"host": socket.gethostname() + "-elsewhere", "pid": 1, "start": None})
    storage.record_heartbeat(ghost._trial_id)
    time.sleep(3)  # past the grace period without a beat: that machine is gone
    result = search(
        tiny_factory,
        "copy",
        {"learning_rate": {"low": 1e-3, "high": 1e-2, "log": True}},
        n_trials=2,
        storage=storage,
        study_name="hb",
        config=search_config(tmp_path),
        pruner="none",  # the retry is judged on completing, not on its loss
    )
    states = result.trials.set_index("number")["state"].to_dict()
    assert states[0] == "fail" and result.trials.set_index("number").loc[1, "retry_of"] == 0
    assert result.n_complete == 2


@pytest.mark.slow
def test_two_worker_processes_complete_a_twelve_trial_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    cfg = search_config(tmp_path, max_steps=4)
    search(
        str(model_folder(tmp_path)), "copy", n_trials=0, storage=url, study_name="shared", config=cfg
    )  # create it
    procs = [
        tbwidgets_process(
            "search-worker",
            "--storage",
            url,
            "--study",
            "shared",
            "--n-trials",
            "12",
            log=tmp_path / f"w{i}.log",
        )
        for i in range(2)
    ]
    codes = [p.wait(timeout=900) for p in procs]
    logs = [(tmp_path / f"w{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], logs
    trials = _trials(url, "shared")
    assert sorted(t.number for t in trials) == list(range(12))  # no duplicate, none lost
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    owners = {t.user_attrs[OWNER_ATTR]["pid"] for t in trials}
    assert len(owners) == 2  # both processes ran trials
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 12  # and never the same parameters


def test_trial_claim_lets_one_worker_count_and_start_at_a_time(tmp_path: Path) -> None:
    import threading

    from tbwidgets.training.hpo.claim import TrialClaim

    first, second = TrialClaim(tmp_path / "s.db"), TrialClaim(tmp_path / "s.db")
    first.acquire()
    got: list[float] = []
    waiter = threading.Thread(target=lambda: (second.acquire(), got.append(time.monotonic())))
    waiter.start()
    time.sleep(0.3)
    assert not got  # the second worker waits while the first counts and creates its trial
    released = time.monotonic()
    first.release()
    first.release()  # idempotent: the objective and the loop's finally both release
    waiter.join(5)
    assert got and got[0] >= released
    second.release()
    assert TrialClaim(None).path is None  # server databases: nothing to lock
