"""GLUE files in the official layouts load for all nine tasks, quotes and "NA" intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbwidgets.training.benchmarks.glue_data import load_hub, load_local
from tbwidgets.training.benchmarks.glue_tasks import TASKS, resolve_tasks, row_name

FIXTURES = Path(__file__).parents[1] / "fixtures" / "glue"


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_loads_from_the_official_layout(name: str) -> None:
    task = TASKS[name]
    data = load_local(task, FIXTURES)
    assert len(data.train) == 16 and all(len(s) == 16 for s in data.dev.values())
    assert data.notes == []
    texts = data.train.text_a + (data.train.text_b or [])
    assert '"Hello," she said, "a good day."' in texts or '"Hello," she said, "a bad day."' in texts
    assert any(t.startswith('"Never closed quote') for t in texts)
    assert "NA" in texts  # the text, not a missing value
    if task.regression:
        assert all(isinstance(y, float) for y in data.train.labels) and max(data.train.labels) <= 5
    else:
        assert set(data.train.labels) <= set(range(len(task.labels))) and len(set(data.train.labels)) > 1
    assert (task.text_b is None) == (data.train.text_b is None)


def test_cola_has_no_header_and_keeps_its_first_row() -> None:
    data = load_local(TASKS["cola"], FIXTURES)
    assert data.train.text_a[0] == "a good film number 0" and data.train.labels[0] == 1


def test_mnli_has_matched_and_mismatched_dev_sets_with_extra_columns() -> None:
    data = load_local(TASKS["mnli"], FIXTURES)
    assert set(data.dev) == {"matched", "mismatched"}
    assert [row_name(TASKS["mnli"], s) for s in data.dev] == ["mnli-m", "mnli-mm"]
    assert data.dev["matched"].labels[:3] == [0, 1, 2]  # gold_label, not label1..label5


def test_rows_without_a_valid_label_are_counted(tmp_path: Path) -> None:
    folder = tmp_path / "RTE"
    folder.mkdir()
    rows = "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\tc\td\t-\n"
    (folder / "train.tsv").write_text(rows)
    (folder / "dev.tsv").write_text(rows)
    data = load_local(TASKS["rte"], tmp_path)
    assert len(data.train) == 1 and "1 rows without a valid label" in data.notes[0]


def test_missing_folder_and_wrong_file_say_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"SST-2/train\.tsv"):
        load_local(TASKS["sst2"], tmp_path)
    (tmp_path / "SST-2").mkdir()
    (tmp_path / "SST-2" / "train.tsv").write_text("text\tlabel\nx\t1\n")
    (tmp_path / "SST-2" / "dev.tsv").write_text("text\tlabel\nx\t1\n")
    with pytest.raises(ValueError, match="no column 'sentence'"):
        load_local(TASKS["sst2"], tmp_path)


def test_task_names() -> None:
    assert [t.name for t in resolve_tasks("SST-2, cola")] == ["sst2", "cola"]
    assert len(resolve_tasks(None)) == 9
    with pytest.raises(ValueError, match="Unknown GLUE task 'sst3'"):
        resolve_tasks("sst3")


def test_hub_offline_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # fails at once instead of retrying the network
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="data_dir="):
        load_hub(TASKS["sst2"])
