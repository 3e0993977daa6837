"""Tier 2 wall time: the built-in example, and a GPT-2-small geometry model at 128 tokens (CPU, GPU if any).

Run: `python benchmarks/tier2.py [--skip-large]`. Targets (issue 4): built-in example on CPU ≤ 20 s;
on a GPU ≤ 5 s. Not a test: the GPT-2-small geometry run takes minutes on a small CPU.
"""

from __future__ import annotations

import argparse
import time

import torch

from tbwidgets.checks.tier2 import AttentionPatterns, AttributionCheck, Perturbation
from tbwidgets.core import Runner
from tbwidgets.loading import load_model
from tbwidgets.loading.examples.tiny_gpt import TinyGPT, TinyGPTConfig
from tbwidgets.loading.tokenizer import DEFAULT_TEXT

GPT2_SMALL = TinyGPTConfig(vocab_size=50257, max_seq_len=1024, d_model=768, n_heads=12, n_layers=12)
TOKENS = 128


def suite(max_tokens: int | None) -> list:
    """The Tier 2 checks; with `max_tokens`, every check reads that many tokens of a long text."""
    if max_tokens is None:
        return [AttentionPatterns(), AttributionCheck(), Perturbation()]
    return [AttentionPatterns(max_tokens=max_tokens), AttributionCheck(max_tokens=max_tokens),
            Perturbation(max_tokens=max_tokens)]  # fmt: skip


def timed_run(name: str, model: torch.nn.Module | None, device: str, max_tokens: int | None) -> float:
    loaded = load_model(model, device=device)
    text = (DEFAULT_TEXT + " ") * 4 if max_tokens else None
    checks = suite(max_tokens)
    for c in checks:
        c.text = text  # type: ignore[attr-defined]
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    report = Runner(loaded, checks, budget_scale=20.0).run()  # budgets off: we measure, not judge
    if device == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    parts = ", ".join(
        f"{r.check_id.split('.')[1]} {r.duration_s:.2f} s ({r.status.value})" for r in report.results
    )
    print(f"{name:<34} {device:<5} total {wall:7.2f} s  [{parts}]")
    ig = report["tier2.attribution"].metrics
    if ig:
        print(f"{'':<34} IG: {ig.get('n_steps', 0):.0f} steps, {ig.get('tries', 0):.0f} tries, "
              f"relative delta {ig.get('relative_delta', float('nan')):.2%}")  # fmt: skip
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-large", action="store_true", help="only the built-in example")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        timed_run("built-in example (default inputs)", None, device, None)
        if not args.skip_large:
            timed_run(f"GPT-2-small geometry, {TOKENS} tokens", TinyGPT(GPT2_SMALL), device, TOKENS)
    if "cuda" not in devices:
        print("GPU numbers were not measured: no CUDA device on this machine (target on a GPU: ≤ 5 s).")


if __name__ == "__main__":
    main()
