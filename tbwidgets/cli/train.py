"""`tbwidgets train`: fit a model from the terminal or a script, with DDP when asked.

Exit codes as `validate`: 0 trained (or stopped on purpose), 1 training failed or diverged, 2 usage,
config, data or loading problem; Ctrl-C leaves a resumable checkpoint, prints the command that
resumes it and exits 130. Under DDP only rank 0 prints and writes files.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any

from tbwidgets.cli.args import UsageError, add_source_arguments, source_kwargs
from tbwidgets.cli.outputs import check_outputs, human_lines, report_targets, write_text
from tbwidgets.cli.train_progress import LiveTrainingLine, PlainTrainingLines

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_OVERRIDES = {  # CLI flag dest -> TrainingConfig field
    "max_steps": "max_steps",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "learning_rate": "learning_rate",
    "precision": "precision",
    "accelerator": "accelerator",
    "devices": "devices",
    "strategy": "strategy",
    "num_nodes": "num_nodes",
    "val_every": "val_every_n_steps",
    "seed": "random_seed",
    "task": "task",
    "wandb_project": "wandb_project",
}


def add_train_parser(sub: Any) -> None:
    """Register `train` on the main parser's subcommands."""
    t = sub.add_parser("train", help="train a model (Tier 3) and save checkpoints")
    add_source_arguments(t)
    t.add_argument(
        "--data",
        default="copy",
        metavar="TASK|FILE|DATASET",
        help="synthetic task, text file/folder or dataset (default: copy)",
    )
    t.add_argument("--config", metavar="cfg.json", help="a saved TrainingConfig; flags below override it")
    t.add_argument("--max-steps", type=int, help="optimizer steps to train")
    t.add_argument("--epochs", type=int, help="passes over the data (with --max-steps: whichever ends first)")
    t.add_argument("--batch-size", type=int, help="examples per micro-batch and device")
    t.add_argument("--learning-rate", "--lr", type=float, dest="learning_rate", help="peak learning rate")
    t.add_argument("--precision", choices=["32", "bf16-mixed", "16-mixed"])
    t.add_argument("--accelerator", choices=["auto", "cpu", "gpu", "cuda", "mps"])
    t.add_argument("--devices", type=_devices, help="devices per node (an integer or 'auto')")
    t.add_argument("--strategy", help="Lightning strategy for several devices, e.g. ddp or fsdp")
    t.add_argument("--num-nodes", type=int, help="machines taking part (under a cluster launcher)")
    t.add_argument("--val-every", type=int, help="validate every N steps")
    t.add_argument("--seed", type=int, help="random seed")
    t.add_argument("--task", choices=["causal-lm", "masked-lm", "classification"], help="state the loss")
    t.add_argument("--wandb-project", help="log to this W&B project (offline unless the config says online)")
    t.add_argument("--out", metavar="DIR", help="run folder (default: <checkpoint_dir>/<run id>)")
    t.add_argument("--resume", metavar="last|PATH", help="continue from a checkpoint ('last' = the newest)")
    t.add_argument("--json", metavar="F", help="write the TrainingResult as JSON (- for standard output)")
    t.add_argument("--debug", action="store_true", help="show tracebacks")


def _devices(text: str) -> int | str:
    return text if text == "auto" else int(text)


def _rank_zero() -> bool:
    return os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) in ("", "0")


def _say(line: str) -> None:
    if _rank_zero():
        print(line, file=sys.stderr, flush=True)


def _build_config(args: argparse.Namespace) -> Any:
    from tbwidgets.training.config import TrainingConfig

    cfg = TrainingConfig.load(args.config) if args.config else TrainingConfig()
    changes = {
        field: getattr(args, flag) for flag, field in _OVERRIDES.items() if getattr(args, flag) is not None
    }
    if changes.get("epochs") and "max_steps" not in changes:
        changes["max_steps"] = None  # --epochs alone means train by epochs
    return cfg.replace(**changes)


def _resume_command(path: str) -> str:
    argv, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if arg == "--resume":
            skip = True
            continue
        if not arg.startswith("--resume="):
            argv.append(arg)
    return "tbwidgets " + " ".join(shlex.quote(a) for a in [*argv, "--resume", path])


def train_command(args: argparse.Namespace) -> int:
    """Run `tbwidgets train`; returns the exit code."""
    try:
        kwargs = source_kwargs(args)
        cfg = _build_config(args)
        check_outputs(report_targets(args))  # before minutes of training, not after
    except UsageError as exc:
        _say(f"tbwidgets train: error: {exc.cause}" + (f"\nwhat to do: {exc.fix}" if exc.fix else ""))
        return EXIT_USAGE
    except (ValueError, OSError) as exc:
        _say(f"tbwidgets train: error: {exc}")
        return EXIT_USAGE
    from tbwidgets.cli.run import load

    loaded = load(kwargs, args.debug) if _rank_zero() else _quiet_load(kwargs)
    if loaded is None:
        return EXIT_USAGE
    return _train(loaded, cfg, args)


def _quiet_load(kwargs: dict[str, Any]) -> Any:
    from tbwidgets.loading import load_model

    return load_model(**kwargs)


def _train(loaded: Any, cfg: Any, args: argparse.Namespace) -> int:
    from tbwidgets.training.fit import TrainingError, TrainingInterrupted, fit

    listener: Any = None
    if _rank_zero():
        listener = LiveTrainingLine() if sys.stderr.isatty() else PlainTrainingLines()
    try:
        result = fit(loaded, args.data, cfg, on_event=listener, resume_from=args.resume, out_dir=args.out)
    except TrainingInterrupted as exc:
        where = exc.checkpoint or "(no checkpoint was written)"
        _say(f"Interrupted at step {exc.step}; checkpoint: {where}")
        if exc.checkpoint:
            _say(f"Resume with: {_resume_command(exc.checkpoint)}")
        return EXIT_INTERRUPTED
    except TrainingError as exc:
        _say(f"error: training failed at step {exc.step}: {exc.message}\nwhat to do: {exc.advice}")
        if exc.checkpoint:
            _say(f"last checkpoint: {exc.checkpoint}")
        return EXIT_FAILED
    except (ValueError, FileNotFoundError, RuntimeError) as exc:  # config, data, resume or device problems
        if args.debug:
            raise
        _say(f"tbwidgets train: error: {exc}")
        return EXIT_USAGE
    if not _rank_zero():
        return EXIT_OK
    with human_lines(args):
        _report(result, args)
    return EXIT_OK


def _report(result: Any, args: argparse.Namespace) -> None:
    f = result.final
    parts = [f"loss {f.get('loss', float('nan')):.4f}"]
    if "val_loss" in f:
        parts.append(f"val_loss {f['val_loss']:.4f}, val_accuracy {f.get('val_accuracy', float('nan')):.1%}")
    how = "Stopped" if result.stopped else "Trained"
    print(
        f"{how} {result.steps} steps in {result.duration_s:.1f}s: {', '.join(parts)}; {result.tokens_per_s:,.0f} tokens/s"
    )
    if result.best_step is not None:
        print(f"Best validation at step {result.best_step}: {result.best_checkpoint or '(not kept)'}")
    print(f"Run folder: {result.out_dir}")
    for message in result.messages:
        print(f"note: {message}", file=sys.stderr)
    if result.wandb_sync:
        print(f"W&B run saved offline; upload it with: {result.wandb_sync}")
    if args.json:
        wrote = write_text(args.json, result.to_json)
        if wrote:
            print(wrote, file=sys.stderr)
