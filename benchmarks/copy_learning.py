"""Can the built-in example learn `copy` on a CPU, and does the `random` control stay at chance?

A plain PyTorch loop (no Lightning) over `make_data`'s loaders: AdamW, linear warmup then cosine,
clipping at 1.0, the shifted cross-entropy on answer positions only. Prints validation answer accuracy
every 50 steps and the first step at which it passed 90 %, side by side for each task.

    python benchmarks/copy_learning.py [--steps 400] [--tasks copy,random] [--lr 1e-3]
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F

import tbwidgets
from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.data import make_data
from tbwidgets.training.seed import set_random_seed


def answer_accuracy(adapter: object, loader: object) -> float:
    hits = total = 0
    with torch.no_grad():
        for batch in loader:  # type: ignore[attr-defined]
            logits = adapter(batch["input_ids"])  # type: ignore[operator]  # (B, T, V)
            pred, labels = logits[:, :-1].argmax(-1), batch["labels"][:, 1:]
            keep = labels != -100
            hits += int((pred[keep] == labels[keep]).sum())
            total += int(keep.sum())
    return hits / max(total, 1)


def run(task: str, steps: int, lr: float, seed: int) -> list[tuple[int, float, float, float]]:
    set_random_seed(seed)
    loaded = tbwidgets.load_model()
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
                acc = answer_accuracy(loaded.adapter, data.val)
                rows.append((step, time.perf_counter() - start, float(loss), acc))
            if step >= steps:
                break
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--tasks", default="copy,random")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {t: run(t, args.steps, args.lr, args.seed) for t in args.tasks.split(",")}
    tasks = list(results)
    print("step | " + " | ".join(f"{t}: loss, val answer acc, s" for t in tasks))
    for i in range(len(results[tasks[0]])):
        cells = [f"{results[t][i][2]:.3f}, {results[t][i][3]:6.1%}, {results[t][i][1]:5.1f}" for t in tasks]
        print(f"{results[tasks[0]][i][0]:4d} | " + " | ".join(cells))
    for t in tasks:
        first = next(((s, sec) for s, sec, _, acc in results[t] if acc > 0.9), None)
        print(f"{t}: first > 90 % at " + (f"step {first[0]} ({first[1]:.1f} s)" if first else "never"))


if __name__ == "__main__":
    main()
