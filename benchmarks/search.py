"""Pruning pays: 12 trials of `search` on `copy` with the median pruner against the same 12 unpruned.

Both studies use the default space (learning rate, batch size, warmup ratio, weight decay), TPE with
the same seed, the same small GPT and the same budget per trial; one process, one thread. Printed side
by side: optimizer steps trained, wall time, trial states and the best validation loss, with the
ratios the issue asks for (steps and time with pruning ≤ 60 % of without, best value within 5 %).

    python benchmarks/search.py [--trials 12] [--max-steps 300] [--val-every 20] [--pruners median,hyperband]

Measured 2026-11-30 (2-core VM, nothing else running, 1 thread), ratios against the unpruned study:
  defaults (300 steps), `--pruners median,median-2start`:
    median (the default: 1 start-up trial for 12)  steps 0.47, wall 0.56, best val_loss equal (0.0078)
    median with Optuna-style fixed 2 start-ups     steps 0.57, wall 0.61, best equal
  `--max-steps 240 --pruners median,median-2start,hyperband`:
    median (default)                               steps 0.54, wall 0.61, best equal (0.0098), CPCCPPPCPPCC
    median, 2 start-up trials                      steps 0.64, wall 0.86, best equal, CCCCPPPCPPCC
    hyperband (min 20, max 240, rf 3)              steps 0.65, wall 0.76, best equal, CCCCPPPPPPCC
The wall ratio sits above the step ratio: each trial pays a fixed ~0.25 s (fresh model, Trainer set-up,
storage writes) that pruning cannot save, so short trials (240 steps of a 2-layer model) weigh it more.
The default pruner judges once a tenth of the study has finished (1 to 5 start-up trials): with a
fixed count, the start-up trials of a 12-trial study always run their whole budget.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
import torch

from tbwidgets.loading.examples.tiny_gpt import TinyGPT, TinyGPTConfig
from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.hpo import search


def factory() -> TinyGPT:
    """A 2-layer GPT (d 32) with 16 symbols to copy: learns the task in a few hundred steps on a CPU."""
    return TinyGPT(
        TinyGPTConfig(vocab_size=32, max_seq_len=24, d_model=32, n_heads=2, n_layers=2, dropout=0.0)
    )


def run(pruner: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    cfg = TrainingConfig(
        max_steps=args.max_steps,
        val_every_n_steps=args.val_every,
        validation_split=0.02,  # 200 held-out copy examples
        checkpoint_every_n_steps=None,
        keep_best=0,
        checkpoint_dir=str(root),
        accelerator="cpu",
        random_seed=args.seed,
    )
    choice: Any = pruner
    if pruner.startswith("median-") and pruner.endswith("start"):  # "median-5start": a fixed start-up count
        starts = int(pruner.removeprefix("median-").removesuffix("start"))
        choice = optuna.pruners.MedianPruner(n_startup_trials=starts, n_warmup_steps=args.val_every)
    t0 = time.perf_counter()
    result = search(
        factory, "copy", n_trials=args.trials, config=cfg, pruner=choice, study_name=f"copy-{pruner}"
    )
    wall = time.perf_counter() - t0
    trials = result.trials
    return {
        "result": result,
        "wall": wall,
        "steps": int(trials["steps"].sum()),
        "states": "".join(s[0].upper() for s in trials["state"]),
        "best": result.best_value,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--max-steps", type=int, default=300)
    p.add_argument("--val-every", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--pruners",
        default="median,hyperband",
        help="pruned arms (median = the default, median-<N>start, hyperband), each against none",
    )
    p.add_argument("--out", type=Path, default=None, help="run folder (default: a temporary one)")
    args = p.parse_args()
    torch.set_num_threads(1)
    root = args.out or Path(tempfile.mkdtemp(prefix="tbw-search-bench-"))
    warm = argparse.Namespace(**{**vars(args), "trials": 1, "max_steps": 2, "val_every": 1})
    run("none", warm, root / "warm-up")  # imports Lightning/Optuna/SQLAlchemy outside the timed arms
    arms = {"none": run("none", args, root)}
    for pruner in args.pruners.split(","):
        arms[pruner] = run(pruner, args, root)
    report(arms, args)


def report(arms: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    plain = arms["none"]
    print(
        f"{args.trials} trials on copy, {args.max_steps} steps each, validation every {args.val_every} steps"
    )
    print(f"{'':16}" + "".join(f"{name:>14}{'ratio':>8}" for name in arms))
    for label, key, fmt in (
        ("optimizer steps", "steps", "d"),
        ("wall time (s)", "wall", ".1f"),
        ("best val_loss", "best", ".4f"),
    ):
        cells = "".join(f"{r[key]:>14{fmt}}{r[key] / plain[key]:>8.2f}" for r in arms.values())
        print(f"{label:16}{cells}")
    print(f"{'states':16}" + "".join(f"{r['states']:>14}{'':8}" for r in arms.values()))
    for name, r in arms.items():
        if name == "none":
            continue
        ok_steps, ok_wall = r["steps"] <= 0.6 * plain["steps"], r["wall"] <= 0.6 * plain["wall"]
        ok_best = r["best"] <= plain["best"] * 1.05
        print(f"{name}: steps ≤ 60 %: {ok_steps}; wall ≤ 60 %: {ok_wall}; best within 5 %: {ok_best}")
    for name, r in arms.items():
        cols = ["number", "state", "value", "steps", "pruned_at", "learning_rate", "batch_size"]
        print(f"\n{name}:\n{r['result'].trials[cols].to_string(index=False)}")


if __name__ == "__main__":
    main()
