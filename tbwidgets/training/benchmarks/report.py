"""BenchmarkReport: one row per (task, metric) with the model, the majority reference and the baseline."""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("task", "metric", "model", "majority", "baseline", "steps")


@dataclass(frozen=True)
class BenchmarkRow:
    task: str  # "sst2", "mnli-m", "lm", ...
    metric: str  # "accuracy", "mcc", "f1", "pearson", "spearman", "perplexity"
    model: float  # the user's model
    majority: float  # majority class (mean for STS-B; unigram for LM): what guessing reaches
    baseline: float | None  # same-budget pre-LN Transformer (None when skipped)
    steps: int  # optimizer steps each model trained
    n_train: int = 0
    n_eval: int = 0


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if not math.isfinite(value) else f"{value:.4f}"
    return html.escape("–" if value is None else str(value))


@dataclass
class BenchmarkReport:
    """Rows plus what was compared: model and baseline sizes, tokenizer, pooling, config, notes."""

    kind: str  # "glue" or "lm"
    rows: list[BenchmarkRow] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    stopped: bool = False

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame([asdict(r) for r in self.rows], columns=[*COLUMNS, "n_train", "n_eval"])
        return frame

    def to_dict(self) -> dict[str, Any]:
        return _plain(
            {
                "kind": self.kind,
                "rows": [asdict(r) for r in self.rows],
                "meta": self.meta,
                "notes": self.notes,
                "stopped": self.stopped,
            }
        )

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML page: the table, what was compared, and the notes."""
        head = "".join(f"<th>{c}</th>" for c in COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(getattr(r, c))}</td>" for c in COLUMNS) + "</tr>" for r in self.rows
        )
        meta = "".join(
            f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
            for k, v in self.meta.items()
            if k != "config"
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        text = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>tbwidgets benchmark</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}th{border-bottom:1px solid #888}</style>"
            f"</head><body><h1>{html.escape(self.kind.upper())} benchmark</h1><table><tr>{head}</tr>{body}</table>"
            f"<ul>{meta}</ul><h2>Notes</h2><ul>{notes}</ul></body></html>"
        )
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def __repr__(self) -> str:
        return f"<BenchmarkReport {self.kind}: {len(self.rows)} rows{', stopped' if self.stopped else ''}>"
