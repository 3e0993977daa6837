"""The nine GLUE tasks: files and columns of the official TSV layout, Hub names, labels and metrics.

Layouts follow the GLUE distribution (as the old Hugging Face `glue.py` loader reads it): CoLA has no
header row; MNLI's train file has 12 columns and its two dev files 16 (label1..label5 added); MRPC's
raw files may start with a byte-order mark. Label ids match `nyu-mll/glue` on the Hub.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GlueTask:
    name: str  # canonical short name, e.g. "sst2"
    title: str  # e.g. "SST-2"
    folder: str  # folder in the official layout
    text_a: str  # column of the first (or only) text
    text_b: str | None  # second text for pair tasks
    label: str  # label column
    labels: tuple[str, ...]  # class names in id order; () for regression
    metrics: tuple[str, ...]  # official metrics, the first is the headline
    dev_files: tuple[tuple[str, str], ...] = (("dev", "dev.tsv"),)  # (split name, file)
    header: bool = True
    columns: tuple[str, ...] = ()  # names for a file without header
    hub_a: str = ""  # column names in nyu-mll/glue
    hub_b: str | None = None
    hub_dev: tuple[str, ...] = ("validation",)

    @property
    def regression(self) -> bool:
        return not self.labels

    @property
    def n_outputs(self) -> int:
        return len(self.labels) or 1


BINARY = ("0", "1")
NLI3 = ("entailment", "neutral", "contradiction")
NLI2 = ("entailment", "not_entailment")

TASKS: dict[str, GlueTask] = {
    t.name: t
    for t in (
        GlueTask(
            "cola",
            "CoLA",
            "CoLA",
            "sentence",
            None,
            "label",
            BINARY,
            ("mcc",),
            header=False,
            columns=("source", "label", "original_mark", "sentence"),
            hub_a="sentence",
        ),
        GlueTask(
            "sst2", "SST-2", "SST-2", "sentence", None, "label", BINARY, ("accuracy",), hub_a="sentence"
        ),
        GlueTask(
            "mrpc",
            "MRPC",
            "MRPC",
            "#1 String",
            "#2 String",
            "Quality",
            BINARY,
            ("f1", "accuracy"),
            hub_a="sentence1",
            hub_b="sentence2",
        ),
        GlueTask(
            "stsb",
            "STS-B",
            "STS-B",
            "sentence1",
            "sentence2",
            "score",
            (),
            ("pearson", "spearman"),
            hub_a="sentence1",
            hub_b="sentence2",
        ),
        GlueTask(
            "qqp",
            "QQP",
            "QQP",
            "question1",
            "question2",
            "is_duplicate",
            BINARY,
            ("accuracy", "f1"),
            hub_a="question1",
            hub_b="question2",
        ),
        GlueTask(
            "mnli",
            "MNLI",
            "MNLI",
            "sentence1",
            "sentence2",
            "gold_label",
            NLI3,
            ("accuracy",),
            dev_files=(("matched", "dev_matched.tsv"), ("mismatched", "dev_mismatched.tsv")),
            hub_a="premise",
            hub_b="hypothesis",
            hub_dev=("validation_matched", "validation_mismatched"),
        ),
        GlueTask(
            "qnli",
            "QNLI",
            "QNLI",
            "question",
            "sentence",
            "label",
            NLI2,
            ("accuracy",),
            hub_a="question",
            hub_b="sentence",
        ),
        GlueTask(
            "rte",
            "RTE",
            "RTE",
            "sentence1",
            "sentence2",
            "label",
            NLI2,
            ("accuracy",),
            hub_a="sentence1",
            hub_b="sentence2",
        ),
        GlueTask(
            "wnli",
            "WNLI",
            "WNLI",
            "sentence1",
            "sentence2",
            "label",
            BINARY,
            ("accuracy",),
            hub_a="sentence1",
            hub_b="sentence2",
        ),
    )
}

_ALIASES = {"sst-2": "sst2", "sts-b": "stsb", "mnli-m": "mnli", "mnli-mm": "mnli", "mnli_matched": "mnli"}


def resolve_tasks(tasks: str | list[str] | tuple[str, ...] | None) -> list[GlueTask]:
    """GlueTasks for names like "sst2,cola" (case-insensitive, SST-2 style allowed); None or "all" = all nine."""
    if tasks is None or tasks == "all":
        return list(TASKS.values())
    names = tasks.split(",") if isinstance(tasks, str) else list(tasks)
    out: list[GlueTask] = []
    for raw in names:
        key = raw.strip().lower()
        key = _ALIASES.get(key, key)
        if key not in TASKS:
            raise ValueError(f"Unknown GLUE task {raw!r}; the tasks are {', '.join(TASKS)}.")
        if TASKS[key] not in out:
            out.append(TASKS[key])
    return out


def row_name(task: GlueTask, split: str) -> str:
    """How a dev split appears in reports: "mnli-m" / "mnli-mm", otherwise the task name."""
    if task.name == "mnli":
        return "mnli-m" if split in ("matched", "validation_matched") else "mnli-mm"
    return task.name
