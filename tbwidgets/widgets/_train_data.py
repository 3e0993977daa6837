"""The Train view's data picker: a synthetic task, a text file or folder, an upload, or a `datasets` name.

Synthetic tasks come first because they prove learning offline: each states what a healthy model
reaches, so a flat curve on `copy` means the model is broken, not the data. `datasets` is offered
only when it is installed. The tokenizer given to the widget is used for text; without one, the
byte tokenizer Tier 2 uses.
"""

from __future__ import annotations

import html
import importlib.util
import tempfile
from pathlib import Path
from typing import Any

import ipywidgets

FALLBACK_TASKS = ("copy", "reverse", "sort", "modular_addition", "random")
KINDS = {
    "task": "Synthetic task",
    "file": "Text file or folder",
    "upload": "Upload a text file",
    "dataset": "Hugging Face dataset",
}


def task_catalog(vocab_size: int | None = None, usable_len: int | None = None) -> dict[str, str]:
    """{task name: what a healthy model reaches on it}; sizes follow the model when they are known."""
    try:
        from tbwidgets.training.data import synthetic
    except Exception:  # noqa: BLE001 - the training extra may be missing; Train then says so
        return dict.fromkeys(FALLBACK_TASKS, "")
    out = {}
    for task in (*synthetic.TASKS,):
        try:
            k = synthetic.task_sizes(task, vocab_size or 10**6, usable_len or 64)[0]
            out[task] = synthetic.expected_text(task, k)
        except ValueError as exc:  # too small a model for this task: say why instead of hiding it
            out[task] = str(exc)
    return out


class DataPicker:
    """`data()` returns (what `fit` takes as `data`, a one-line description) or raises ValueError."""

    def __init__(self, tokenizer: Any = None, upload_dir: str | None = None) -> None:
        self.tasks = task_catalog()  # sized for a large vocabulary until a model is known
        kinds = dict(KINDS)
        if importlib.util.find_spec("datasets") is None:
            kinds.pop("dataset")  # not installed: no control that cannot work
        self.kind = ipywidgets.Dropdown(
            options=[(v, k) for k, v in kinds.items()], value="task", layout=_w("200px")
        )
        self.task = ipywidgets.Dropdown(
            options=list(self.tasks), value=next(iter(self.tasks)), layout=_w("200px")
        )
        self.expected = ipywidgets.HTML("")
        self.path = ipywidgets.Text(
            placeholder="path/to/file.txt or a folder of .txt files", layout=_w("360px")
        )
        self.upload = ipywidgets.FileUpload(
            accept=".txt,.md,.csv,.jsonl", multiple=False, description="Choose file"
        )
        self.dataset = ipywidgets.Text(placeholder="e.g. wikitext (needs internet)", layout=_w("360px"))
        self.tokenizer_note = ipywidgets.HTML(_tokenizer_text(tokenizer))
        self._upload_dir = upload_dir
        self._parts = {
            "task": self.task,
            "file": self.path,
            "upload": self.upload,
            "dataset": self.dataset,
        }
        label = ipywidgets.Label("data", layout=_w("190px"))
        # the yardstick gets its own full-width line: squeezed beside the dropdowns it wrapped into a column
        self.expected.layout = ipywidgets.Layout(margin="0 0 0 194px")
        self.tokenizer_note.layout = ipywidgets.Layout(margin="0 0 0 194px")
        row = ipywidgets.HBox([label, self.kind, *self._parts.values()])
        self.box = ipywidgets.VBox([row, self.expected, self.tokenizer_note])
        self.kind.observe(lambda _c: self._show(), names="value")
        self.task.observe(lambda _c: self._describe_task(), names="value")
        self._show()
        self._describe_task()

    def set_tokenizer(self, tokenizer: Any) -> None:
        self.tokenizer_note.value = _tokenizer_text(tokenizer)

    def set_model(self, vocab_size: int | None, usable_len: int | None) -> None:
        """Restate each task's yardstick for this model's vocabulary (chance level depends on it)."""
        self.tasks = task_catalog(vocab_size, usable_len)
        self._describe_task()

    def _show(self) -> None:
        for kind, part in self._parts.items():
            part.layout.display = "" if kind == self.kind.value else "none"
        self.expected.layout.display = "" if self.kind.value == "task" else "none"

    def _describe_task(self) -> None:
        text = self.tasks.get(self.task.value, "")
        self.expected.value = f"<span style='color:#666'>{html.escape(text)}</span>" if text else ""

    def select(self, data: Any) -> None:
        """Show what `.train(data=...)` was given: a task name selects it; a path fills the path box."""
        if isinstance(data, str) and data in self.tasks:
            self.kind.value, self.task.value = "task", data
        elif isinstance(data, (str, Path)) and Path(data).exists():
            self.kind.value, self.path.value = "file", str(data)

    def data(self) -> tuple[Any, str]:
        kind = self.kind.value
        if kind == "task":
            return self.task.value, f"synthetic task {self.task.value}"
        if kind == "file":
            path = Path(self.path.value.strip()).expanduser()
            if not self.path.value.strip():
                raise ValueError(
                    "No file given: type the path of a text file or folder, or pick a synthetic task."
                )
            if not path.exists():
                raise ValueError(
                    f"{path} does not exist: check the path (it is relative to the notebook's folder)."
                )
            return str(path), f"text from {path.name}"
        if kind == "upload":
            name, content = _uploaded(self.upload.value)
            if content is None:
                raise ValueError("No file uploaded yet: press 'Choose file' first.")
            folder = Path(self._upload_dir or tempfile.mkdtemp(prefix="tbwidgets-upload-"))
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / Path(name).name
            target.write_bytes(content)
            return str(target), f"uploaded {target.name}"
        name = self.dataset.value.strip()
        if not name:
            raise ValueError("No dataset name given: type one (e.g. wikitext) or pick a synthetic task.")
        return name, f"dataset {name}"


def _uploaded(value: Any) -> tuple[str, bytes | None]:
    # ipywidgets 8: a tuple of {name, content: memoryview}; ipywidgets 7 (Colab): {name: {content: bytes}}
    if isinstance(value, dict):
        items = [{"name": k, **v} for k, v in value.items()]
    else:
        items = list(value or ())
    if not items:
        return "", None
    item = items[-1]
    return str(item.get("name", "upload.txt")), bytes(item.get("content", b""))


def _tokenizer_text(tokenizer: Any) -> str:
    if tokenizer is None:
        what = "the byte tokenizer (no tokenizer was given to the widget)"
    else:
        what = f"the widget's tokenizer ({html.escape(type(tokenizer).__name__)})"
    return f"<span style='color:#666'>Text is tokenized with {what}; synthetic tasks use the model's vocabulary.</span>"


def _w(width: str) -> Any:
    return ipywidgets.Layout(
        width=width, flex="0 0 auto"
    )  # fixed: the task's long yardstick text wraps instead
