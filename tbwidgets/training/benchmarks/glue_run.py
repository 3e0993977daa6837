"""`glue()`: fine-tune the model with a head on each GLUE task, next to the majority and a baseline.

Per task: the model's tokenizer (the byte tokenizer when none is given; pairs joined by its end
token), a fresh copy of the model plus a head (see `head`), `fit` on the train split with the first
dev split for validation, then predictions on every dev split scored with the official metric. The
baseline (see `baseline`) gets the same tokenizer, data, config and steps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import Dataset

from tbwidgets.training.benchmarks import runs
from tbwidgets.training.benchmarks.events import BenchmarkFinished, BenchmarkStarted, RowReady
from tbwidgets.training.benchmarks.glue_data import GlueData, GlueSplit, load_task
from tbwidgets.training.benchmarks.glue_tasks import GlueTask, resolve_tasks, row_name
from tbwidgets.training.benchmarks.head import with_head
from tbwidgets.training.benchmarks.metrics import METRICS
from tbwidgets.training.benchmarks.report import BenchmarkReport, BenchmarkRow


class PairEncoder:
    """Text (pairs) → ids for the model: the HF tokenizer's own pair format, else bytes + end token."""

    def __init__(self, loaded: Any, tokenizer: Any, max_len: int) -> None:
        from tbwidgets.training.data.text import make_vocab

        self.tokenizer, self.max_len = tokenizer, max_len
        self.vocab = make_vocab(loaded.facts.vocab_size, tokenizer, loaded.facts.pad_token_id, specials=True)
        self.sep = self.vocab.eos_id if self.vocab.eos_id is not None else self.vocab.pad_id

    def __call__(self, a: str, b: str | None) -> list[int]:
        if self.tokenizer is not None and callable(self.tokenizer):
            ids = list(self.tokenizer(a, b, truncation=True, max_length=self.max_len)["input_ids"])
        else:
            ia, ib = self.vocab.encode(a), (self.vocab.encode(b) if b is not None else None)
            ids = _join(ia, ib, self.sep, self.max_len)
        return ids or [self.vocab.pad_id]


def _join(a: list[int], b: list[int] | None, sep: int, limit: int) -> list[int]:
    """a [SEP b], cutting the longer text first so both keep a share of `limit`."""
    if b is None:
        return a[:limit]
    a, b = list(a), list(b)
    while len(a) + len(b) + 1 > limit and (a or b):
        (a if len(a) >= len(b) else b).pop()
    return [*a, sep, *b]


class EncodedSplit(Dataset[dict[str, torch.Tensor]]):
    def __init__(self, split: GlueSplit, encode: PairEncoder, regression: bool) -> None:
        b: list[str | None] = list(split.text_b) if split.text_b else [None] * len(split)
        self.ids = [
            torch.tensor(encode(x, y), dtype=torch.long) for x, y in zip(split.text_a, b, strict=True)
        ]
        dtype = torch.float32 if regression else torch.long
        self.labels = [torch.tensor(y, dtype=dtype) for y in split.labels]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def loaders(data: GlueData, encode: PairEncoder, config: Any) -> tuple[Any, dict[str, Any]]:
    from tbwidgets.training.data import ResumableLoader
    from tbwidgets.training.data.sets import PadCollate

    collate, reg = PadCollate(encode.vocab.pad_id, with_mask=True), data.task.regression
    train = ResumableLoader(
        EncodedSplit(data.train, encode, reg),
        batch_size=config.batch_size,
        seed=config.random_seed,
        collate_fn=collate,
    )
    dev = {
        name: ResumableLoader(
            EncodedSplit(s, encode, reg),
            batch_size=config.batch_size,
            seed=0,
            shuffle=False,
            collate_fn=collate,
        )
        for name, s in data.dev.items()
    }
    return train, dev


@torch.no_grad()
def predict(module: torch.nn.Module, loader: Any, regression: bool) -> list[Any]:
    module.eval()
    device = next(module.parameters()).device
    out: list[Any] = []
    for batch in loader:
        mask = batch.get("attention_mask")
        y = module(batch["input_ids"].to(device), mask.to(device) if mask is not None else None)
        out.extend(y.float().cpu().tolist() if regression else y.argmax(-1).cpu().tolist())
    return out


def score(task: GlueTask, gold: list[Any], pred: list[Any]) -> dict[str, float]:
    return {m: METRICS[m](gold, pred) for m in task.metrics}


