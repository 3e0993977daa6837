"""W&B tracking through Lightning's WandbLogger: offline by default, never prompting, no secrets.

The key comes only from the environment (WANDB_API_KEY) or `wandb login`; nothing of ours ever holds
it. The run config is `TrainingConfig.to_dict()` (an allow-list), git is not recorded and the console is
not captured (user code may print secrets). Offline runs end with the `wandb sync DIR` line to upload.
"""

from __future__ import annotations

import importlib.util
import netrc
import os
from pathlib import Path
from typing import Any

from tbwidgets.training.events import StepMetrics, TrainingEvent, ValidationMetrics

INIT_TIMEOUT_S = 30  # wandb's own default waits 90 s (then retries) on an unreachable server


def wandb_installed() -> bool:
    return importlib.util.find_spec("wandb") is not None


def _has_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


class WandbTracker:
    """Listener logging every step on one axis (the optimizer step) to a WandbLogger run."""

    def __init__(self, config: Any, out_dir: Path, run_id: str) -> None:
        import wandb
        from lightning.pytorch.loggers import WandbLogger

        mode = config.wandb_mode or "offline"
        if mode == "online" and not _has_key():
            raise RuntimeError(
                "W&B online mode needs an API key: run `wandb login` or set WANDB_API_KEY in the "
                "environment (never in the config), or use wandb_mode='offline' and `wandb sync` later."
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        self.mode = mode
        self.logger = WandbLogger(
            project=config.wandb_project,
            entity=config.wandb_entity,
            name=config.wandb_run_name or run_id,
            save_dir=str(out_dir),
            log_model=False,
            mode=mode,  # not offline=True: WandbLogger would set WANDB_MODE for the whole process
            settings=wandb.Settings(
                init_timeout=INIT_TIMEOUT_S, disable_git=True, console="off", silent=True, save_code=False
            ),
        )
        # WandbLogger always passes `anonymous`, which wandb 0.31 answers with a warning on stderr
        self.logger._wandb_init.pop("anonymous", None)
        self.logger.log_hyperparams(config.to_dict())  # allow-listed fields: no key can be in there
        self.run_dir = Path(self.logger.experiment.dir).parent  # .../wandb/offline-run-…/

    def __call__(self, event: TrainingEvent) -> None:
        if isinstance(event, StepMetrics):
            metrics = {f"train/{k}": v for k, v in event.metrics.items()}
            self.logger.log_metrics({**metrics, "epoch": event.epoch}, step=event.step)
        elif isinstance(event, ValidationMetrics):
            metrics = {f"val/{k.removeprefix('val_')}": v for k, v in event.metrics.items()}
            self.logger.log_metrics(metrics, step=event.step)

    def close(self, failed: bool = False) -> None:
        # finish the run object itself (wandb.run may point elsewhere): it returns once the offline
        # file is complete, so `wandb sync` right after uploads everything
        self.logger.finalize("failed" if failed else "success")
        self.logger.experiment.finish(exit_code=1 if failed else 0)

    def sync_command(self) -> str | None:
        return f"wandb sync {self.run_dir}" if self.mode == "offline" else None
