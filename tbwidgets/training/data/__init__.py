"""Training data: `make_data(data, loaded, config)` turns a task name, text or loaders into TrainingData.

Accepted `data`:
- a synthetic task name: "copy", "reverse", "sort", "modular_addition", or the "random" control;
- text: a list of strings, (text, label) pairs, a text file, a folder of .txt/.md files, a .csv/.tsv/
  .jsonl table, a pandas Series or DataFrame, a `datasets.Dataset`/`DatasetDict`, or a dataset name
  ("path" or "path:config") loaded with `datasets.load_dataset` (see `sources` for column rules);
- a TrainingData (returned as is), one DataLoader, or (train_loader, val_loader) passed through.

The loss follows the model's task (`loaded.task`) unless `config.task` says otherwise. Loaders are
`ResumableLoader`s: see `loader` for how the engine saves and restores their position.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

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
    if _is_loader(data) or (isinstance(data, tuple) and len(data) == 2 and _is_loader(data[0])):
        train, val = (data, None) if _is_loader(data) else data
        return passthrough(train, val, kind, loaded)
    from tbwidgets.training.data import build

    if isinstance(data, str) and data in TASKS:
        return build.from_task(data, kind, loaded.facts, cfg)
    from tbwidgets.training.data.sources import read_source

    src = read_source(data, text_column=text_column, label_column=label_column)
    return build.from_text(src, kind, loaded.facts, cfg, tokenizer)


def _is_loader(obj: Any) -> bool:
    from torch.utils.data import DataLoader

    return isinstance(obj, DataLoader) or (
        isinstance(obj, Iterable)
        and not isinstance(obj, (str, bytes, list, tuple, dict))
        and hasattr(obj, "__len__")
        and not hasattr(obj, "column_names")
        and type(obj).__module__.split(".")[0] != "pandas"
    )


def _size(loader: Any) -> int:
    dataset = getattr(loader, "dataset", None)
    try:
        return len(dataset) if dataset is not None else 0  # type: ignore[arg-type]
    except TypeError:  # an IterableDataset without a length
        return 0


def passthrough(train: Any, val: Any, kind: str, loaded: LoadedModel) -> TrainingData:
    """The user's own loaders, described as such; resumable only if they have state_dict/load_state_dict."""
    resumable = all(hasattr(dl, "state_dict") and hasattr(dl, "load_state_dict") for dl in (train,))
    notes = (
        []
        if resumable
        else [
            "Your train loader has no state_dict/load_state_dict: a resumed run restarts its epoch from the "
            "first batch. Use tbwidgets.training.data.ResumableLoader to resume at the exact batch."
        ]
    )
    return TrainingData(
        kind=kind,
        train=train,
        val=val,
        description="Your own loaders.",
        expected="",
        seq_len=loaded.facts.max_len,
        vocab_size=loaded.facts.vocab_size,
        n_train=_size(train),
        n_val=_size(val) if val is not None else 0,
        pad_token_id=loaded.facts.pad_token_id,
        task="custom",
        resumable=resumable,
        notes=notes,
    )
