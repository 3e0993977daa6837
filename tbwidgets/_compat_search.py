"""Reference-named Tier 3 functions for search and benchmarks (re-exported by `tbwidgets.compat`).

`test_hyperparameter_search` runs `tbwidgets.training.search` (pruned, stored, every trial a fresh
model, warmup actually used) and returns the reference's keys. `test_benchmark_comparison` compares
the model with a baseline on held-out text through one tokenizer (the reference fed random tokens
to distilgpt2 and reshaped logits to the wrong vocabulary); untrained models are compared as given.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

_ALIASES = {"lr": "learning_rate", "wd": "weight_decay", "warmup": "warmup_ratio"}
_LOG = {"learning_rate", "weight_decay"}

SAMPLE_TEXT = (
    "The model reads a sentence one token at a time and guesses the next one. A good guess needs the "
    "words that came before, the grammar of the language and some knowledge of the world. Small models "
    "learn the frequent words first, then short phrases, then longer patterns. Held-out text tells us "
    "whether the model learned the language or only memorised its training set. "
)


def _space(search_space: Mapping[str, Any] | None) -> Any:
    if search_space is None:
        return None
    out: dict[str, Any] = {}
    for key, rule in search_space.items():
        name = _ALIASES.get(key, key)
        if isinstance(rule, tuple) and len(rule) == 2 and all(isinstance(v, (int, float)) for v in rule):
            rule = {
                "low": rule[0],
                "high": rule[1],
                "log": name in _LOG,
            }  # (low, high) as the reference wrote it
        out[name] = rule
    return out


def test_hyperparameter_search(
    model_factory: Callable[..., Any],
    config: Any = None,
    train_data: Any = None,
    n_trials: int = 10,
    search_space: Mapping[str, Any] | None = None,
    random_seed: int = 42,
    deterministic: bool = False,
) -> dict[str, Any]:
    """Optuna search over `model_factory()` models; {best_params, best_value, n_trials, all_trials}.

    `config` may be a TrainingConfig (the budget of each trial); a model config is ignored. Data:
    `train_data` as `fit` takes it, or the `copy` task. Keys lr/wd/warmup map to learning_rate,
    weight_decay and warmup_ratio. The value is the validation loss (the reference used the mean
    training loss). `search_result` holds the full SearchResult.
    """
    from tbwidgets.training.config import TrainingConfig
    from tbwidgets.training.hpo import search

    base = (
        config if isinstance(config, TrainingConfig) else TrainingConfig(max_steps=200, val_every_n_steps=20)
    )
    cfg = base.replace(random_seed=random_seed, deterministic=deterministic)
    result = search(
        model_factory,
        train_data if train_data is not None else "copy",
        _space(search_space),
        n_trials=n_trials,
        config=cfg,
    )
    rows = result.trials
    trials = [
        {
            "number": int(r.number),
            "value": None if r.value is None or math.isnan(r.value) else float(r.value),
            "params": dict(r.params),
            "state": r.state,
        }
        for r in rows.itertuples()
    ]
    return {
        "best_params": result.best_params,
        "best_value": result.best_value,
        "n_trials": len(trials),
        "all_trials": trials,
        "search_result": result,
    }


def _blocks(loaded: Any, texts: Any, n_samples: int) -> list[dict[str, torch.Tensor]]:
    from tbwidgets.training.config import TrainingConfig
    from tbwidgets.training.data import make_data

    data = make_data(texts, loaded, TrainingConfig(validation_split=0.0, batch_size=1))
    return [b for _, b in zip(range(n_samples), data.train, strict=False)]


@torch.no_grad()
def _measure(loaded: Any, batches: list[dict[str, torch.Tensor]]) -> tuple[float, float]:
    """(perplexity, mean ms per sample) of `loaded` on the batches, in eval mode."""
    from tbwidgets.training.losses import batch_stats, perplexity

    module = loaded.module.eval()
    kind = loaded.task.value
    for b in batches[:2]:
        loaded.adapter(b["input_ids"], b.get("attention_mask"))  # warm-up
    total, count, seconds = 0.0, 0.0, 0.0
    for b in batches:
        t0 = time.perf_counter()
        logits = loaded.adapter(b["input_ids"], b.get("attention_mask"))
        seconds += time.perf_counter() - t0
        s = batch_stats(kind, logits, b)
        total += float(s.loss) * float(s.n_targets)
        count += float(s.n_targets)
    del module
    return perplexity(total / count) if count else math.nan, 1000 * seconds / max(1, len(batches))


def test_benchmark_comparison(
    model: Any, config: Any = None, baseline: Any = "same-budget", test_data: Any = None, n_samples: int = 20
) -> dict[str, Any]:
    """Parameters, latency and held-out perplexity of `model` against a baseline, one tokenizer for both.

    baseline: "same-budget" (a pre-LN Transformer with the same parameter count, vocabulary and length),
    or a model of the same vocabulary. test_data: texts (default: a short built-in paragraph).
    """
    from tbwidgets.loading import load_model
    from tbwidgets.training.benchmarks.baseline import build_baseline

    loaded = load_model(model)
    other = (
        build_baseline(loaded) if isinstance(baseline, str) else load_model(baseline, task=loaded.task.value)
    )
    if other.facts.vocab_size != loaded.facts.vocab_size:
        raise ValueError(
            f"The baseline's vocabulary ({other.facts.vocab_size}) differs from the model's ({loaded.facts.vocab_size}): "
            "perplexities are only comparable through one tokenizer. Use baseline='same-budget'."
        )
    texts = list(test_data) if test_data is not None else [SAMPLE_TEXT * 8]
    batches = _blocks(loaded, texts, n_samples)
    ppl, ms = _measure(loaded, batches)
    ppl_b, ms_b = _measure(other, batches)
    p, pb = loaded.facts.n_params, other.facts.n_params
    return {
        "parameter_count": {"custom": p, "baseline": pb, "ratio": p / pb},
        "inference_speed_ms": {"custom": ms, "baseline": ms_b, "speedup": ms_b / ms if ms else math.nan},
        "perplexity": {"custom": ppl, "baseline": ppl_b, "ratio": ppl / ppl_b if ppl_b else math.nan},
        "baseline_model": other.name
        if not isinstance(baseline, str)
        else f"same-budget pre-LN Transformer ({pb:,} parameters)",
        "n_samples": len(batches),
    }


for _fn in (test_hyperparameter_search, test_benchmark_comparison):
    _fn.__test__ = False  # type: ignore[union-attr]  # pytest must not collect these as tests
