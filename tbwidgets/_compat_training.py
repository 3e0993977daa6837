"""The reference system's Tier 3 names, `test_fine_tuning` and `MetricsTracker`, backed by `fit`.

`test_fine_tuning` returns the reference's keys, but trains through `tbwidgets.training.fit`: the
warmup + cosine schedule is really applied, the default data is the learnable `copy` task (not 50
random sequences, on which a falling loss proves nothing), variable-length data is padded with masks,
and nothing is printed or plotted. `MetricsTracker` keeps the reference's per-epoch rows without
printing and logs to W&B only when asked and a run is active.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from tbwidgets.training.losses import perplexity

if TYPE_CHECKING:
    import pandas as pd


class _TokenRows(torch.utils.data.Dataset):  # type: ignore[type-arg]
    def __init__(self, rows: Sequence[torch.Tensor]) -> None:
        self.rows = [torch.as_tensor(r, dtype=torch.long).reshape(-1) for r in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.rows[i]


def _pad(rows: list[torch.Tensor], pad: int = 0) -> dict[str, torch.Tensor]:
    """Variable lengths padded with a mask; labels are -100 on padding (no loss, no accuracy)."""
    length = max(len(r) for r in rows)
    ids = torch.full((len(rows), length), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)], mask[i, : len(r)] = r, 1
    return {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}


def _loaders(train_data: Any, val_data: Any, batch_size: int, seed: int) -> tuple[Any, Any]:
    from tbwidgets.training.data import ResumableLoader

    rows = list(train_data)
    if val_data is None:  # the reference's 80/20 split
        cut = max(1, int(len(rows) * 0.8))
        rows, val_rows = rows[:cut], rows[cut:] or rows[-1:]
    else:
        val_rows = list(val_data)
    make = lambda data, shuffle: ResumableLoader(  # noqa: E731
        _TokenRows(data), batch_size=batch_size, seed=seed, shuffle=shuffle, collate_fn=_pad
    )
    return make(rows, True), make(val_rows, False)


def _epoch_summary(history: pd.DataFrame) -> pd.DataFrame:
    """One row per epoch with the reference's column names."""
    import pandas as pd

    rows = []
    for epoch, part in history.groupby("epoch"):
        validated = part.dropna(subset=["val_loss"])
        last_val = validated.iloc[-1] if len(validated) else None
        loss = float(part["loss"].mean())
        rows.append(
            {
                "epoch": int(epoch),  # type: ignore[call-overload]
                "train/loss": loss,
                "train/perplexity": perplexity(loss),
                "train/accuracy": float(part["accuracy"].mean()),
                "val/loss": float(last_val["val_loss"]) if last_val is not None else math.nan,
                "val/perplexity": float(last_val["val_perplexity"]) if last_val is not None else math.nan,
                "val/accuracy": float(last_val["val_accuracy"]) if last_val is not None else math.nan,
                "learning_rate": float(part["lr"].iloc[-1]),
                "gradient_norm": float(part["grad_norm"].max()),
                "epoch_duration": float(part["step_time_s"].sum()),
            }
        )
    return pd.DataFrame(rows)


