"""GLUE and LM benchmarks on fixtures: rows with majority and baseline, heads, baseline size, report, CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from tbwidgets.loading import load_model
from tbwidgets.loading.examples.tiny_gpt import TinyGPT, TinyGPTConfig
from tbwidgets.training.benchmarks import BenchmarkFinished, RowReady, glue, lm
from tbwidgets.training.benchmarks.baseline import build_baseline, parameter_count
from tbwidgets.training.benchmarks.head import pool, with_head
from tbwidgets.training.config import TrainingConfig

FIXTURES = Path(__file__).parents[1] / "fixtures" / "glue"


def _model(causal: bool = True) -> Any:
    torch.manual_seed(0)
    cfg = TinyGPTConfig(vocab_size=260, max_seq_len=64, d_model=16, n_heads=2, n_layers=1, dropout=0.0)
    return load_model(model=TinyGPT(cfg), task=None if causal else "masked-lm")


def _config(tmp_path: Path) -> TrainingConfig:
    return TrainingConfig(
        max_steps=3,
        batch_size=8,
        val_every_n_steps=3,
        checkpoint_every_n_steps=None,
        keep_best=0,
        checkpoint_dir=str(tmp_path),
        accelerator="cpu",
    )


def test_pooling_reads_the_last_real_token_or_the_mean() -> None:
    hidden = torch.arange(12, dtype=torch.float32).view(2, 3, 2)  # (B, T, D)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    assert pool(hidden, mask, causal=True).tolist() == [[2.0, 3.0], [10.0, 11.0]]
    assert pool(hidden, mask, causal=False).tolist() == [[1.0, 2.0], [8.0, 9.0]]


def test_head_uses_the_final_hidden_states() -> None:
    headed = with_head(_model(), 3)
    assert headed.module.projection is not None and headed.module.head.in_features == 16
    out = headed.adapter(torch.randint(0, 256, (4, 10)), None)
    assert out.shape == (4, 3) and "last token" in headed.task_reason
    assert with_head(_model(), 1).adapter(torch.randint(0, 256, (4, 10)), None).shape == (4,)  # regression


def test_baseline_has_the_same_parameter_count_and_task() -> None:
    loaded = load_model()  # the example: 2 layers, d 64, vocab 512
    base = build_baseline(loaded)
    assert abs(base.facts.n_params - loaded.facts.n_params) / loaded.facts.n_params < 0.03
    assert base.facts.n_params == parameter_count(512, 128, base.module.tok_emb.embedding_dim, 2)
    assert base.task == loaded.task and base.facts.vocab_size == 512 and base.facts.max_len == 128


def test_glue_rows_for_classification_regression_and_mnli(tmp_path: Path) -> None:
    events: list[Any] = []
    report = glue(
        _model(), "sst2,stsb,mnli,mrpc", data_dir=FIXTURES, config=_config(tmp_path), on_event=events.append
    )
    frame = report.to_frame()
    assert list(frame.columns[:6]) == ["task", "metric", "model", "majority", "baseline", "steps"]
    pairs = list(zip(frame["task"], frame["metric"], strict=True))
    assert pairs == [
        ("sst2", "accuracy"),
        ("stsb", "pearson"),
        ("stsb", "spearman"),
        ("mnli-m", "accuracy"),
        ("mnli-mm", "accuracy"),
        ("mrpc", "f1"),
        ("mrpc", "accuracy"),
    ]
    assert (frame["steps"] == 3).all() and frame["baseline"].notna().all()
    sst2 = frame.iloc[0]
    assert sst2["majority"] == 0.5 and 0 <= sst2["model"] <= 1  # the fixtures' dev set is balanced
    assert math.isnan(frame.iloc[1]["majority"])  # the mean predictor has no correlation
    assert len([e for e in events if isinstance(e, RowReady)]) == 7 and isinstance(
        events[-1], BenchmarkFinished
    )
    data = json.loads(report.to_json(tmp_path / "r.json"))
    assert data["meta"]["baseline_params"] and "NaN" not in (tmp_path / "r.json").read_text()
    assert "<table>" in report.to_html(tmp_path / "r.html") and "mnli-mm" in (tmp_path / "r.html").read_text()


def test_lm_benchmark_against_unigram_and_baseline(tmp_path: Path) -> None:
    texts = [f"the cat sat on the mat number {i} and then it slept" for i in range(30)]
    report = lm(_model(), texts, config=_config(tmp_path))
    frame = report.to_frame().set_index("metric")
    assert set(frame.index) == {"perplexity", "accuracy"}
    assert frame.loc["perplexity", "model"] > 1 and frame.loc["perplexity", "baseline"] > 1
    assert 1 < frame.loc["perplexity", "majority"] < 260  # unigram beats uniform over the vocabulary


@pytest.mark.slow
def test_cli_bench_glue_and_its_exit_codes(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tbwidgets", "bench", *args, "--example"],
            capture_output=True,
            text=True,
            timeout=600,
        )

    cfg = _config(tmp_path)
    cfg.save(tmp_path / "cfg.json")
    ok = run(
        "glue",
        "--data-dir",
        str(FIXTURES),
        "--tasks",
        "sst2,cola",
        "--config",
        str(tmp_path / "cfg.json"),
        "--json",
        str(tmp_path / "g.json"),
    )
    assert ok.returncode == 0, ok.stderr
    assert (
        "cola" in ok.stdout and "mcc" in ok.stdout and json.loads((tmp_path / "g.json").read_text())["rows"]
    )
    bad = run("glue", "--data-dir", str(tmp_path / "nowhere"), "--tasks", "sst2")
    assert bad.returncode == 2 and "official GLUE layout" in bad.stderr
    assert run("glue", "--tasks", "sst3", "--data-dir", str(FIXTURES)).returncode == 2
    (tmp_path / "text.txt").write_text("\n".join(f"line {i}: the cat sat on the mat" for i in range(40)))
    lm_run = run("lm", "--data", str(tmp_path / "text.txt"), "--config", str(tmp_path / "cfg.json"))
    assert lm_run.returncode == 0, lm_run.stderr
    assert "perplexity" in lm_run.stdout and "lm accuracy: model" in lm_run.stderr


def test_compat_benchmark_comparison_on_held_out_text() -> None:
    from tbwidgets.compat import test_benchmark_comparison as benchmark_comparison

    out = benchmark_comparison(_model(), None, n_samples=4)
    assert set(out) >= {"parameter_count", "inference_speed_ms", "perplexity", "baseline_model"}
    counts = out["parameter_count"]
    assert counts["custom"] == 8496 and abs(counts["ratio"] - 1) < 0.05
    assert (
        1 < out["perplexity"]["custom"] < 1e4 and 1 < out["perplexity"]["baseline"] < 1e4
    )  # untrained ≈ vocab
    assert out["inference_speed_ms"]["custom"] > 0 and "pre-LN" in out["baseline_model"]
    other = TinyGPT(TinyGPTConfig(vocab_size=300, max_seq_len=64, d_model=16, n_heads=2, n_layers=1))
    with pytest.raises(ValueError, match="one tokenizer"):
        benchmark_comparison(_model(), None, baseline=other)


def test_stop_ends_the_benchmark_without_half_trained_rows(tmp_path: Path) -> None:
    import threading

    from tbwidgets.training.benchmarks import RunStarted

    stop = threading.Event()
    seen: list[Any] = []

    def listener(event: Any) -> None:
        seen.append(event)
        if isinstance(event, RunStarted) and event.model == "baseline":
            stop.set()  # while the first task's baseline trains

    report = glue(
        _model(), "sst2,cola", data_dir=FIXTURES, config=_config(tmp_path), on_event=listener, stop=stop
    )
    assert report.stopped and report.rows == []
    assert [(e.task, e.model) for e in seen if isinstance(e, RunStarted)] == [
        ("sst2", "model"),
        ("sst2", "baseline"),
    ]
