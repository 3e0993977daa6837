"""TrainingConfig: every problem reported at once, form metadata, save/load without secrets, compare.

(Named test_train_config.py: tests/loading/test_config.py already owns the basename.)
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pytest

from tbwidgets.training.config import CONFIG_VERSION, TrainingConfig, compare_configs


def test_defaults_are_valid_on_cpu() -> None:
    cfg = TrainingConfig()
    assert cfg.problems(cuda_available=False) == []
    assert cfg.validate(cuda_available=False) is cfg
    assert cfg.wandb_mode == "offline"
    assert cfg.config_version == CONFIG_VERSION
    assert cfg.created_at.endswith("+00:00")


def test_every_field_has_a_default_help_and_level() -> None:
    for f in dataclasses.fields(TrainingConfig):
        assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING, f.name
        assert f.metadata["help"], f.name
        assert f.metadata["level"] in ("essential", "advanced"), f.name
        assert f.metadata["essential"] == (f.metadata["level"] == "essential")
    info = {row["name"]: row for row in TrainingConfig.fields_info()}
    assert info["precision"]["choices"] == ("32", "bf16-mixed", "16-mixed")
    assert info["learning_rate"]["essential"] and not info["keep_last"]["essential"]


def test_validate_lists_every_problem_in_one_error() -> None:
    cfg = TrainingConfig(
        learning_rate=-1.0,
        batch_size=0,
        max_steps=None,
        epochs=None,
        warmup_ratio=1.5,
        precision="fp8",
        accelerator="tpu",
        devices=0,
        validation_split=1.0,
        wandb_mode="sometimes",
        keep_last=-1,
    )
    with pytest.raises(ValueError) as err:
        cfg.validate(cuda_available=False)
    text = str(err.value)
    for name in (
        "learning_rate",
        "batch_size",
        "max_steps",
        "warmup_ratio",
        "precision",
        "accelerator",
        "devices",
        "validation_split",
        "wandb_mode",
        "keep_last",
    ):
        assert f"- {name}:" in text, name
    assert text.startswith(f"TrainingConfig has {len(cfg.problems(cuda_available=False))} problem(s)")


def test_cross_field_problems() -> None:
    fp16_cpu = TrainingConfig(precision="16-mixed", accelerator="cpu")
    assert any(p.startswith("precision:") and "CUDA" in p for p in fp16_cpu.problems())
    assert TrainingConfig(precision="16-mixed", accelerator="auto").problems(cuda_available=True) == []
    assert TrainingConfig(precision="bf16-mixed", accelerator="cpu").problems() == []
    warm = TrainingConfig(
        max_steps=1, warmup_ratio=0.9, val_every_n_steps=None, checkpoint_every_n_steps=None
    )
    assert [f for f, _ in warm.problems_by_field(cuda_available=False)] == ["warmup_ratio"]
    big = TrainingConfig(batch_size=16, gradient_accumulation_steps=8)
    assert big.problems(cuda_available=False) == []
    fields = [f for f, _ in big.problems_by_field(n_train=100, cuda_available=False)]
    assert fields == ["gradient_accumulation_steps"]
    assert [f for f, _ in big.problems_by_field(n_train=10, cuda_available=False)] == ["batch_size"]
    never = TrainingConfig(
        max_steps=20, val_every_n_steps=50, early_stopping_patience=3, validation_split=0.0
    )
    assert {f for f, _ in never.problems_by_field(cuda_available=False)} == {"early_stopping_patience"}
    # validation also runs at the last step, so a run shorter than val_every still validates once
    assert TrainingConfig(max_steps=20).problems(cuda_available=False) == []


def test_epochs_alone_or_with_steps_is_fine() -> None:
    assert TrainingConfig(max_steps=None, epochs=3).problems(cuda_available=False) == []
    assert TrainingConfig(max_steps=100, epochs=3).problems(cuda_available=False) == []
    assert TrainingConfig(max_steps=None, epochs=3).warmup_steps == 0
    assert TrainingConfig(max_steps=200, warmup_ratio=0.05).warmup_steps == 10


def test_save_load_round_trip(tmp_path: Path) -> None:
    cfg = TrainingConfig(learning_rate=3e-4, max_steps=None, epochs=2, devices="auto", notes="baseline")
    path = cfg.save(tmp_path / "sub" / "cfg.json")
    back = TrainingConfig.load(path)
    assert back == cfg
    assert not compare_configs(cfg, back, ignore=())


def test_missing_keys_get_defaults(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"learning_rate": 0.01}))
    cfg = TrainingConfig.load(path)
    assert cfg.learning_rate == 0.01 and cfg.batch_size == TrainingConfig().batch_size


def test_newer_keys_are_kept_warned_about_and_written_back(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    path.write_text(json.dumps({**TrainingConfig().to_dict(), "config_version": 99, "lora_rank": 8}))
    with pytest.warns(UserWarning, match=r"lora_rank.*newer tbwidgets \(config version 99\)"):
        cfg = TrainingConfig.load(path)
    assert cfg.extra == {"lora_rank": 8}
    cfg.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["lora_rank"] == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing unknown: nothing to warn about
        TrainingConfig.from_dict(TrainingConfig().to_dict())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("notes", "my key is 0123456789abcdef0123456789abcdef01234567"),  # W&B key shape
        ("notes", "token ghp_" + "A" * 36),
        ("wandb_run_name", "hf_" + "b" * 34),
        ("notes", "api_key=supersecretvalue"),
    ],
)
def test_secret_values_are_refused_and_never_written(tmp_path: Path, field: str, value: str) -> None:
    cfg = TrainingConfig(**{field: value})
    assert any(p.startswith(f"{field}:") for p in cfg.problems(cuda_available=False))
    path = tmp_path / "cfg.json"
    with pytest.raises(ValueError, match=field) as err:
        cfg.save(path)
    assert value not in str(err.value)  # the message names the field, never echoes the secret
    assert not path.exists()


def test_environment_secret_in_any_field_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "plain-looking-but-secret-value"
    monkeypatch.setenv("WANDB_API_KEY", secret)
    cfg = TrainingConfig(wandb_project=f"proj-{secret}")
    with pytest.raises(ValueError, match="wandb_project"):
        cfg.save(tmp_path / "c.json")
    monkeypatch.delenv("WANDB_API_KEY")
    cfg.save(tmp_path / "c.json")  # the same text is fine when it is no one's key
    assert secret in (tmp_path / "c.json").read_text()


def test_saved_file_holds_only_known_fields(tmp_path: Path) -> None:
    cfg = TrainingConfig()
    cfg.api_key = "sk-" + "x" * 40  # type: ignore[attr-defined]  # a user sticking a key onto the object
    path = cfg.save(tmp_path / "c.json")
    text = path.read_text()
    assert "sk-" not in text and "api_key" not in text
    assert set(json.loads(text)) == {f.name for f in dataclasses.fields(TrainingConfig)}


def test_newer_key_with_secret_name_is_not_written_back(tmp_path: Path) -> None:
    with pytest.warns(UserWarning):
        cfg = TrainingConfig.from_dict({"config_version": 2, "hub_token": "abc"})
    with pytest.raises(ValueError, match="hub_token"):
        cfg.save(tmp_path / "c.json")


def test_load_reports_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON config"):
        TrainingConfig.load(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON list"):
        TrainingConfig.load(bad)


def test_compare_configs_changed_added_removed(tmp_path: Path) -> None:
    a = TrainingConfig(learning_rate=1e-3, notes="a")
    b = a.replace(learning_rate=3e-4, batch_size=64)
    diff = compare_configs(a, b)
    assert diff.changed == {"learning_rate": (1e-3, 3e-4), "batch_size": (32, 64)}
    assert not diff.added and not diff.removed
    assert "learning_rate: 0.001 → 0.0003" in str(diff)
    a.save(tmp_path / "a.json")
    diff2 = compare_configs(tmp_path / "a.json", {**a.to_dict(), "lora_rank": 4, "notes": "b"})
    assert diff2.added == {"lora_rank": 4} and diff2.changed == {"notes": ("a", "b")}
    old = {k: v for k, v in a.to_dict().items() if k != "compile"}
    diff3 = compare_configs(a, old)
    assert diff3.removed == {"compile": False}
    assert "- compile: False" in str(diff3) and "+ lora_rank: 4" in str(diff2)
    assert str(compare_configs(a, a.replace())) == "No differences."
    assert "created_at" in compare_configs(a, TrainingConfig(created_at="x"), ignore=()).changed
