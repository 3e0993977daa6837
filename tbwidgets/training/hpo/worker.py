"""`run_worker`: run more trials of an existing study from another process or machine.

The first `search()` stored the source, data, config and space in the study; a worker reads them
back, so only the storage URL and study name are needed. Works when those were plain values (a gist
id, a path, the built-in example, a task name or a file): a model object or a space function cannot
travel through a database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tbwidgets.training.hpo.result import SearchResult
from tbwidgets.training.hpo.storage import existing_file, open_storage
from tbwidgets.training.hpo.study import STUDY_ATTR, search


def study_recipe(storage: Any, study_name: str) -> dict[str, Any]:
    """What the study's first search stored; ValueError saying what to do when it cannot be reused."""
    import optuna

    file = existing_file(storage)
    if file is not None and not file.exists():  # opening it would leave an empty database behind
        raise ValueError(
            f"No study storage at {file}: start the study first with `tbwidgets search --storage {storage} "
            f"--study {study_name}` (or search(...)), then point workers at the same --storage and --study."
        )
    store, url = open_storage(storage, Path("."))
    try:
        study = optuna.load_study(study_name=study_name, storage=store)
    except KeyError:
        raise ValueError(
            f"No study named {study_name!r} in {url}. Start it first with `tbwidgets search` or search(...), "
            "then point workers at the same --storage and --study."
        ) from None
    recipe = dict(study.user_attrs.get(STUDY_ATTR) or {})
    if not recipe:
        raise ValueError(
            f"Study {study_name!r} was not created by tbwidgets search: nothing tells a worker what to train."
        )
    if recipe.get("source") is None or recipe.get("data") is None or recipe.get("space_is_function"):
        raise ValueError(
            f"Study {study_name!r} was started from Python with a model object, data object or space function, "
            "which cannot be stored. Run more trials from Python instead: search(same source, same data, "
            f"same space, storage={url!r}, study_name={study_name!r})."
        )
    return recipe


def run_worker(
    storage: Any, study_name: str, *, n_trials: int | None = None, on_event: Any = None, stop: Any = None
) -> SearchResult:
    """Join the study and run trials until it has its `n_trials` (the first search's target by default)."""
    import optuna

    recipe = study_recipe(storage, study_name)
    source = None if recipe["source"] == "example" else recipe["source"]
    # Each worker seeds its sampler with the seed plus its process id: with one seed, every worker
    # would draw the same random start-up points and train the same parameters twice.
    seed = (int(recipe["config"].get("random_seed", 0)) + os.getpid()) % 2**31
    return search(
        source,
        recipe["data"],
        recipe["space"],
        n_trials=n_trials or int(recipe["n_trials"]),
        storage=storage,
        study_name=study_name,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=recipe.get("pruner"),
        config=recipe["config"],
        on_event=on_event,
        stop=stop,
    )
