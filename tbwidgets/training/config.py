"""TrainingConfig: every knob of a Tier 3 run, defaulted, validated all at once, saved without secrets.

Each field carries metadata (`help`, `level` "essential"/"advanced", `choices`) so the widget can build
its form from the dataclass alone. `save`/`load` go through an allow-list of the known fields and refuse
values that look like credentials, so a W&B key or GitHub token can never land in a config file; keys
from a newer tbwidgets are kept (and warned about), missing keys get the defaults.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tbwidgets.training._config_rules import check_config, secret_problems

CONFIG_VERSION = 1
"""Bumped when a field changes meaning; files from a newer version load with their extra keys kept."""

PRECISIONS = ("32", "bf16-mixed", "16-mixed")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
WANDB_MODES = ("offline", "online", "disabled")
INTERNAL_FIELDS = frozenset({"created_at", "config_version"})  # set by us, not shown in the form


def _f(default: Any, help: str, level: str = "advanced", choices: tuple[Any, ...] | None = None) -> Any:
    """A dataclass field with the metadata the widget's form needs."""
    meta = {"help": help, "level": level, "essential": level == "essential", "choices": choices}
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class TrainingConfig:
    """What a run does; `validate()` before use. Steps are optimizer steps (after accumulation)."""

    # --- optimisation
    learning_rate: float = _f(
        1e-3, "Peak learning rate (AdamW) reached after warmup.", "essential"
    )  # trains the built-in example's size from scratch in a few hundred steps
    batch_size: int = _f(
        32, "Examples per micro-batch (per device).", "essential"
    )  # fits any small model on a CPU; enough signal per step for copy
    max_steps: int | None = _f(
        500, "Optimizer steps to train; empty to train by epochs.", "essential"
    )  # a CPU-minute budget; the learning proof needs ~300
    epochs: int | None = _f(
        None, "Passes over the training set; with max_steps, whichever ends first.", "essential"
    )  # steps are the one axis; epochs only when asked
    warmup_ratio: float = _f(
        0.05, "Fraction of the steps spent warming the learning rate up from 0."
    )  # short warmup keeps early Adam steps stable
    weight_decay: float = _f(
        0.1, "AdamW weight decay (biases, norms and embeddings are exempt)."
    )  # GPT-style value; the exempt groups make it safe
    max_grad_norm: float | None = _f(
        1.0, "Clip the gradient norm to this; empty for no clipping."
    )  # the usual guard against loss spikes
    gradient_accumulation_steps: int = _f(
        1, "Micro-batches summed into one optimizer step."
    )  # 1: a step is a batch unless memory asks otherwise
    precision: str = _f(
        "32", "Numeric precision of the run.", "essential", PRECISIONS
    )  # full precision is exact and works everywhere
    compile: bool = _f(
        False, "Compile the model with torch.compile (slow start, faster steps on GPU)."
    )  # compile time dwarfs short runs
    # --- validation and stopping
    val_every_n_steps: int | None = _f(
        50, "Validate every this many steps and at the last; empty for the last only."
    )  # ten points on a 500-step curve
    early_stopping_patience: int | None = _f(
        None, "Stop after this many validations without improvement; empty for off."
    )  # off: a short run should finish
    validation_split: float = _f(
        0.1, "Fraction of the data held out for validation (when the data has no split)."
    )  # enough examples to see overfitting
    # --- reproducibility
    random_seed: int = _f(
        42, "Seed for the model init, data order, splits and masking.", "essential"
    )  # any fixed value makes runs repeat
    deterministic: bool = _f(
        False, "Force deterministic kernels (slower on GPU; CPU runs repeat anyway)."
    )  # off: deterministic CUDA kernels cost speed
    # --- devices
    accelerator: str = _f(
        "auto", "Where to train: auto picks a GPU when there is one.", "essential", ACCELERATORS
    )  # auto does the obvious thing
    devices: int | str = _f(
        1, "Devices per node ('auto' = all); more than 1 needs a strategy like ddp."
    )  # one device is all a notebook can use safely
    strategy: str = _f(
        "auto", "Lightning strategy: auto, ddp, fsdp, ddp_notebook, …"
    )  # Lightning picks for one device
    num_nodes: int = _f(
        1, "Machines taking part (multi-node runs go through the CLI)."
    )  # one machine unless launched by a cluster
    # --- checkpoints
    checkpoint_dir: str = _f(
        "tbwidgets-runs", "Folder for checkpoints and run files."
    )  # relative: lands next to the notebook
    checkpoint_every_n_steps: int | None = _f(
        100, "Save a resumable checkpoint every this many steps; empty for off."
    )  # a Stop or crash loses at most 100 steps
    keep_last: int = _f(
        2, "Periodic checkpoints to keep (older ones are deleted)."
    )  # the latest plus one in case it is bad
    keep_best: int = _f(1, "Best checkpoints (lowest validation loss) to keep.")  # the one users export
    # --- tracking
    wandb_project: str | None = _f(
        None, "W&B project; empty for no W&B (the history is always kept)."
    )  # tracking is opt-in
    wandb_entity: str | None = _f(None, "W&B team or user; empty for your default.")  # wandb's own default
    wandb_run_name: str | None = _f(
        None, "W&B run name; empty for a generated one."
    )  # wandb names runs itself
    wandb_mode: str = _f(
        "offline",
        "offline writes locally (wandb sync uploads later); online needs a key.",
        choices=WANDB_MODES,
    )  # never blocks on a network
    # --- hints and bookkeeping
    task: str | None = _f(
        None, "Loss to train: causal-lm, masked-lm, classification or regression; empty for the model's."
    )  # the loader already detected it
    seq_len: int | None = _f(
        None, "Sequence length of text blocks; empty for the model's usable length."
    )  # longest the model takes
    notes: str = _f(
        "", "Free text kept with the run (never put keys here: saving refuses them)."
    )  # what the user wants to remember
    created_at: str = _f(_now, "When this config was made (UTC).")  # tells runs apart in compare_configs
    config_version: int = _f(CONFIG_VERSION, "Config format version.")  # lets newer files load with a warning

    def __post_init__(self) -> None:
        self._extra: dict[str, Any] = {}  # keys from a newer version's file, kept for the round trip

    # --- checking
    def problems(self, *, n_train: int | None = None, cuda_available: bool | None = None) -> list[str]:
        """Every problem as "field: message", cross-field ones included; empty when the config is fine."""
        return [
            f"{name}: {msg}"
            for name, msg in self.problems_by_field(n_train=n_train, cuda_available=cuda_available)
        ]

    def problems_by_field(
        self, *, n_train: int | None = None, cuda_available: bool | None = None
    ) -> list[tuple[str, str]]:
        """(field, message) pairs, so a form can show each message next to its input."""
        return check_config(self, n_train=n_train, cuda_available=cuda_available) + secret_problems(
            self.to_dict()
        )

    def validate(self, *, n_train: int | None = None, cuda_available: bool | None = None) -> TrainingConfig:
        """Raise one ValueError listing every problem; return self when there is none."""
        found = self.problems(n_train=n_train, cuda_available=cuda_available)
        if found:
            lines = "\n".join(f"  - {p}" for p in found)
            raise ValueError(f"TrainingConfig has {len(found)} problem(s):\n{lines}")
        return self

    @property
    def warmup_steps(self) -> int:
        """Warmup in optimizer steps (0 when training by epochs only: the engine resolves it then)."""
        return round(self.warmup_ratio * self.max_steps) if self.max_steps else 0

    # --- plain data
    @classmethod
    def fields_info(cls) -> list[dict[str, Any]]:
        """Name, default, help, level and choices of every field, in order: what a form is built from."""
        out = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else None
            out.append({"name": f.name, "type": str(f.type), "default": default, **f.metadata})
        return out

    def to_dict(self) -> dict[str, Any]:
        """Known fields only (an allow-list by construction), in declaration order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @property
    def extra(self) -> dict[str, Any]:
        """Keys read from a newer version's file that this version does not know."""
        return dict(self._extra)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingConfig:
        """Build from plain data: unknown keys are kept in `extra` with a warning, missing keys defaulted."""
        known = {f.name for f in dataclasses.fields(cls)}
        cfg = cls(**{k: v for k, v in data.items() if k in known})
        unknown = {k: v for k, v in data.items() if k not in known}
        if unknown:
            version = data.get("config_version", CONFIG_VERSION)
            origin = (
                f"a newer tbwidgets (config version {version})" if _newer(version) else "an unknown source"
            )
            warnings.warn(
                f"Config keys {sorted(unknown)} come from {origin} and are not used by this version; "
                "they are kept and written back on save. Upgrade tbwidgets to use them.",
                UserWarning,
                stacklevel=2,
            )
            cfg._extra = unknown
        return cfg

    def save(self, path: str | Path | None = None) -> Path:
        """Write JSON through the allow-list; refuse (ValueError naming the field) values that look secret.

        Without a path: `config_YYYYMMDD_HHMMSS.json` in the working folder (as the reference did).
        """
        data = self.to_dict()
        data.update({k: v for k, v in self._extra.items() if k not in data})
        leaks = secret_problems(data)
        if leaks:
            names = ", ".join(name for name, _ in leaks)
            raise ValueError(
                f"Not saving: {names} look(s) like a key or token. Secrets belong in the environment "
                "(WANDB_API_KEY, GITHUB_TOKEN) or `wandb login`, never in a config; remove it and save again."
            )
        out = Path(path) if path is not None else Path(datetime.now().strftime("config_%Y%m%d_%H%M%S.json"))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | Path) -> TrainingConfig:
        """Read a file written by `save` (any version); see `from_dict` for unknown and missing keys."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path} is not a JSON config ({exc}); save one with TrainingConfig.save."
            ) from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path} holds a JSON {type(data).__name__}, not an object of config fields.")
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with some fields changed (extra keys carried over)."""
        new = dataclasses.replace(self, **changes)
        new._extra = dict(self._extra)
        return new


