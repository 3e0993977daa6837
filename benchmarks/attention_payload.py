"""Bytes the AttentionExplorer sends, next to bertviz's `model_view`, for 12 × 12 heads.

For T in {128, 512, 1024} (synthetic softmax maps with planted patterns, GPT-2-small geometry) it
prints: the explorer's initial state (JSON + binary buffers, as ipywidgets serialises it), one
full-resolution head message, the map memory the explorer holds, and bertviz's
`model_view(..., html_action="return")` HTML size on the same maps with the ratio. bertviz writes
every weight as JSON text, so it is only run up to `--bertviz-max` tokens (default 128; 512 needs
~2 GB and a minute); larger lengths say "skipped". Without bertviz installed its column is skipped.

    python benchmarks/attention_payload.py [--lengths 128 512 1024] [--bertviz-max 128]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import torch

from tbwidgets.widgets._explorer_payload import synthetic_maps
from tbwidgets.widgets.explorer import AttentionExplorer, state_size

LAYERS, HEADS = 12, 12


def bertviz_bytes(maps: torch.Tensor, tokens: list[str]) -> tuple[int, float] | None:
    try:
        from bertviz import model_view
    except ImportError:
        return None
    attention = tuple(maps[i].float().unsqueeze(0) for i in range(maps.shape[0]))  # L × (1, H, T, T)
    start = time.perf_counter()
    html = model_view(attention, tokens, html_action="return")
    text = html.data if hasattr(html, "data") else str(html)
    return len(text.encode()), time.perf_counter() - start


def explorer_numbers(maps: torch.Tensor, tokens: list[str]) -> dict[str, float]:
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    explorer = AttentionExplorer(maps=maps, tokens=tokens)
    build = time.perf_counter() - start
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = state_size(explorer)
    content, buffers = explorer.head_message(5, 7)
    start = time.perf_counter()
    for _ in range(20):
        explorer.head_message(5, 7)
    per_head_ms = (time.perf_counter() - start) / 20 * 1000
    head = sum(memoryview(b).nbytes for b in buffers) + len(str(content).encode())
    return {
        "state": size["total"],
        "state_json": size["json"],
        "head": head,
        "held": held,
        "numpy_peak": peak,
        "build_s": build,
        "head_ms": per_head_ms,
    }


def mb(n: float) -> str:
    return f"{n / 1e6:8.2f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 512, 1024])
    parser.add_argument("--bertviz-max", type=int, default=128, help="largest T given to bertviz")
    args = parser.parse_args()
    print(f"{LAYERS} layers × {HEADS} heads, synthetic causal maps (float16 in, uint8 held)")
    header = f"{'T':>5} | {'init state':>11} | {'one head':>11} | {'held':>11} | {'build':>7} | {'head msg':>8} | {'bertviz':>11} | ratio"
    print(header)
    print("-" * len(header))
    for length in args.lengths:
        maps = synthetic_maps(LAYERS, HEADS, length, seed=length)
        tokens = [f"t{i}" for i in range(length)]
        n = explorer_numbers(maps, tokens)
        bv = bertviz_bytes(maps, tokens) if length <= args.bertviz_max else None
        if bv is None:
            why = "not installed" if length <= args.bertviz_max else f"skipped (T > {args.bertviz_max})"
            bert_col, ratio = f"{why}", ""
        else:
            bert_col, ratio = (
                f"{mb(bv[0])} ({bv[1]:.1f} s)",
                f"{bv[0] / n['state']:.0f}× initial, {bv[0] / (n['state'] + 144 * n['head']):.1f}× with all 144 heads",
            )
        print(
            f"{length:>5} | {mb(n['state'])} | {mb(n['head'])} | {mb(n['held'])} | {n['build_s']:6.1f}s | {n['head_ms']:6.2f}ms | {bert_col} {ratio}"
        )
        del maps
        gc.collect()
    print("budgets at T=1024: initial state ≤ 2 MB, one head ≤ 1.1 MB, held ≤ 200 MB")


if __name__ == "__main__":
    main()
