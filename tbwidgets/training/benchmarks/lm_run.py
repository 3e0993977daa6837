"""`lm()`: language modelling on held-out text, the model against a unigram model and the baseline.

Both contenders train on the same TrainingData (built once from the model's tokenizer) for the same
steps; the scores are the validation split's perplexity and next-token accuracy (masked-token for
bidirectional models) after the last step. The reference row is the unigram model of the training
tokens (add-one smoothed): its perplexity and the accuracy of always guessing the commonest token.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

from tbwidgets.training.benchmarks import runs
from tbwidgets.training.benchmarks.events import BenchmarkFinished, BenchmarkStarted, RowReady
from tbwidgets.training.benchmarks.report import BenchmarkReport, BenchmarkRow
from tbwidgets.training.losses import IGNORE_INDEX


def _targets(loader: Any, causal: bool) -> list[int]:
    out: list[int] = []
    for batch in loader:
        labels = batch["labels"][:, 1:] if causal else batch["labels"]
        out.extend(int(t) for t in labels.flatten().tolist() if t != IGNORE_INDEX)
    return out


def unigram(train: Any, val: Any, vocab_size: int, causal: bool) -> dict[str, float]:
    """Perplexity and accuracy of the add-one unigram model of the training targets."""
    counts = Counter(_targets(train, causal))
    total = sum(counts.values()) + vocab_size
    held = _targets(val, causal)
    if not held:
        return {"perplexity": math.nan, "accuracy": math.nan}
    nll = -sum(math.log((counts.get(t, 0) + 1) / total) for t in held) / len(held)
    top = counts.most_common(1)[0][0] if counts else 0
    return {"perplexity": math.exp(nll), "accuracy": sum(t == top for t in held) / len(held)}


def lm(
    source: Any,
    data: Any,
    *,
    config: Any = None,
    on_event: Callable[[Any], None] | None = None,
    stop: Any = None,
    tokenizer: Any = None,
    baseline: bool = True,
) -> BenchmarkReport:
    """Held-out perplexity and accuracy of `source` trained on `data` (text as `fit` takes it)."""
    from tbwidgets.loading.model import Task
    from tbwidgets.training.benchmarks.baseline import build_baseline
    from tbwidgets.training.data import make_data

    emit = on_event or (lambda e: None)
    cfg, loaded = runs.bench_config(config), runs.load(source)
    tdata = make_data(data, loaded, cfg, tokenizer=tokenizer)
    if tdata.val is None:
        raise ValueError("The LM benchmark needs held-out text: set validation_split > 0 or give more text.")
    base = build_baseline(loaded, cfg.random_seed) if baseline else None
    meta = {
        "model": loaded.name,
        "model_params": loaded.facts.n_params,
        "baseline_params": base.facts.n_params if base is not None else None,
        "tokenizer": tdata.tokenizer or "token ids",
        "data": tdata.description,
        "steps": cfg.max_steps,
        "config": cfg.to_dict(),
    }
    report = BenchmarkReport("lm", meta=meta, notes=list(tdata.notes))
    emit(BenchmarkStarted("lm", ("lm",), dict(meta)))
    root = runs.run_root(cfg, "lm")
    finals: dict[str, dict[str, float]] = {}
    steps = 0
    for name, contender in (("model", loaded), ("baseline", base)):
        if contender is None or runs.stopped(stop):
            continue
        result = runs.train(
            runs.fresh(contender), tdata, cfg, task="lm", name=name, emit=emit, stop=stop, out_dir=root / name
        )
        steps = steps or result.steps
        finals[name] = result.final
    ref = unigram(tdata.train, tdata.val, tdata.vocab_size, loaded.task == Task.CAUSAL_LM)
    if "model" in finals and not runs.stopped(stop):  # no rows from a run cut short by Stop
        for metric, key in (("perplexity", "val_perplexity"), ("accuracy", "val_accuracy")):
            b = finals["baseline"].get(key) if "baseline" in finals else None
            row = BenchmarkRow(
                "lm",
                metric,
                float(finals["model"].get(key, math.nan)),
                ref[metric],
                b,
                steps,
                tdata.n_train,
                tdata.n_val,
            )
            report.rows.append(row)
            emit(RowReady(row))
    report.stopped = runs.stopped(stop)
    emit(BenchmarkFinished(report))
    return report
