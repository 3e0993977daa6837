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


# nyu-mll/glue's ClassLabel names where the TSV files hold words (the others hold 0/1 or a float score)
HUB_LABEL_NAMES = {
    "mnli": ["entailment", "neutral", "contradiction"],
    "qnli": ["entailment", "not_entailment"],
    "rte": ["entailment", "not_entailment"],
}


def _hub_rows(name: str, file: str) -> dict[str, list[object]]:
    """One split as nyu-mll/glue serves it, made from the raw TSV: Hub column names, Hub label ids."""
    from tbwidgets.training.benchmarks.glue_data import read_tsv

    task = TASKS[name]
    frame = read_tsv(FIXTURES / task.folder / file, task.header, task.columns if not task.header else ())
    raw = [v.strip() for v in frame[task.label]]
    keep = [
        i for i, v in enumerate(raw) if v in (HUB_LABEL_NAMES.get(name) or task.labels) or task.regression
    ]
    if name in HUB_LABEL_NAMES:
        labels: list[object] = [HUB_LABEL_NAMES[name].index(raw[i]) for i in keep]
    else:
        labels = [float(raw[i]) if task.regression else int(raw[i]) for i in keep]
    rows: dict[str, list[object]] = {task.hub_a: [frame[task.text_a][i] for i in keep], "label": labels}
    if task.hub_b and task.text_b:
        rows[task.hub_b] = [frame[task.text_b][i] for i in keep]
    rows["idx"] = list(range(len(keep)))
    return rows


class FakeDatasets:
    """Stands in for the `datasets` package: `load_dataset("nyu-mll/glue", task)` from the fixtures."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def load_dataset(self, path: str, name: str) -> dict[str, dict[str, list[object]]]:
        self.calls.append((path, name))
        task = TASKS[name]
        dev_names = task.hub_dev  # "validation", or MNLI's validation_matched / validation_mismatched
        splits = {"train": _hub_rows(name, "train.tsv")}
        for hub_name, (_, file) in zip(dev_names, task.dev_files, strict=True):
            splits[hub_name] = _hub_rows(name, file)
        splits["test"] = {**splits["train"], "label": [-1] * len(splits["train"]["label"])}  # unlabelled
        return splits


@pytest.mark.parametrize("name", list(TASKS))
def test_the_hub_path_gives_the_same_examples_and_label_ids_as_the_files(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    fake = FakeDatasets()
    monkeypatch.setitem(sys.modules, "datasets", fake)
    hub, files = load_hub(TASKS[name]), load_local(TASKS[name], FIXTURES)
    assert fake.calls == [("nyu-mll/glue", name)] and hub.origin == "nyu-mll/glue"
    assert list(hub.dev) == list(files.dev)  # "dev", or MNLI's "matched" and "mismatched"
    for got, want in [(hub.train, files.train), *((hub.dev[s], files.dev[s]) for s in files.dev)]:
        assert got.text_a == want.text_a and got.text_b == want.text_b
        assert got.labels == want.labels  # same ids: F1's positive class and MCC's sign agree
