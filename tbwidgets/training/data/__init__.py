"""Training data: `make_data(data, loaded, config)` turns a task name, text or loaders into TrainingData.

Accepted `data`:
- a synthetic task name: "copy", "reverse", "sort", "modular_addition", or the "random" control;
- text: a list of strings, (text, label) pairs, a text file, a folder of .txt/.md files, a .csv/.tsv/
  .jsonl table, a pandas Series or DataFrame, a `datasets.Dataset`/`DatasetDict`, or a dataset name
  ("path" or "path:config") loaded with `datasets.load_dataset` (see `sources` for column rules);
- already prepared: a map-style torch Dataset of batch-format dicts, a 2-D integer tensor/array of token
  ids (causal LM), a TrainingData (returned as is), one DataLoader, or (train_loader, val_loader).

The loss follows the model's task (`loaded.task`) unless `config.task` says otherwise. Loaders are
`ResumableLoader`s: see `loader` for how the engine saves and restores their position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tbwidgets.training.data import given
from tbwidgets.training.data.bundle import KINDS, TrainingData
from tbwidgets.training.data.loader import ResumableLoader, ResumableSampler
from tbwidgets.training.data.synthetic import TASKS

if TYPE_CHECKING:
    from tbwidgets.loading.model import LoadedModel
    from tbwidgets.training.config import TrainingConfig

__all__ = ["KINDS", "TASKS", "ResumableLoader", "ResumableSampler", "TrainingData", "make_data"]


def make_data(
    data: Any,
    loaded: LoadedModel,
    config: TrainingConfig | None = None,
    *,
    tokenizer: Any = None,
    text_column: str | None = None,
    label_column: str | None = None,
) -> TrainingData:
    """TrainingData for `loaded` from `data` (see the module docstring), seeded by `config.random_seed`."""
    from tbwidgets.training.config import TrainingConfig

    cfg = config or TrainingConfig()
    kind = cfg.task or loaded.task.value
    if isinstance(data, TrainingData):
        return data
    if given.is_loader(data) or (isinstance(data, tuple) and len(data) == 2 and given.is_loader(data[0])):
        train, val = (data, None) if given.is_loader(data) else data
        return given.passthrough(train, val, kind, loaded.facts)
    if given.is_map_dataset(data):
        return given.from_dataset(data, kind, loaded.facts, cfg)
    if given.is_token_ids(data):
        return given.from_ids(data, kind, loaded.facts, cfg)
    from tbwidgets.training.data import build

    if isinstance(data, str) and data in TASKS:
        return build.from_task(data, kind, loaded.facts, cfg)
    from tbwidgets.training.data.sources import read_source

    src = read_source(data, text_column=text_column, label_column=label_column)
    return build.from_text(src, kind, loaded.facts, cfg, tokenizer)