def majority(task: GlueTask, train: GlueSplit, n: int) -> list[Any]:
    if task.regression:
        return [sum(train.labels) / len(train.labels)] * n
    return [Counter(train.labels).most_common(1)[0][0]] * n


def glue(
    source: Any,
    tasks: Any = None,
    *,
    data_dir: Any = None,
    config: Any = None,
    on_event: Callable[[Any], None] | None = None,
    stop: Any = None,
    tokenizer: Any = None,
    baseline: bool = True,
    max_examples: int | None = None,
) -> BenchmarkReport:
    """GLUE for `source` (anything `load_model` takes): a BenchmarkReport with reference rows per task.

    tasks: names like "sst2,cola" or a list (None = all nine). data_dir: a folder in the official
    layout; None loads `nyu-mll/glue` through `datasets`. config: the TrainingConfig (budget) of both
    contenders. max_examples: cut each train split (quick runs). Stop ends after the current run.
    """
    from tbwidgets.training.benchmarks.baseline import build_baseline

    emit = on_event or (lambda e: None)
    cfg, loaded = runs.bench_config(config), runs.load(source)
    chosen = resolve_tasks(tasks)
    base = build_baseline(loaded, cfg.random_seed) if baseline else None
    report = BenchmarkReport("glue", meta=_meta(loaded, base, cfg, tokenizer))
    root = runs.run_root(cfg, "glue")
    emit(BenchmarkStarted("glue", tuple(t.name for t in chosen), dict(report.meta)))
    for task in chosen:
        if runs.stopped(stop):
            report.stopped = True
            break
        _task(task, loaded, base, cfg, data_dir, tokenizer, max_examples, report, emit, stop, root)
    report.stopped = report.stopped or runs.stopped(stop)
    emit(BenchmarkFinished(report))
    return report


def _meta(loaded: Any, base: Any, cfg: Any, tokenizer: Any) -> dict[str, Any]:
    from tbwidgets.loading.model import Task

    return {
        "model": loaded.name,
        "model_params": loaded.facts.n_params,
        "baseline_params": base.facts.n_params if base is not None else None,
        "tokenizer": type(tokenizer).__name__ if tokenizer is not None else "byte tokenizer",
        "pooling": "last token (causal)"
        if loaded.task == Task.CAUSAL_LM
        else "mean over tokens (bidirectional)",
        "steps": cfg.max_steps,
        "config": cfg.to_dict(),
    }


def _task(
    task: GlueTask,
    loaded: Any,
    base: Any,
    cfg: Any,
    data_dir: Any,
    tokenizer: Any,
    max_examples: Any,
    report: BenchmarkReport,
    emit: Any,
    stop: Any,
    root: Any,
) -> None:
    data = load_task(task, data_dir)
    data.train = data.train.head(max_examples)
    report.notes += data.notes
    encode = PairEncoder(loaded, tokenizer, min(cfg.seq_len or loaded.facts.max_len, loaded.facts.max_len))
    tcfg = cfg.replace(task="regression" if task.regression else "classification")
    train_dl, dev = loaders(data, encode, tcfg)
    val = next(iter(dev.values()))
    scores: dict[str, dict[str, dict[str, float]]] = {}
    steps = 0
    for name, contender in (("model", loaded), ("baseline", base)):
        if contender is None or runs.stopped(stop):
            continue
        headed = with_head(runs.fresh(contender), task.n_outputs)
        result = runs.train(
            headed,
            (train_dl, val),
            tcfg,
            task=task.name,
            name=name,
            emit=emit,
            stop=stop,
            out_dir=root / task.name / name,
        )
        steps = steps or result.steps
        scores[name] = {
            s: score(task, data.dev[s].labels, predict(headed.module, dl, task.regression))
            for s, dl in dev.items()
        }
    if "model" not in scores or runs.stopped(stop):
        return  # a task cut short by Stop gets no rows: half-trained numbers would mislead
    for split, split_data in data.dev.items():
        ref = score(task, split_data.labels, majority(task, data.train, len(split_data)))
        for metric in task.metrics:
            b = scores.get("baseline", {}).get(split, {}).get(metric)
            row = BenchmarkRow(
                row_name(task, split),
                metric,
                scores["model"][split][metric],
                ref[metric],
                b,
                steps,
                len(data.train),
                len(split_data),
            )
            report.rows.append(row)
            emit(RowReady(row))
