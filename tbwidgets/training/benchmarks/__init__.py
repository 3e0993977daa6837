"""Benchmarks: GLUE (all nine tasks, official metrics) and held-out language modelling.

Every result row stands next to two references: the majority class (the mean for STS-B, a unigram
model for LM), and a same-budget baseline: a standard pre-LN Transformer with the same parameter
count, tokenizer, data and optimizer steps, so a number says whether the architecture helps.
"""

from __future__ import annotations

from tbwidgets.training.benchmarks.events import (
    BenchmarkEvent,
    BenchmarkFinished,
    BenchmarkStarted,
    BenchmarkTrainingEvent,
    RowReady,
    RunStarted,
)
from tbwidgets.training.benchmarks.glue_run import glue
from tbwidgets.training.benchmarks.lm_run import lm
from tbwidgets.training.benchmarks.report import BenchmarkReport, BenchmarkRow

__all__ = [
    "BenchmarkEvent",
    "BenchmarkFinished",
    "BenchmarkReport",
    "BenchmarkRow",
    "BenchmarkStarted",
    "BenchmarkTrainingEvent",
    "RowReady",
    "RunStarted",
    "glue",
    "lm",
]
