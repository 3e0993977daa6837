"""The reference guide's TrainingConfig code runs unchanged on the compat class (tbwidgets._compat_config)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tbwidgets._compat_config import TrainingConfig, compare_configs
from tbwidgets.training import config as ours
from tbwidgets.training.seed import set_random_seed


def test_reference_guide_snippet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = TrainingConfig(
        learning_rate=5e-5,
        batch_size=4,
        epochs=10,
        vocab_size=50257,
        d_model=768,
        num_layers=12,
        random_seed=42,
        deterministic=False,
        wandb_project="transformer-training",
        run_name="baseline-exp",
        notes="Baseline configuration",
    )
    config.validate(cuda_available=False)
    assert isinstance(config, ours.TrainingConfig)
    assert config.wandb_run_name == "baseline-exp" and config.epochs == 10 and config.max_steps is None
    assert config.extra == {"vocab_size": 50257, "d_model": 768, "num_layers": 12}
    path = config.save()
    assert path.name.startswith("config_") and path.parent == Path(".")
    assert json.loads((tmp_path / path).read_text())["vocab_size"] == 50257
    set_random_seed(config.random_seed, config.deterministic)
    loaded = TrainingConfig.load(path)
    assert loaded == config and loaded.extra == config.extra
    v2 = loaded.replace(learning_rate=1e-4, batch_size=8, wandb_run_name="other")
    diff = compare_configs(config, v2)
    assert diff["changed"] == {"learning_rate": (5e-5, 1e-4), "batch_size": (4, 8)}
    assert "learning_rate: 5e-05 → 0.0001" in str(diff)
    assert os.getcwd() == str(tmp_path)


def test_reference_names_are_translated() -> None:
    cfg = TrainingConfig(
        use_amp=True, accumulate_grad_batches=4, compile_mode="max-autotune", keep_best_only=True
    )
    assert (cfg.precision, cfg.gradient_accumulation_steps, cfg.compile) == ("bf16-mixed", 4, True)
    assert (cfg.keep_last, cfg.keep_best) == (0, 1)
    assert TrainingConfig(use_amp=False).precision == "32"
    assert TrainingConfig(max_seq_len=64).seq_len == 64
    assert TrainingConfig().max_steps == ours.TrainingConfig().max_steps  # nothing said: our defaults


def test_a_reference_file_loads_without_warnings(tmp_path: Path) -> None:
    ref = {
        "learning_rate": 5e-5,
        "epochs": 3,
        "use_amp": True,
        "config_version": "1.0",
        "dataset_name": "wikitext",
    }
    (tmp_path / "ref.json").write_text(json.dumps(ref))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = TrainingConfig.load(tmp_path / "ref.json")
    assert cfg.config_version == ours.CONFIG_VERSION and cfg.extra == {"dataset_name": "wikitext"}
    assert cfg.precision == "bf16-mixed" and cfg.max_steps is None


def test_misspelled_field_is_a_type_error_naming_the_fields() -> None:
    with pytest.raises(TypeError, match=r"no field\(s\) \['learnig_rate'\].*learning_rate"):
        TrainingConfig(learnig_rate=1e-3)


def test_secrets_are_refused_in_compat_configs_too(tmp_path: Path) -> None:
    cfg = TrainingConfig(notes="key " + "ab12" * 10)
    with pytest.raises(ValueError, match="notes"):
        cfg.save(tmp_path / "c.json")
