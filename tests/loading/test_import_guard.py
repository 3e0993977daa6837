"""model.py that works at import: refused before it runs, a slow line named, Ctrl-C and Stop end it."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tbwidgets.loading import LoadError, LoadInterrupted, LoadProgress, load_model
from tbwidgets.loading.examples import TB_GIST_DIR
from tbwidgets.loading.import_guard import scan_top_level
from tbwidgets.loading.source import import_code
from tests.loading.fixtures import FIXTURES

HEAD = """\
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 4)

    def forward(self, ids):
        return self.emb(ids) @ self.emb.weight.T

"""


def write(tmp_path: Path, tail: str) -> Path:
    (tmp_path / "model.py").write_text(HEAD + textwrap.dedent(tail))
    return tmp_path


def user_modules() -> set[str]:
    return {n for n in sys.modules if n.startswith("tbwidgets_user_model_")}


@pytest.mark.bad_input
def test_top_level_training_is_refused_before_anything_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    write(tmp_path, f"""\
        open({str(marker)!r}, "w").write("ran")
        model = Net()
        opt = torch.optim.AdamW(model.parameters())
        for step in range(100000):
            loss = model(torch.zeros(1, 3, dtype=torch.long)).sum()
            loss.backward()
            opt.step()
    """)  # fmt: skip
    with pytest.raises(LoadError) as info:
        load_model(tmp_path)
    err = info.value
    assert err.cause.startswith("model.py trains when imported: line 17, `loss.backward()`")
    assert 'if __name__ == "__main__":' in err.fix and not marker.exists()


@pytest.mark.bad_input
def test_training_through_a_helper_names_both_lines(tmp_path: Path) -> None:
    write(tmp_path, """\
        def train(model):
            for _ in range(10):
                trainer.fit(model)

        train(Net())
    """)  # fmt: skip
    with pytest.raises(
        LoadError, match=r"line 16, `train\(Net\(\)\)` \(it calls train\(\), which calls trainer.fit"
    ):
        load_model(tmp_path)


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("tail", "words"),
    [("name = input('vocab size? ')\n", "model.py waits for keyboard input when imported: line 12"),
     ("while True:\n    pass\n", "model.py loops forever when imported: line 12, `while True:`")],
)  # fmt: skip
def test_input_and_endless_loops_are_refused(tmp_path: Path, tail: str, words: str) -> None:
    with pytest.raises(LoadError) as info:
        load_model(write(tmp_path, tail))
    assert info.value.cause.startswith(words)


def test_script_part_under_the_main_guard_is_fine(tmp_path: Path) -> None:
    write(tmp_path, """\
        if __name__ == "__main__":
            while True:
                Net()(input()).sum().backward()
    """)  # fmt: skip
    assert load_model(tmp_path).name == "Net"


def test_healthy_exports_have_no_top_level_work() -> None:
    for path in [TB_GIST_DIR / "model.py", *FIXTURES.glob("*.py")]:
        assert scan_top_level(path.read_text()) == [], path.name


@pytest.mark.bad_input
def test_a_file_read_at_import_is_a_finding_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "vocab.txt").write_text("a b c")
    write(tmp_path, "VOCAB = open(__file__.replace('model.py', 'vocab.txt')).read().split()\n")
    m = load_model(tmp_path)
    notes = [f for f in m.findings if "reads files or data when imported" in f.message]
    assert notes and "line 12: open(" in notes[0].message and notes[0].level == "info"


@pytest.mark.bad_input
def test_a_slow_import_names_the_running_line() -> None:
    code = HEAD + "import time\nfor _ in range(30):\n    time.sleep(0.05)\n"
    notes: list[LoadProgress] = []
    import_code(code, "<gist slow>/model.py", progress=notes.append, slow_s=0.3)
    slow = [n for n in notes if n.stage == "import-slow"]
    assert (
        slow
        and "still running after 0.3 s: model.py line 14 is running: `time.sleep(0.05)`" in slow[0].message
    )
    assert "Ctrl-C (or Stop) ends it" in slow[0].message
    assert (
        "inside the top-level loop at line 13 (`for _ in range(30):`), which runs at import"
        in slow[0].message
    )


@pytest.mark.bad_input
def test_stop_ends_a_running_import_with_the_line(tmp_path: Path) -> None:
    before = user_modules()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    write(tmp_path, "total = 0\nfor i in range(10**10):\n    total += i\n")
    start = time.monotonic()
    with pytest.raises(LoadInterrupted) as info:
        load_model(tmp_path, cancel=stop)
    assert time.monotonic() - start < 5  # the loop alone would run for minutes
    assert info.value.cause.startswith(
        "import of model.py was interrupted at line 1"
    ) and info.value.line in (13, 14)
    assert "(Stop was pressed)" in info.value.cause and user_modules() == before


@pytest.mark.bad_input
def test_ctrl_c_during_the_import_is_a_clean_load_error(tmp_path: Path) -> None:
    # The timer starts from model.py itself, so the "Ctrl-C" surely lands while the import runs.
    write(tmp_path, """\
        import _thread, threading, time
        threading.Timer(0.3, _thread.interrupt_main).start()
        while time.time() > 0:
            time.sleep(0.01)
    """)  # fmt: skip
    with pytest.raises(LoadInterrupted) as info:
        load_model(tmp_path)
    assert info.value.cause.startswith("import of model.py was interrupted at line 1")
    assert "(Ctrl-C)" in info.value.cause
