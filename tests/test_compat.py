"""tbwidgets.compat keeps the reference's Tier 1 names and return shapes, with honest verdicts."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import torch

from tbwidgets import compat
from tbwidgets.loading.examples.tiny_gpt import build_example
from tests.checks.tier1.zoo import ZooLM

CONFIG = SimpleNamespace(vocab_size=512, max_seq_len=128, max_batch_size=4)


def test_compat_functions_are_not_collected_by_pytest() -> None:
    for name in compat.__all__:
        assert getattr(compat, name).__test__ is False


def test_shape_robustness_frame() -> None:
    df = compat.test_shape_robustness(build_example(), CONFIG)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns[:4]) == ["case", "input_shape", "output_shape", "status"]
    assert (df["status"] == "pass").all()
    assert (4, 32) in set(df["input_shape"])  # max_batch_size from the config


def test_gradient_flow_dict() -> None:
    out = compat.test_gradient_flow(build_example(), CONFIG)
    assert set(out) >= {"max_gradient", "min_gradient", "has_vanishing_gradients", "has_exploding_gradients"}
    assert (
        out["status"] == "pass" and not out["has_vanishing_gradients"] and not out["has_exploding_gradients"]
    )
    assert 0 < out["min_gradient"] <= out["max_gradient"]


def test_output_stability_dict() -> None:
    out = compat.test_output_stability(build_example(), {"vocab_size": 512, "max_seq_len": 128}, n_samples=4)
    assert set(out) >= {"mean", "std", "min", "max", "has_nan", "has_inf", "dynamic_range"}
    assert out["has_nan"] is False and out["dynamic_range"] > 0


def test_parameter_initialization_does_not_flag_pytorch_defaults() -> None:
    df = compat.test_parameter_initialization(build_example())
    assert list(df.columns[:7]) == ["parameter", "kind", "shape", "mean", "std", "min", "max"]
    assert (df["status"] == "pass").all()  # LayerNorm ones and zero biases are normal
    torch.manual_seed(0)
    broken = compat.test_parameter_initialization(ZooLM(zero_weight=True))
    stuck = ["blocks.0.mlp.0.weight", "blocks.0.mlp.2.weight"]  # two zeroed layers block each other
    assert broken.loc[broken["status"] == "fail", "parameter"].tolist() == stuck


def test_memory_footprint_is_not_zero_on_cpu() -> None:
    df = compat.test_memory_footprint(build_example(), CONFIG)
    assert {"batch_size", "memory_mb", "per_sample_mb", "status"} <= set(df.columns)
    assert (df["memory_mb"] > 0).all()


def test_inference_speed_dict() -> None:
    out = compat.test_inference_speed(build_example(), CONFIG, n_trials=5)
    assert set(out) == {"mean_ms", "std_ms", "median_ms", "p95_ms", "p99_ms", "throughput_samples_per_sec"}
    assert 0 < out["median_ms"] <= out["p99_ms"] and out["throughput_samples_per_sec"] > 0


def test_padding_invariance_frame() -> None:
    from tests.checks.tier1.zoo import MaskedEncoder

    torch.manual_seed(0)
    df = compat.test_padding_invariance(MaskedEncoder(), {"task": "masked-lm"})
    assert list(df.columns) == ["padding", "pad_id", "pads", "max_abs_move", "status"]
    assert (df["status"] == "pass").all() and len(df) >= 4
    broken = compat.test_padding_invariance(MaskedEncoder(pad_use="ignore"), {"task": "masked-lm"})
    assert (broken["status"] == "fail").any()
    assert compat.test_padding_invariance(ZooLM()).empty  # no mask argument: skipped


def test_run_all_returns_a_report() -> None:
    report = compat.run_all_tier1_tests(build_example(), CONFIG)
    assert len(report.results) == 12 and report.ok
