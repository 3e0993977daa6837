"""Hyperparameter search: `search(source, data, space)` runs an Optuna study whose objective is `fit`.

- Every trial trains a fresh model: a factory is called again (seeded), a gist or path is loaded
  again, a model object is copied before the first trial so each trial starts from those weights.
- Space: learning rate (log), batch size, warmup ratio and weight decay (log) by default; a dict spec
  or a `(trial) -> dict` function instead (see `space`).
- TPE seeded with `config.random_seed`; the median pruner by default ("hyperband" or "none" too), fed
  with the validation loss at the optimizer step, so a trial can be pruned within its first epoch.
  It judges once a tenth of the study has finished (1 to 5 start-up trials, see `startup_trials`).
- Storage: SQLite in `<checkpoint_dir>/<study_name>/study.db` by default; a journal file, any
  SQLAlchemy URL or an Optuna storage also work. Calling `search` again with the same study name
  resumes it; a trial whose process was killed becomes FAIL and is run again.
- `run_worker(storage, study_name)` (CLI `tbwidgets search-worker`) adds processes to one study.
- Objective: the validation loss at the last step (minimised).
"""

from __future__ import annotations

from tbwidgets.training.hpo.events import (
    SearchEvent,
    SearchFinished,
    SearchListener,
    SearchStarted,
    TrialEvent,
    TrialFinished,
    TrialStarted,
)
from tbwidgets.training.hpo.result import SearchResult
from tbwidgets.training.hpo.space import DEFAULT_SPACE
from tbwidgets.training.hpo.storage import open_storage
from tbwidgets.training.hpo.study import search
from tbwidgets.training.hpo.worker import run_worker

__all__ = [
    "DEFAULT_SPACE",
    "SearchEvent",
    "SearchFinished",
    "SearchListener",
    "SearchResult",
    "SearchStarted",
    "TrialEvent",
    "TrialFinished",
    "TrialStarted",
    "open_storage",
    "run_worker",
    "search",
]
