"""Read GLUE: the official TSV layout from a folder, or `nyu-mll/glue` through `datasets` when online.

TSVs are read with quoting off and NA detection off: GLUE sentences start with quotes, some never
close them, and "NA" is a sentence (pandas' defaults fail on the first and turn the last into NaN).
Rows whose label is not one of the task's labels (e.g. "-" in NLI files) are dropped and counted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tbwidgets.training.benchmarks.glue_tasks import GlueTask


@dataclass
class GlueSplit:
    """One split: texts (pairs when `text_b`), labels as class ids or floats (STS-B)."""

    text_a: list[str]
    text_b: list[str] | None
    labels: list[Any]

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int | None) -> GlueSplit:
        if n is None or n >= len(self):
            return self
        return GlueSplit(self.text_a[:n], self.text_b[:n] if self.text_b else None, self.labels[:n])


@dataclass
class GlueData:
    task: GlueTask
    train: GlueSplit
    dev: dict[str, GlueSplit]  # "dev", or MNLI's "matched" and "mismatched"
    origin: str
    notes: list[str] = field(default_factory=list)


def read_tsv(path: Path, header: bool = True, names: tuple[str, ...] = ()) -> Any:
    """A GLUE TSV as a DataFrame of strings (quotes kept, "NA" kept, BOM removed)."""
    import pandas as pd

    return pd.read_csv(
        path,
        sep="\t",
        header=0 if header else None,
        names=list(names) if names else None,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        encoding="utf-8-sig",
        dtype=str,
    )


def _split(task: GlueTask, frame: Any, where: str, notes: list[str]) -> GlueSplit:
    missing = [c for c in (task.text_a, task.text_b, task.label) if c is not None and c not in frame.columns]
    if missing:
        raise ValueError(
            f"{where} has no column {missing[0]!r} (columns: {list(frame.columns)[:8]}). Is it the official "
            f"GLUE {task.title} file? CoLA files have no header; the others do."
        )
    raw = frame[task.label].tolist()
    if task.regression:
        keep = [i for i, v in enumerate(raw) if _is_float(v)]
        labels: list[Any] = [float(raw[i]) for i in keep]
    else:
        ids = {name: i for i, name in enumerate(task.labels)}
        keep = [i for i, v in enumerate(raw) if v.strip() in ids]
        labels = [ids[raw[i].strip()] for i in keep]
    if len(keep) < len(raw):
        notes.append(f"{where}: {len(raw) - len(keep)} rows without a valid label were skipped.")
    a = frame[task.text_a].tolist()
    b = frame[task.text_b].tolist() if task.text_b else None
    return GlueSplit([a[i] for i in keep], [b[i] for i in keep] if b else None, labels)


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def find_task_dir(data_dir: Path, task: GlueTask) -> Path:
    for candidate in (data_dir / task.folder, data_dir / task.name, data_dir / task.folder.lower()):
        if candidate.is_dir():
            return candidate
    if (data_dir / "train.tsv").exists() and len(list(data_dir.glob("dev*.tsv"))):
        return data_dir  # the task's own folder was given
    raise FileNotFoundError(
        f"No {task.title} folder under {data_dir}: expected {data_dir / task.folder}/train.tsv and "
        f"{', '.join(f for _, f in task.dev_files)} (the official GLUE layout, e.g. from download_glue_data.py)."
    )


def load_local(task: GlueTask, data_dir: str | Path) -> GlueData:
    """A task from the official layout under `data_dir` (e.g. glue_data/SST-2/train.tsv)."""
    folder = find_task_dir(Path(data_dir), task)
    notes: list[str] = []
    names = task.columns if not task.header else ()
    train = _split(task, read_tsv(folder / "train.tsv", task.header, names), f"{task.title} train.tsv", notes)
    dev = {}
    for split, file in task.dev_files:
        path = folder / file
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: {task.title} needs {', '.join(f for _, f in task.dev_files)}."
            )
        dev[split] = _split(task, read_tsv(path, task.header, names), f"{task.title} {file}", notes)
    return GlueData(task, train, dev, str(folder), notes)


def load_hub(task: GlueTask) -> GlueData:
    """A task from `nyu-mll/glue` (needs `datasets` and a connection, or a cached copy)."""
    try:
        import datasets
    except ImportError:
        raise RuntimeError(
            "Loading GLUE from the Hub needs the datasets package (pip install datasets), or pass data_dir= "
            "with the official TSV files."
        ) from None
    try:
        ds = datasets.load_dataset("nyu-mll/glue", task.name)
    except Exception as exc:
        raise RuntimeError(
            f"Could not load nyu-mll/glue ({task.name}) from the Hub: {type(exc).__name__}: {exc}. Without a "
            "connection, download GLUE once and pass data_dir= (the folder with CoLA/, SST-2/, ...)."
        ) from exc

    def split(rows: Any) -> GlueSplit:
        labels = [float(y) if task.regression else int(y) for y in rows["label"]]
        return GlueSplit(list(rows[task.hub_a]), list(rows[task.hub_b]) if task.hub_b else None, labels)

    dev = {name.removeprefix("validation_") or "dev": split(ds[name]) for name in task.hub_dev}
    if list(dev) == ["validation"]:
        dev = {"dev": dev["validation"]}
    return GlueData(task, split(ds["train"]), dev, "nyu-mll/glue")


def load_task(task: GlueTask, data_dir: str | Path | None) -> GlueData:
    return load_local(task, data_dir) if data_dir is not None else load_hub(task)
