"""Training overhead: `fit` against a hand-written PyTorch loop, side by side in one process.

Both sides train the same model from the same weights on the same pre-made batches with the same
AdamW groups, warmup + cosine schedule and gradient clipping. Speeds come from per-step durations
(step end to step end, after warm-up steps), median over steps and repetitions, with the variants
interleaved and their order rotated each repetition, so load bursts from other processes hit all of
them alike. Targets (issue 11): fit ≥ 0.95× the raw loop on a d_model 256, 4-layer model at batch
16 × 128 tokens; fit with a listener recording every step ≥ 0.98× fit without; and the fixed
per-step overhead in ms on a micro model where compute is about zero.

    python benchmarks/training_overhead.py [--steps 30] [--warmup 5] [--reps 3] [--threads 1]
        [--accelerator cpu|cuda] [--precision 32|bf16-mixed] [--compile]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch

from tbwidgets.loading import load_model
from tbwidgets.loading.examples.tiny_gpt import TinyGPT, TinyGPTConfig
from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.fit import fit
from tbwidgets.training.losses import causal_lm_stats
from tbwidgets.training.module import lr_lambda, parameter_groups

SIZES = {  # name: (model config, batch, length)
    "big": (dict(vocab_size=512, max_seq_len=128, d_model=256, n_heads=4, n_layers=4, dropout=0.0), 16, 128),
    "micro": (dict(vocab_size=32, max_seq_len=8, d_model=16, n_heads=2, n_layers=1, dropout=0.0), 16, 8),
}


def batches(n: int, batch: int, length: int, vocab: int) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        ids = torch.randint(0, vocab, (batch, length), generator=g)
        out.append({"input_ids": ids, "labels": ids})
    return out


def raw_loop(
    model: torch.nn.Module, data: list[dict[str, torch.Tensor]], args: argparse.Namespace
) -> list[float]:
    """The hand-written loop fit must match: per-step durations in seconds."""
    device = torch.device("cuda" if args.accelerator == "cuda" else "cpu")
    model = model.to(device).train()
    fused = device.type == "cuda" or None
    opt = torch.optim.AdamW(parameter_groups(model, 0.1), lr=3e-4, fused=fused)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(len(data) // 10, len(data)))
    forward: Callable[..., torch.Tensor] = torch.compile(model) if args.compile else model
    dtype = torch.bfloat16 if args.precision == "bf16-mixed" else None
    times, t_last = [], time.perf_counter()
    for batch in data:
        ids, labels = batch["input_ids"].to(device), batch["labels"].to(device)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = causal_lm_stats(forward(ids), labels)[0]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        float(loss.detach())  # what fit's metrics cost too: one sync a step
        now = time.perf_counter()
        times.append(now - t_last)
        t_last = now
    return times


def fit_loop(model: torch.nn.Module, data: list[Any], args: argparse.Namespace, listen: bool) -> list[float]:
    seen: list[Any] = []
    loader = torch.utils.data.DataLoader(data, batch_size=None)  # pre-made batches: batch_size=1 below
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainingConfig(
            max_steps=len(data), batch_size=1, learning_rate=3e-4, weight_decay=0.1, warmup_ratio=0.1, max_grad_norm=1.0,
            val_every_n_steps=None, checkpoint_every_n_steps=None, keep_best=0, checkpoint_dir=tmp,
            accelerator=args.accelerator, precision=args.precision, compile=args.compile,
        )  # fmt: skip
        result = fit(
            load_model(model=model),
            (loader, None),
            cfg,
            on_event=seen.append if listen else None,
            out_dir=tmp,
        )
    if listen:
        assert len(seen) >= len(data)
    return list(result.history.step_time_s)


def measure(size: str, args: argparse.Namespace) -> dict[str, float]:
    cfg, batch, length = SIZES[size]
    torch.manual_seed(0)
    base = TinyGPT(TinyGPTConfig(**cfg))  # type: ignore[arg-type]
    data = batches(args.warmup + args.steps, batch, length, cfg["vocab_size"])  # type: ignore[arg-type]
    variants: dict[str, Callable[[], list[float]]] = {
        "raw": lambda: raw_loop(copy.deepcopy(base), data, args),
        "fit": lambda: fit_loop(copy.deepcopy(base), data, args, listen=False),
        "fit+listener": lambda: fit_loop(copy.deepcopy(base), data, args, listen=True),
    }
    pooled: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for rep in range(args.reps):
        for name in names[rep % 3 :] + names[: rep % 3]:  # rotate the order each repetition
            pooled[name].extend(variants[name]()[args.warmup :])
    tokens = batch * length
    return {name: statistics.median(times) for name, times in pooled.items()} | {"tokens": tokens}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--accelerator", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--precision", default="32", choices=["32", "bf16-mixed"])
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.accelerator}, precision {args.precision}, "
          f"compile {args.compile}; {args.steps} timed steps after {args.warmup}, {args.reps} reps, rotated")  # fmt: skip
    big = measure("big", args)
    tok = big["tokens"]
    print("\nd_model 256, 4 layers, batch 16 x 128 (median step, tokens/s, ratio):")
    for name in ("raw", "fit", "fit+listener"):
        print(
            f"  {name:<13} {big[name] * 1e3:8.1f} ms  {tok / big[name]:10,.0f} tok/s  {big['raw'] / big[name]:6.3f}x raw"
        )
    print(f"  fit / raw                 = {big['raw'] / big['fit']:.3f}   (target >= 0.95)")
    print(f"  fit+listener / fit        = {big['fit'] / big['fit+listener']:.3f}   (target >= 0.98)")
    micro = measure("micro", args)
    print("\nmicro model (d16, 1 layer, batch 16 x 8): fixed per-step overhead")
    for name in ("raw", "fit", "fit+listener"):
        print(f"  {name:<13} {micro[name] * 1e3:8.2f} ms/step")
    print(f"  fit - raw          = {(micro['fit'] - micro['raw']) * 1e3:+.2f} ms/step")
    print(f"  fit+listener - fit = {(micro['fit+listener'] - micro['fit']) * 1e3:+.2f} ms/step")


if __name__ == "__main__":
    main()
