"""Where a run lives and how long it is: run id, output folder, resume checkpoint, step budget.

A run folder is `<checkpoint_dir>/<run_id>/` holding `checkpoints/`, `config.json` and, with W&B,
`wandb/`. Under DDP the launcher re-runs the script for every other rank; the first rank publishes
its run id and folder in the environment so all ranks write to one place.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tbwidgets.training.checkpoints import checkpoint_step, find_last

ENV_RUN_ID = "TBWIDGETS_RUN_ID"
ENV_RUN_DIR = "TBWIDGETS_RUN_DIR"


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    out_dir: Path
    checkpoint_dir: Path
    total_steps: int
    warmup_steps: int
    resume_from: Path | None


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def world_size(config: Any) -> int:
    devices = config.devices if isinstance(config.devices, int) else 1
    return max(1, devices) * max(1, int(config.num_nodes))


def total_steps(config: Any, n_batches: int) -> int:
    """Optimizer steps of the run: max_steps, or epochs × steps per epoch, whichever is smaller.

    `n_batches` is the train loader's length on one process; DDP ranks each get their share.
    """
    per_rank = math.ceil(n_batches / world_size(config))
    per_epoch = math.ceil(per_rank / config.gradient_accumulation_steps)
    budgets = [int(config.max_steps)] if config.max_steps else []
    if config.epochs:
        budgets.append(int(config.epochs) * max(1, per_epoch))
    if not budgets:
        raise ValueError("TrainingConfig needs max_steps or epochs: set one of them.")
    return min(budgets)


def resolve_resume(resume_from: str | Path | None, out_dir: str | Path | None, root: Path) -> Path | None:
    """A checkpoint path from "last", a run folder or a file; a clear error when there is none."""
    if resume_from is None:
        return None
    if str(resume_from) == "last":
        where = Path(out_dir) if out_dir is not None else root
        found = find_last(where) if where.exists() else None
        if found is None:
            raise FileNotFoundError(
                f"resume_from='last' found no checkpoint under {where}. Give the checkpoint path, or the "
                "out_dir of the run to resume (checkpoints are written every checkpoint_every_n_steps and at Stop)."
            )
        return found
    path = Path(resume_from)
    if path.is_dir():
        found = find_last(path)
        if found is None:
            raise FileNotFoundError(f"No checkpoint (*.ckpt) under {path}; give a checkpoint file instead.")
        return found
    if not path.is_file():
        raise FileNotFoundError(
            f"Checkpoint {path} does not exist; resume_from takes 'last' or a .ckpt path."
        )
    return path


def _run_dir_of(checkpoint: Path) -> Path:
    parent = checkpoint.parent
    return parent.parent if parent.name == "checkpoints" else parent


def plan_run(
    config: Any, n_batches: int, out_dir: str | Path | None, resume_from: str | Path | None
) -> RunPlan:
    """Decide the run id, folder, budget and resume point (sharing them with DDP ranks)."""
    root = Path(config.checkpoint_dir)
    resume = resolve_resume(resume_from, out_dir, root)
    if os.environ.get(ENV_RUN_DIR) and os.environ.get("LOCAL_RANK", "0") != "0":
        run_id, folder = os.environ[ENV_RUN_ID], Path(os.environ[ENV_RUN_DIR])  # a DDP child rank
    else:
        run_id = new_run_id()
        if out_dir is not None:
            folder = Path(out_dir)
        elif resume is not None and checkpoint_step(resume) is not None:
            folder = _run_dir_of(resume)  # continue in the run being resumed
        else:
            folder = root / run_id
        os.environ[ENV_RUN_ID], os.environ[ENV_RUN_DIR] = run_id, str(folder)
    steps = total_steps(config, n_batches)
    warmup = round(config.warmup_ratio * steps)
    return RunPlan(run_id, folder, folder / "checkpoints", steps, warmup, resume)
