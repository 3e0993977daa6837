"""Read what the user passed as text data into plain lists: strings, files, folders, pandas, datasets.

Column rules (pandas and `datasets`): the text is `text_column` when given, else the first of "text",
"sentence", "content", "document", or the only string column; labels are `label_column` when given,
else "label" or "labels" when present. A `datasets` name is "path" or "path:config" (e.g.
"nyu-mll/glue:sst2"), loaded through `datasets.load_dataset`, which needs the package and a network.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_COLUMNS = ("text", "sentence", "content", "document")
LABEL_COLUMNS = ("label", "labels")
TEXT_SUFFIXES = {".txt", ".md", ".rst", ".text", ""}
TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl"}
VAL_SPLITS = ("validation", "valid", "val", "dev", "test")


@dataclass
class TextSource:
    """Documents (and labels for classification), with a ready-made validation split when the data had one."""

    texts: list[str]
    labels: list[Any] | None
    origin: str  # for the description, e.g. "3 files under corpus/"
    val_texts: list[str] | None = None
    val_labels: list[Any] | None = None
    notes: list[str] = field(default_factory=list)


def read_source(data: Any, *, text_column: str | None = None, label_column: str | None = None) -> TextSource:
    """Turn any supported text input into a TextSource; ValueError that names the fix otherwise."""
    if isinstance(data, (str, Path)) and Path(data).exists():
        return _read_path(Path(data), text_column, label_column)
    if isinstance(data, str):
        return _read_hub(data, text_column, label_column)
    if _is_pandas(data):
        return _read_frame(data, text_column, label_column, "a pandas object")
    if hasattr(data, "column_names") and hasattr(data, "keys"):  # datasets.DatasetDict
        return _read_dataset_dict(data, text_column, label_column)
    if hasattr(data, "column_names") and hasattr(data, "to_pandas"):  # datasets.Dataset
        return _read_frame(data.to_pandas(), text_column, label_column, "a datasets.Dataset")
    if isinstance(data, Sequence) and data and all(isinstance(t, str) for t in data):
        return TextSource(list(data), None, f"{len(data)} strings")
    if isinstance(data, Sequence) and data and all(_is_pair(t) for t in data):
        return TextSource([t for t, _ in data], [y for _, y in data], f"{len(data)} (text, label) pairs")
    raise ValueError(
        f"Cannot read {type(data).__name__} as training data. Pass a task name, a list of strings, "
        "(text, label) pairs, a text file or folder, a pandas Series/DataFrame, a datasets.Dataset, "
        "a TrainingData, or (train_loader, val_loader)."
    )


def _is_pair(t: Any) -> bool:
    return isinstance(t, (tuple, list)) and len(t) == 2 and isinstance(t[0], str)


def _is_pandas(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "pandas"


def _read_path(path: Path, text_column: str | None, label_column: str | None) -> TextSource:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        files = [p for p in files if not any(part.startswith(".") for part in p.relative_to(path).parts)]
        if not files:
            raise ValueError(f"No text files (.txt, .md, .rst) under {path}; put the training text there.")
        return TextSource([_read_text(p) for p in files], None, f"{len(files)} files under {path.name}/")
    if path.suffix.lower() in TABLE_SUFFIXES:
        return _read_frame(_read_table(path), text_column, label_column, path.name)
    return TextSource([_read_text(path)], None, path.name)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc.reason}); convert it or pass the strings.") from exc


def _read_table(path: Path) -> Any:
    import csv

    import pandas as pd

    if path.suffix.lower() == ".jsonl":
        return pd.read_json(path, lines=True)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    # QUOTE_NONE + keep_default_na=False: GLUE-style TSVs keep quotes and the text "NA" (recipes §6)
    quoting = csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL
    return pd.read_csv(path, sep=sep, quoting=quoting, keep_default_na=False, encoding="utf-8-sig")


def _pick(columns: Sequence[str], wanted: str | None, defaults: Sequence[str], what: str) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise ValueError(
                f"No column {wanted!r}; the columns are {list(columns)}. Pass {what}= one of them."
            )
        return wanted
    return next((c for c in defaults if c in columns), None)


def _read_frame(frame: Any, text_column: str | None, label_column: str | None, origin: str) -> TextSource:
    import pandas as pd

    if isinstance(frame, pd.Series):
        return TextSource([str(t) for t in frame.tolist()], None, f"{origin} ({len(frame)} rows)")
    columns = [str(c) for c in frame.columns]
    text = _pick(columns, text_column, TEXT_COLUMNS, "text_column")
    if text is None:
        strings = [c for c in columns if frame[c].map(lambda v: isinstance(v, str)).all()]
        if len(strings) != 1:
            raise ValueError(
                f"Which column holds the text? {origin} has columns {columns}; pass text_column='…'."
            )
        text = strings[0]
    label = _pick(columns, label_column, LABEL_COLUMNS, "label_column")
    labels = frame[label].tolist() if label is not None else None
    return TextSource([str(t) for t in frame[text].tolist()], labels, f"column {text!r} of {origin}")


def _read_dataset_dict(dd: Any, text_column: str | None, label_column: str | None) -> TextSource:
    if "train" not in dd:
        raise ValueError(
            f"The DatasetDict has splits {list(dd.keys())} but no 'train'; pass one Dataset instead."
        )
    src = _read_frame(dd["train"].to_pandas(), text_column, label_column, "the 'train' split")
    val_name = next((s for s in VAL_SPLITS if s in dd), None)
    if val_name is not None:
        val = _read_frame(dd[val_name].to_pandas(), text_column, label_column, f"the {val_name!r} split")
        src.val_texts, src.val_labels = val.texts, val.labels
        src.notes.append(f"validation from the dataset's {val_name!r} split")
    return src


def _read_hub(name: str, text_column: str | None, label_column: str | None) -> TextSource:
    close = difflib.get_close_matches(name.lower(), _task_names(), n=1, cutoff=0.6)
    if close:  # a typo must not turn into a slow Hub lookup
        raise ValueError(
            f"Unknown task {name!r}: did you mean {close[0]!r}? The tasks are {', '.join(_task_names())}."
        )
    if _looks_like_a_path(name):  # nor a missing file: Hub names have no suffix and no leading ./ ~ /
        raise ValueError(
            f"No file or folder {name!r} (looked from {Path.cwd()}). Check the path, or pass a task name "
            f"({', '.join(_task_names())}) or a Hugging Face dataset name such as 'nyu-mll/glue:sst2'."
        )
    try:
        import datasets
    except ImportError as exc:
        raise ValueError(
            f"{name!r} is not a task ({', '.join(_task_names())}), not an existing file or folder, and the "
            "`datasets` package is not installed to load it as a dataset name. Check the spelling, or "
            "`pip install datasets` to load Hugging Face datasets."
        ) from exc
    path, _, config = name.partition(":")
    try:
        dd = datasets.load_dataset(path, config or None)
    except Exception as exc:  # the Hub raises many types; all mean "could not load"
        raise ValueError(
            f"Could not load the dataset {name!r} through datasets.load_dataset ({type(exc).__name__}: {exc}). "
            "Offline? Load it once while online (it is cached), or pass a local file, a DataFrame or a "
            "datasets.Dataset. Use 'path:config' for datasets with configs (e.g. 'nyu-mll/glue:sst2')."
        ) from exc
    src = _read_dataset_dict(dd, text_column, label_column)
    src.origin = f"dataset {name}"
    return src


def _looks_like_a_path(name: str) -> bool:
    """A file name (a text or table suffix) or an explicit path (./, ../, ~, /), never a Hub id."""
    suffix = Path(name.partition(":")[0]).suffix.lower()
    return (
        suffix != "" and suffix in TEXT_SUFFIXES | TABLE_SUFFIXES | {".json", ".parquet"}
    ) or name.startswith(("./", "../", "~", "/", ".\\"))


def _task_names() -> tuple[str, ...]:
    from tbwidgets.training.data.synthetic import TASK_NAMES

    return TASK_NAMES
