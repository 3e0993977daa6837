"""Can the built-in example learn `copy` on a CPU, does the `random` control stay at chance, and do
planted bugs (attention that sees the future, attention that never learns) show?

A plain PyTorch loop (no Lightning) over `make_data`'s loaders: AdamW, linear warmup then cosine,
clipping at 1.0, the shifted cross-entropy on answer positions only. Prints validation answer accuracy
(teacher-forced, and generated greedily from the question) every 50 steps, side by side per run.

    python benchmarks/copy_learning.py [--steps 400] [--runs copy,random,copy:leak,copy:detach] [--lr 1e-3]

Measured (2-core VM shared with other jobs, 1 thread, --steps 300, seed 0), teacher-forced / generated:
    copy           6 % → 44 % @150 → 98.6 % / 98.4 % @200 → 100 % @250
    random         5.8–6.8 % throughout (chance 6.25 %)
    copy:leak      97.7 % / 93.1 % @150, 100 % @200: the future is not needed to copy, so it learns faster
    copy:detach    5.1–6.6 % throughout: attention that never learns cannot copy
    random:leak    40.1 % / 6.6 % @300: only a leak lifts the control above chance, and only teacher-forced
    majority        92.5 % @50, 100 % @150 (chance 25 %); majority:detach 40.5 % @50, 88.3 % @200
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

import tbwidgets
from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.data import make_data
from tbwidgets.training.data.evaluate import answer_accuracy
from tbwidgets.training.seed import set_random_seed


def plant(model: nn.Module, bug: str) -> None:
    """leak: attention also sees later positions; detach: attention output cut from the gradient."""
    for block in model.blocks:  # type: ignore[attr-defined]
        attn = block.attn
        if bug == "leak":

            def leaky(x: torch.Tensor, attn: nn.Module = attn) -> torch.Tensor:
                B, T, C = x.shape
                q, k, v = (
                    t.view(B, T, attn.n_heads, C // attn.n_heads).transpose(1, 2)
                    for t in attn.qkv(x).split(C, 2)
                )
                y = F.scaled_dot_product_attention(q, k, v, is_causal=False)  # the planted bug
                return attn.proj(y.transpose(1, 2).reshape(B, T, C))

            attn.forward = leaky
        elif bug == "detach":
            original = attn.forward
            attn.forward = lambda x, original=original: original(x).detach()


def run(spec: str, steps: int, lr: float, seed: int) -> list[tuple[int, float, float, float, float]]:
    task, _, bug = spec.partition(":")
    set_random_seed(seed)
    loaded = tbwidgets.load_model()
    if bug:
        plant(loaded.module, bug)
    cfg = TrainingConfig(learning_rate=lr, max_steps=steps, random_seed=seed)
    data = make_data(task, loaded, cfg)
    model = loaded.module
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "emb" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "emb" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=lr
    )
    warm = cfg.warmup_steps

    def schedule(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(steps - warm, 1)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    rows, step, start = [], 0, time.perf_counter()
    while step < steps:
        for batch in data.train:
            model.train()
            logits = loaded.adapter(batch["input_ids"])
            loss = F.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]), batch["labels"][:, 1:].reshape(-1)
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0 or step == steps:
                model.eval()
                forced = answer_accuracy(loaded.adapter, data.val)
                generated = answer_accuracy(loaded.adapter, data.val, generate=True, max_batches=8)
                rows.append((step, time.perf_counter() - start, float(loss.detach()), forced, generated))
            if step >= steps:
                break
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--runs", default="copy,random,copy:leak,copy:detach")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {r: run(r, args.steps, args.lr, args.seed) for r in args.runs.split(",")}
    runs = list(results)
    print("val answer accuracy, teacher-forced / generated (train loss, seconds)")
    print("step | " + " | ".join(f"{r:>28}" for r in runs))
    for i in range(len(results[runs[0]])):
        cells = [
            f"{results[r][i][3]:6.1%} / {results[r][i][4]:6.1%} ({results[r][i][2]:.2f}, {results[r][i][1]:4.0f}s)"
            for r in runs
        ]
        print(f"{results[runs[0]][i][0]:4d} | " + " | ".join(f"{c:>28}" for c in cells))
    for r in runs:
        first = next(((s, sec) for s, sec, _, _, gen in results[r] if gen > 0.9), None)
        print(
            f"{r}: generated accuracy first > 90 % at "
            + (f"step {first[0]} ({first[1]:.1f} s)" if first else "never")
        )


if __name__ == "__main__":
    main()
