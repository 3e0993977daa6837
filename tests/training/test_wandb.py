"""W&B offline through WandbLogger: runs without a network, logs on the step axis, never stores the key."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from fit_helpers import tiny_config, tiny_model

from tbwidgets.training.fit import fit

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("wandb") is None, reason="wandb is not installed (pip install wandb)"
)

FAKE_KEY = "local0fakekey" + "7" * 27  # the 40-character shape of a real key


def test_offline_run_logs_and_no_file_holds_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WANDB_API_KEY", FAKE_KEY)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "home" / ".config" / "wandb"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "home" / ".cache"))
    monkeypatch.delenv("WANDB_MODE", raising=False)
    cfg = tiny_config(tmp_path, max_steps=4, wandb_project="tbw-test", notes="offline test")
    result = fit(tiny_model(), "copy", cfg, out_dir=tmp_path / "run")
    out, _ = capfd.readouterr()
    assert out == ""  # no wandb banner on stdout
    assert result.wandb_sync is not None and result.wandb_sync.startswith("wandb sync ")
    run_dir = Path(result.wandb_sync.removeprefix("wandb sync "))
    records = list(run_dir.glob("*.wandb"))
    assert run_dir.is_dir() and records
    blob = records[0].read_bytes()
    assert b"train/loss" in blob and b"val/loss" in blob and b"learning_rate" in blob
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert any(p.name == "config.json" for p in files) and any(p.suffix == ".ckpt" for p in files)
    leaks = [p for p in files if FAKE_KEY.encode() in p.read_bytes()]
    assert leaks == []


def test_online_without_a_key_says_how_to_log_in(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NETRC", str(tmp_path / "home" / ".netrc"))
    cfg = tiny_config(tmp_path, max_steps=4, wandb_project="tbw-test", wandb_mode="online")
    with pytest.raises(RuntimeError, match="wandb login"):
        fit(tiny_model(), "copy", cfg, out_dir=tmp_path / "run")