def _newer(version: Any) -> bool:
    return isinstance(version, int) and version > CONFIG_VERSION


@dataclass(frozen=True)
class ConfigDiff:
    """What differs between two configs: changed {key: (a, b)}, added {key: b}, removed {key: a}."""

    changed: dict[str, tuple[Any, Any]]
    added: dict[str, Any]
    removed: dict[str, Any]

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    def __getitem__(self, key: str) -> dict[str, Any]:
        """diff["changed"] etc., as the reference's dict result allowed."""
        if key not in ("changed", "added", "removed"):
            raise KeyError(key)
        return dict(getattr(self, key))

    def __str__(self) -> str:
        if not self:
            return "No differences."
        lines = [f"  {k}: {a!r} → {b!r}" for k, (a, b) in self.changed.items()]
        lines += [f"+ {k}: {v!r}" for k, v in self.added.items()]
        lines += [f"- {k}: {v!r}" for k, v in self.removed.items()]
        return "\n".join(lines)


def _as_dict(cfg: TrainingConfig | Mapping[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(cfg, TrainingConfig):
        return {**cfg.extra, **cfg.to_dict()}
    if isinstance(cfg, (str, Path)):
        return _as_dict(TrainingConfig.load(cfg))
    return dict(cfg)


def compare_configs(
    a: TrainingConfig | Mapping[str, Any] | str | Path,
    b: TrainingConfig | Mapping[str, Any] | str | Path,
    *,
    ignore: tuple[str, ...] = ("created_at",),
) -> ConfigDiff:
    """Differences from `a` to `b` (configs, dicts or saved files); `created_at` is ignored by default."""
    da, db = _as_dict(a), _as_dict(b)
    keys_a = [k for k in da if k not in ignore]
    changed = {k: (da[k], db[k]) for k in keys_a if k in db and da[k] != db[k]}
    added = {k: v for k, v in db.items() if k not in da and k not in ignore}
    removed = {k: da[k] for k in keys_a if k not in db}
    return ConfigDiff(changed, added, removed)
