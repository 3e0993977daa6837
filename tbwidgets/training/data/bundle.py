"""TrainingData: the loaders of a run plus what they are and what a healthy model reaches on them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("causal-lm", "masked-lm", "classification", "regression")


@dataclass
class TrainingData:
    """Train/validation loaders and their facts. Batches are dicts of tensors:

    - `input_ids` (B, T) long; `attention_mask` (B, T) long, absent when nothing is padded;
    - `labels`: causal-lm (B, T) aligned with `input_ids` (the module compares logits[:, :-1] with
      labels[:, 1:]); masked-lm (B, T) set at masked positions only; classification (B,) long class ids;
      regression (B,) float32 targets.
      -100 marks positions without loss (padding, the question part of synthetic tasks), so token
      accuracy over labels != -100 is answer accuracy.
    """

    kind: str  # "causal-lm" | "masked-lm" | "classification" | "regression": which loss
    train: Iterable[dict[str, Any]]
    val: Iterable[dict[str, Any]] | None
    description: str  # what the data is, one or two sentences
    expected: str  # what a healthy model reaches on it ("" when unknown, e.g. user loaders)
    seq_len: int  # longest sequence in a batch
    vocab_size: int
    n_train: int  # examples (blocks, sequences or texts) in the training split
    n_val: int
    pad_token_id: int | None
    task: str = "custom"  # the synthetic task's name, "text", or "custom" for loaders passed through
    chance_accuracy: float | None = None  # answer accuracy of guessing; a chance line for the curves
    tokenizer: str = ""  # "byte tokenizer", the tokenizer's class, or "" for token ids given directly
    resumable: bool = True  # False when the loaders cannot restore a mid-epoch position
    notes: list[str] = field(default_factory=list)  # things the user should know (truncation, splits)
    render: Callable[[Sequence[int]], str] | None = field(default=None, repr=False)  # ids -> readable text

    def preview(self, n: int = 3, width: int = 120) -> list[str]:
        """The first `n` training examples as text ("question → answer" where only the answer is scored)."""
        dataset = getattr(self.train, "dataset", None)
        if self.render is None or dataset is None:
            return []
        return [_show(dataset[i], self.render, width) for i in range(min(n, len(dataset)))]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}.")

    def summary(self) -> dict[str, Any]:
        """Plain data for reports, events and the widget (no loaders)."""
        return {
            "kind": self.kind,
            "task": self.task,
            "description": self.description,
            "expected": self.expected,
            "seq_len": self.seq_len,
            "vocab_size": self.vocab_size,
            "n_train": self.n_train,
            "n_val": self.n_val,
            "pad_token_id": self.pad_token_id,
            "chance_accuracy": self.chance_accuracy,
            "tokenizer": self.tokenizer,
            "resumable": self.resumable,
            "notes": list(self.notes),
            "preview": self.preview(),
        }


def _show(item: dict[str, Any], render: Callable[[Sequence[int]], str], width: int) -> str:
    ids, labels = item["input_ids"].tolist(), item["labels"]
    if labels.dim() == 0:  # classification / regression
        text = f"{render(ids)}  → {labels.item():g}"
    else:
        scored = [i for i, y in enumerate(labels.tolist()) if y != -100]
        if scored and len(scored) < len(ids) and scored == list(range(scored[0], len(ids))):
            answer = [int(labels[i]) for i in scored]  # a task: only the tail is scored
            text = f"{render(ids[: scored[0]])}  → {render(answer)}"
        else:
            text = render(ids)
    return text if len(text) <= width else text[: width - 1] + "…"