def test_fine_tuning(
    model: Any,
    config: Any = None,
    train_data: Sequence[torch.Tensor] | None = None,
    val_data: Sequence[torch.Tensor] | None = None,
    n_epochs: int = 3,
    learning_rate: float = 5e-5,
    weight_decay: float = 0.01,
    batch_size: int = 4,
    use_wandb: bool = False,
    use_amp: bool = False,
    gradient_accumulation_steps: int = 1,
    gradient_clip_norm: float = 1.0,
    random_seed: int = 42,
    deterministic: bool = False,
    use_lr_schedule: bool = True,
    out_dir: str | None = None,
    **ignored: Any,
) -> dict[str, Any]:
    """Fine-tune `model` (nn.Module or LoadedModel; `config` is the model's config) and return the
    reference's dict: loss_history, final_loss, initial_loss, training_time_seconds, samples_per_second,
    metrics_summary (per epoch: train/loss, val/loss, val/perplexity, …), best_epoch, grad_norm_history,
    amp_enabled, final_loss_scale, plus `result` (the TrainingResult)."""
    from tbwidgets.compat import _loaded
    from tbwidgets.training.config import TrainingConfig
    from tbwidgets.training.fit import fit

    if ignored:
        warnings.warn(f"test_fine_tuning ignores {sorted(ignored)} (reference-only options).", stacklevel=2)
    loaded = _loaded(model, config)
    amp = bool(use_amp and torch.cuda.is_available())
    cfg = TrainingConfig(
        max_steps=None, epochs=n_epochs, learning_rate=learning_rate, weight_decay=weight_decay,
        batch_size=batch_size, gradient_accumulation_steps=gradient_accumulation_steps,
        max_grad_norm=gradient_clip_norm or None, random_seed=random_seed, deterministic=deterministic,
        warmup_ratio=0.1 if use_lr_schedule else 0.0, precision="bf16-mixed" if amp else "32",
        wandb_project="transformer-training" if use_wandb else None, checkpoint_every_n_steps=None,
    )  # fmt: skip
    if out_dir:
        cfg = cfg.replace(checkpoint_dir=out_dir)
    data: Any = "copy" if train_data is None else _loaders(train_data, val_data, batch_size, random_seed)
    if not use_lr_schedule:
        warnings.warn("use_lr_schedule=False: the cosine decay still applies (no warmup).", stacklevel=2)
    n_batches = len(data[0]) if isinstance(data, tuple) else None
    if n_batches:  # validate once an epoch, like the reference
        cfg = cfg.replace(val_every_n_steps=max(1, -(-n_batches // gradient_accumulation_steps)))
    t0 = time.perf_counter()
    result = fit(loaded, data, cfg)
    seconds = time.perf_counter() - t0
    h = result.history
    summary = _epoch_summary(h)
    has_val = summary["val/loss"].notna().any()
    n_samples = len(h) * batch_size * gradient_accumulation_steps
    return {
        "loss_history": [float(x) for x in h["loss"]],
        "final_loss": float(h["loss"].iloc[-1]),
        "initial_loss": float(h["loss"].iloc[0]),
        "training_time_seconds": seconds,
        "samples_per_second": n_samples / seconds if seconds > 0 else math.nan,
        "metrics_summary": summary,
        "best_epoch": int(summary.loc[summary["val/loss"].idxmin(), "epoch"]) if has_val else None,
        "grad_norm_history": [float(x) for x in h["grad_norm"]],
        "amp_enabled": amp,
        "final_loss_scale": None,  # bf16 autocast needs no loss scaling
        "result": result,
    }


class MetricsTracker:
    """Per-epoch metrics like the reference's tracker: no printing; W&B only if asked and a run is active."""

    def __init__(self, use_wandb: bool = False, gradient_accumulation_steps: int = 1) -> None:
        self.use_wandb, self.gradient_accumulation_steps = use_wandb, max(1, gradient_accumulation_steps)
        self.metrics_history: list[dict[str, float]] = []
        self.step_metrics: list[dict[str, Any]] = []
        self._step = 0

    def log_epoch(
        self,
        epoch: int,
        train_metrics: dict[str, float],
        val_metrics: dict[str, float] | None = None,
        learning_rate: float = math.nan,
        gradient_norm: float = math.nan,
        epoch_duration: float = math.nan,
    ) -> dict[str, float]:
        val = val_metrics or {}
        row: dict[str, float] = {"epoch": epoch}
        for prefix, metrics in (("train", train_metrics), ("val", val)):
            loss = float(metrics.get("loss", math.nan))
            row |= {f"{prefix}/loss": loss, f"{prefix}/perplexity": perplexity(loss)}
            row[f"{prefix}/accuracy"] = float(metrics.get("accuracy", math.nan))
        row |= {
            "learning_rate": learning_rate,
            "gradient_norm": gradient_norm,
            "epoch_duration": epoch_duration,
        }
        if torch.cuda.is_available():
            row["system/gpu_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
        self.metrics_history.append(row)
        self._wandb(row)
        return row

    def log_scalar(self, name: str, value: float, step: int | None = None, commit: bool = True) -> None:
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"log_scalar({name!r}) got {value}: only finite numbers can be logged.")
        step = self._step if step is None else int(step)
        self._step = step + 1
        effective = step // self.gradient_accumulation_steps
        self.step_metrics.append(
            {
                "step": step,
                "effective_step": effective,
                "metric": name,
                "value": value,
                "timestamp": time.time(),
            }
        )
        if commit and step % self.gradient_accumulation_steps == 0:
            self._wandb({name: value})

    def _wandb(self, data: dict[str, Any]) -> None:
        if not self.use_wandb:
            return
        try:
            import wandb
        except ImportError:
            return
        if wandb.run is not None:
            wandb.log(data)  # no step argument: epoch and step axes never collide in one run

    def get_summary(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.metrics_history)

    def get_step_metrics(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.step_metrics)

    def get_best_epoch(self, metric: str = "val/loss", mode: str = "min") -> int:
        summary = self.get_summary()
        if summary.empty or metric not in summary or summary[metric].isna().all():
            raise ValueError(f"No epoch has {metric!r} yet: log_epoch with val_metrics first.")
        index = summary[metric].idxmin() if mode == "min" else summary[metric].idxmax()
        return int(summary.loc[index, "epoch"])


for _obj in (test_fine_tuning, MetricsTracker):
    _obj.__test__ = False  # type: ignore[attr-defined,union-attr]  # compat exports are not tests
