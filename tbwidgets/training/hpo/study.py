"""`search()`: an Optuna study whose objective is `fit`, resumable from its storage, shared by workers.

The study counts toward `n_trials` every trial that finished (complete, pruned, or failed for good)
or is running; failed trials that were queued again (killed process, Stop) do not count, their retry
does. So a resumed call, or several workers on one storage, run exactly the missing trials.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tbwidgets.training.hpo import recovery
from tbwidgets.training.hpo.claim import TrialClaim
from tbwidgets.training.hpo.events import SearchEvent, SearchFinished, SearchStarted, TrialFinished
from tbwidgets.training.hpo.objective import SearchStopped, TrialRunner
from tbwidgets.training.hpo.result import SearchResult, importances, trials_frame
from tbwidgets.training.hpo.space import Space, describe, validate_spec
from tbwidgets.training.hpo.storage import MAX_RETRY, existing_file, open_storage

STUDY_ATTR = "tbwidgets"  # study user attribute: what search-workers need to run more trials


def _config(config: Any) -> Any:
    from tbwidgets.training.fit import _config as as_config

    return as_config(config)


def default_study_name() -> str:
    return "search-" + time.strftime("%Y%m%d-%H%M%S")


def make_sampler(sampler: Any, seed: int) -> Any:
    import optuna

    if sampler is None or sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return sampler


def startup_trials(n_trials: int) -> int:
    """How many trials the median pruner lets finish before it judges: a tenth of the study, 1 to 5.

    Start-up trials always run their whole budget, so a fixed count (Optuna's default is 5) eats the
    savings of a small notebook study: 5 of 12 trials unpruned. A tenth keeps Optuna's 5 from 50
    trials up, gives 2 for the default 20 and 1 below that (the second trial is then judged against
    the first one's curve; from the third on, against the median of all finished trials).
    """
    return max(1, min(5, n_trials // 10))


def make_pruner(pruner: Any, config: Any, n_trials: int = 20) -> Any:
    """Median by default; "hyperband", "none" or an Optuna pruner. Steps are optimizer steps."""
    import optuna

    every = config.val_every_n_steps or max(1, config.max_steps // 10)
    if pruner is None or pruner == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=startup_trials(n_trials), n_warmup_steps=every, interval_steps=1
        )
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=every, max_resource=config.max_steps, reduction_factor=3
        )
    if pruner in ("none", False):
        return optuna.pruners.NopPruner()
    if isinstance(pruner, str):
        raise ValueError(f"pruner={pruner!r}: use 'median', 'hyperband', 'none' or an optuna pruner.")
    return pruner


def open_study(storage: Any, name: str, sampler: Any, pruner: Any) -> Any:
    import optuna

    for _ in range(3):  # two workers creating one study at once: the loser loads it
        try:
            return optuna.create_study(
                storage=storage,
                study_name=name,
                sampler=sampler,
                pruner=pruner,
                direction="minimize",
                load_if_exists=True,
            )
        except optuna.exceptions.DuplicatedStudyError:
            time.sleep(0.2)
    return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)


def counts(study: Any) -> tuple[int, int, int]:
    """(trials counting toward the target, trials waiting to run, finished trials)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    done = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    failed = [t for t in trials if t.state == TrialState.FAIL and t.number not in retried]
    running = [t for t in trials if t.state == TrialState.RUNNING]
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    return len(done) + len(failed) + len(running), len(waiting), len(done) + len(failed)


def _describe_source(source: Any) -> str | None:
    if source is None:
        return "example"
    return str(source) if isinstance(source, (str, Path)) else None


def _record(
    study: Any, source: Any, data: Any, cfg: Any, space: Space | None, n_trials: int, pruner: Any
) -> None:
    """Store what a search-worker needs (only plain, re-loadable values)."""
    if STUDY_ATTR in study.user_attrs:
        return
    study.set_user_attr(
        STUDY_ATTR,
        {
            "source": _describe_source(source),
            "data": str(data) if isinstance(data, (str, Path)) else None,
            "config": cfg.to_dict(),
            "space": describe(space),
            "space_is_function": callable(space),
            "n_trials": n_trials,
            "pruner": pruner if isinstance(pruner, str) or pruner is None else type(pruner).__name__,
        },
    )


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial to stderr; our events carry the same facts (a notebook worker never prints)."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat helpers
            yield
    finally:
        optuna.logging.set_verbosity(before)


def search(
    source: Any,
    data: Any,
    space: Space | None = None,
    *,
    n_trials: int = 20,
    timeout: float | None = None,
    storage: Any = None,
    study_name: str | None = None,
    sampler: Any = None,
    pruner: Any = None,
    config: Any = None,
    on_event: Callable[[SearchEvent], None] | None = None,
    stop: Any = None,
    tokenizer: Any = None,
    max_retry: int = MAX_RETRY,
) -> SearchResult:
    """Search hyperparameters of `fit(source, data, config)` with Optuna; see the package docstring."""
    if n_trials < 0:
        raise ValueError(f"n_trials={n_trials}: give 1 or more (0 opens the study without running a trial).")
    cfg = _config(config)
    if cfg.val_every_n_steps is None:  # the pruner needs validation losses during the trial
        cfg = cfg.replace(val_every_n_steps=max(1, (cfg.max_steps or 100) // 10))
    if isinstance(space, dict):
        validate_spec(space)
    name = study_name or default_study_name()
    run_dir = Path(cfg.checkpoint_dir) / name
    emit = on_event or (lambda event: None)
    t0 = time.perf_counter()
    with _quiet_optuna():
        store, url = open_storage(storage, run_dir, max_retry=max_retry)
        study = open_study(
            store, name, make_sampler(sampler, cfg.random_seed), make_pruner(pruner, cfg, n_trials)
        )
        _record(study, source, data, cfg, space, n_trials, pruner)
        recovery.fail_dead_trials(study, max_retry)
        emit(SearchStarted(name, url, n_trials, describe(space), str(run_dir), counts(study)[2]))
        runner = TrialRunner(source, data, cfg, space, run_dir, emit, stop, name, tokenizer)
        claim = TrialClaim(existing_file(url) if "://" in url else None)
        stopped = _loop(study, runner, claim, n_trials, timeout, stop, max_retry)
    result = build_result(
        study, url, run_dir, cfg, time.perf_counter() - t0, stopped, (source, data, cfg, tokenizer)
    )
    emit(SearchFinished(name, result))
    return result


def _loop(
    study: Any,
    runner: TrialRunner,
    claim: TrialClaim,
    n_trials: int,
    timeout: float | None,
    stop: Any,
    max_retry: int,
) -> bool:
    """Run one trial at a time until the study has its trials, the timeout passes, or Stop; True on Stop."""
    from tbwidgets.training.fit import TrainingError

    t0 = time.perf_counter()
    done_cb = _Announce(runner.emit, runner)
    runner.on_start = claim.release  # the objective's first line: the new trial now counts for others
    while not (stop is not None and stop.is_set()):
        if timeout is not None and time.perf_counter() - t0 >= timeout:
            return False
        try:
            claim.acquire()  # count and start as one step across the workers sharing the study
            recovery.fail_stale(study)
            recovery.fail_dead_trials(study, max_retry)
            counted, waiting, _ = counts(study)
            if counted >= n_trials and not waiting:
                return False
            study.optimize(runner, n_trials=1, catch=(TrainingError,), callbacks=[done_cb])
        except (SearchStopped, KeyboardInterrupt) as exc:  # Stop, or Ctrl-C (after fit's stop checkpoint)
            trial = study._storage.get_trial(runner.current_trial_id)
            recovery.retry(study, trial, None)  # a resumed search runs these parameters again
            done_cb(study, trial)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return True
        finally:
            claim.release()
    return True


class _Announce:
    """Optuna callback: a TrialFinished event after every trial."""

    def __init__(self, emit: Any, runner: TrialRunner) -> None:
        self.emit, self.runner = emit, runner

    def __call__(self, study: Any, trial: Any) -> None:
        attrs = trial.user_attrs
        self.emit(
            TrialFinished(
                self.runner.study_name,
                trial.number,
                str(trial.state.name).lower(),
                trial.value,
                dict(trial.params),
                self.runner.durations.get(trial.number),
                attrs.get("steps"),
                attrs.get("pruned_at"),
                attrs.get("error"),
            )
        )


def build_result(
    study: Any, url: str, run_dir: Path, cfg: Any, duration: float, stopped: bool, rerun: Any
) -> SearchResult:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = min(complete, key=lambda t: t.value) if complete else None
    imp, why = importances(study)
    return SearchResult(
        study_name=study.study_name,
        storage=url,
        direction="minimize",
        best_params=dict(best.params) if best else {},
        best_value=float(best.value) if best else None,
        best_trial=best.number if best else None,
        trials=trials_frame(trials),
        importances=imp,
        n_complete=len(complete),
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        n_failed=sum(t.state == TrialState.FAIL for t in trials),
        duration_s=duration,
        stopped=stopped,
        run_dir=str(run_dir),
        config=cfg.to_dict(),
        messages=[why] if why else [],
        _rerun=rerun,
    )
