"""The reference system's TrainingConfig names on top of ours, for `tbwidgets.compat`.

Notebooks written for the Transformer Builder templates build configs like
`TrainingConfig(learning_rate=5e-5, epochs=10, vocab_size=50257, d_model=768, run_name="exp")` and call
`config.save()` without a path. This subclass accepts those names: the ones with a meaning here are
translated (run_name → wandb_run_name, use_amp → precision, …); the ones describing the model or the
dataset are kept in `extra` (and saved), because tbwidgets reads those from the loaded model and the data.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from tbwidgets.training import config as _config
from tbwidgets.training.seed import set_random_seed

RENAMED = {
    "run_name": "wandb_run_name",
    "accumulate_grad_batches": "gradient_accumulation_steps",
    "max_seq_len": "seq_len",
}
DESCRIPTIVE = frozenset(
    {
        "model_name",
        "model_type",
        "vocab_size",
        "d_model",
        "num_layers",
        "num_heads",
        "d_ff",
        "dropout",
        "task_name",
        "eval_dataset_id",
        "resume_from_checkpoint",
        "dataset_name",
        "dataset_split",
        "dataset_subset",
        "max_train_samples",
        "max_val_samples",
        "save_every_n_epochs",
        "export_bundle",
        "export_formats",
        "export_dir",
        "compile_fullgraph",
        "compile_dynamic",
    }
)  # kept in `extra`: the loaded model and make_data are the authority for these


def translate(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split reference keyword arguments into (our fields, kept extras)."""
    ours = {RENAMED.get(k, k): v for k, v in kwargs.items() if k not in DESCRIPTIVE}
    extra = {k: v for k, v in kwargs.items() if k in DESCRIPTIVE}
    if "use_amp" in ours:
        use_amp = bool(ours.pop("use_amp"))
        ours.setdefault("precision", "bf16-mixed" if use_amp else "32")  # bf16 runs on CPUs and recent GPUs
    if "compile_mode" in ours:
        mode = ours.pop("compile_mode")
        ours.setdefault("compile", mode is not None)
    if ours.pop("keep_best_only", False):
        ours.setdefault("keep_last", 0)
        ours.setdefault("keep_best", 1)
    if "epochs" in kwargs and "max_steps" not in kwargs:
        ours["max_steps"] = None  # the reference trained by epochs
    if isinstance(ours.get("config_version"), str):  # the reference wrote "1.0"
        ours["config_version"] = _config.CONFIG_VERSION
    return ours, extra


class TrainingConfig(_config.TrainingConfig):
    """`tbwidgets.training.TrainingConfig` that also takes the reference's field names (see the module)."""

    def __init__(self, **kwargs: Any) -> None:
        ours, extra = translate(kwargs)
        unknown = sorted(set(ours) - {f for f in _config.TrainingConfig.__dataclass_fields__})
        if unknown:
            raise TypeError(
                f"TrainingConfig has no field(s) {unknown}. Fields: "
                f"{', '.join(_config.TrainingConfig.__dataclass_fields__)}."
            )
        super().__init__(**ours)
        self._extra = extra

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingConfig:
        """Reference files load too: their model/dataset keys go to `extra` without a warning."""
        ours, extra = translate(data)
        known = set(_config.TrainingConfig.__dataclass_fields__)
        strange = {k: v for k, v in ours.items() if k not in known}
        if strange:
            warnings.warn(
                f"Config keys {sorted(strange)} are unknown to this version and to the reference; kept in `extra`.",
                UserWarning,
                stacklevel=2,
            )
        cfg = cls(**{k: v for k, v in ours.items() if k in known}, **extra)
        cfg._extra.update(strange)
        return cfg


def compare_configs(
    a: Any, b: Any, *, ignore: tuple[str, ...] = ("created_at", "run_name", "wandb_run_name")
) -> Any:
    """The reference's compare_configs: also skips the run name (it differs between every run)."""
    return _config.compare_configs(a, b, ignore=ignore)


for _obj in (TrainingConfig, compare_configs, set_random_seed):
    _obj.__test__ = False  # type: ignore[union-attr]  # every compat export says "not a test" to pytest
