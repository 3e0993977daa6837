"""Bad inputs to `train`, `search`, `search-worker` and `bench`: a cause and a fix, at once, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbwidgets.cli.main import main

pytestmark = pytest.mark.bad_input
GLUE = Path(__file__).parents[1] / "fixtures" / "glue"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a Hub lookup would fail at once, not retry
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "--example", "--data", "notes.txt"], "No file or folder 'notes.txt'"),
        (["train", "--example", "--data", "./corpus"], "No file or folder './corpus'"),
        (["train", "--example", "--json", "out/r.json"], "the folder"),
        (["search", "--example", "--json", "out/s.json"], "the folder"),
        (["search", "--example", "--storage", "bogus://x", "--n-trials", "1"], "cannot be opened"),
        (["search-worker", "--storage", "sqlite:///nope.db", "--study", "s"], "No study storage at nope.db"),
        (["search-worker", "--storage", "nope.log", "--study", "s"], "No study storage at"),
        (["bench", "glue", "--example", "--data-dir", str(GLUE), "--json", "out/b.json"], "the folder"),
    ],
)
def test_tier3_commands_explain_bad_input_before_any_work(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*args, "--max-steps", "2"] if args[0] == "train" else args)
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err, err
    assert "Error:" not in err.split("error:", 1)[-1][:40]  # our message, not an exception's class name
    assert not list(tmp_path.iterdir())  # no run folder, no empty database, no report


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_trial_counts_below_one_are_usage_errors(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["search", "--example", "--n-trials", value])
    assert stop.value.code == 2 and "takes a whole number of 1 or more" in capsys.readouterr().err


def test_search_refuses_a_negative_trial_count() -> None:
    from tbwidgets.training.hpo import search

    with pytest.raises(ValueError, match="n_trials=-1: give 1 or more"):
        search(None, "copy", n_trials=-1)
