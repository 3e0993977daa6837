"""Google Colab's widget stack: installing tbwidgets changes none of it, and the widget works on it.

Builds a venv with Colab's versions (ipywidgets 7.7.1, anywidget 0.9.21, bqplot 0.12.47, traitlets
5.7.1, ipykernel 6.17.1, torch 2.13.0), runs `pip install .`, compares `pip freeze` before and after,
then constructs the widget, runs Tier 1 through the Python control and serialises the widget state,
runs Tier 2 and serialises the attention explorer it builds, and displays the composed view. Then
installs the training extra (Colab's versions stay), builds the Tier 3 area, trains a few steps
through the Python control and serialises the Train view's bqplot curves.
Set TBWIDGETS_COLAB_VENV to a folder to keep the venv between runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.colab, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
COLAB_PINS = {
    "ipywidgets": "7.7.1",
    "anywidget": "0.9.21",
    "bqplot": "0.12.47",
    "traitlets": "5.7.1",
    "ipykernel": "6.17.1",
    "torch": "2.13.0",
}
UNCHANGED = [*COLAB_PINS, "numpy"]

PROBE = """
import json, ipywidgets, IPython.display
from ipywidgets.widgets.widget import _remove_buffers
from tbwidgets import ValidatorWidget

w = ValidatorWidget()  # built-in example; autorun Tier 1 in the worker thread
w.wait(600)
w.run(1, wait=True)  # the Python control, a second time
report = w.report
state = json.loads(json.dumps(w.get_state()))  # what the front end receives, as JSON
w.run(2, wait=True)  # Tier 2 builds the attention explorer under the shell
ex = w.explorer
ex_state, _paths, buffers = _remove_buffers(ex.get_state())  # how ipywidgets 7 sends it
ex_state = json.loads(json.dumps(ex_state))
shown = w._repr_mimebundle_()[0]["application/vnd.jupyter.widget-view+json"]["model_id"]
displayed = []  # what IPython would publish when the cell shows `w` (ipywidgets 7's display hook)
IPython.display.display = lambda data, **kwargs: displayed.append(data)
w._ipython_display_()
manager = json.loads(json.dumps(ipywidgets.Widget.get_manager_state()))
print(json.dumps({
    "ipywidgets": ipywidgets.__version__,
    "repr": repr(w),
    "statuses": [r.status.value for r in report.results],
    "row_statuses": [r["status"] for r in state["tier1"]["rows"]],
    "state_keys": sorted(state),
    "esm_chars": len(state["_esm"]),
    "css_chars": len(state["_css"]),
    "manager_models": len(manager["state"]),
    "explorer": repr(ex),
    "explorer_grid": [ex_state["overview"]["n_layers"], ex_state["overview"]["n_heads"]],
    "explorer_attr": ex_state["attribution"]["state"],
    "explorer_panels": len(ex_state["curves"]["panels"]),
    "explorer_buffers": sum(memoryview(b).nbytes for b in buffers),
    "explorer_esm_chars": len(ex_state["_esm"]),
    "view_children": [c.model_id for c in w.view.children[1].children] == [ex.model_id],
    "view_id": w.view.model_id,
    "shown_id": shown,
    "displayed": displayed,
}))
"""


def _run(cmd: list[str], **kwargs: object) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return str(done.stdout)


def _freeze(python: Path) -> dict[str, str]:
    lines = _run([str(python), "-m", "pip", "freeze", "--all"]).splitlines()
    # "name==version", or "name @ file:///…" for a package built from a folder
    pairs = (line.replace(" @ ", "==", 1).split("==", 1) for line in lines if "==" in line or " @ " in line)
    return {name.strip().lower(): version for name, version in pairs}


@pytest.fixture(scope="module")
def colab_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("TBWIDGETS_COLAB_VENV") or tmp_path_factory.mktemp("colab") / "venv")
    python = folder / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(folder)])
        pins = [f"{name}=={version}" for name, version in COLAB_PINS.items()]
        _run([str(python), "-m", "pip", "install", "-q", *pins], timeout=900)
    return python


def test_install_keeps_colab_versions_and_widget_runs(colab_python: Path) -> None:
    before = _freeze(colab_python)
    for name, version in COLAB_PINS.items():
        assert before[name].split("+")[0] == version, (name, before[name])
    _run([str(colab_python), "-m", "pip", "install", "-q", str(REPO)], timeout=900)
    after = _freeze(colab_python)
    changed = {n: (before.get(n), after.get(n)) for n in UNCHANGED if before.get(n) != after.get(n)}
    assert not changed, f"pip install . changed Colab's packages: {changed}"
    assert "tbwidgets" in after

    out = _run([str(colab_python), "-c", PROBE], timeout=900, cwd=str(colab_python.parent))
    result = json.loads(out.strip().splitlines()[-1])
    assert result["ipywidgets"] == "7.7.1"
    final = {"pass", "warn", "fail", "error", "skipped"}
    assert result["statuses"] and set(result["statuses"]) <= final
    assert result["row_statuses"] == result["statuses"]
    assert {"header", "tier1", "tier2", "results1", "model_info", "active_tab"} <= set(result["state_keys"])
    assert result["esm_chars"] > 1000 and result["css_chars"] > 500  # the bundle ships in the wheel
    assert result["manager_models"] >= 2
    assert "0x" not in result["repr"] and "Tier 1: done" in result["repr"]
    # Tier 2 builds the attention explorer; its state serialises with binary buffers on ipywidgets 7
    assert result["explorer"].startswith("<AttentionExplorer 2 layers × 4 heads")
    assert result["explorer_grid"] == [2, 4] and result["explorer_attr"] == "done"
    assert result["explorer_panels"] == 2 and result["explorer_buffers"] > 1000
    assert result["explorer_esm_chars"] > 1000
    assert result["view_children"] and result["view_id"] and result["shown_id"] == result["view_id"]
    (shown,) = result["displayed"]  # the cell shows the composed box, with the stable repr as text
    assert shown["text/plain"] == result["repr"]
    assert shown["application/vnd.jupyter.widget-view+json"]["model_id"] == result["view_id"]


TRAIN_PROBE = """
import json, tempfile, ipywidgets, bqplot
from ipywidgets.widgets.widget import _remove_buffers
from tbwidgets import ValidatorWidget
from tbwidgets.training import TrainingConfig

w = ValidatorWidget(tab="tier3", autorun=None)  # the built-in example, as training.ipynb opens it
w.wait(600)
config = TrainingConfig(max_steps=6, batch_size=8, val_every_n_steps=3, checkpoint_every_n_steps=3,
                        checkpoint_dir=tempfile.mkdtemp())
result = w.train("copy", config, wait=True)  # the Python control, through the Train view
view = w.train_view
states = []
for widget in [w._tier3.box, view.box, *view.curves.figures, *(line.mark for line in view.curves.lines)]:
    state, _paths, buffers = _remove_buffers(widget.get_state())  # how ipywidgets 7 sends it
    states.append((json.loads(json.dumps(state)), sum(memoryview(b).nbytes for b in buffers)))
loss_state, loss_bytes = states[2 + len(view.curves.figures)]  # the first line: train loss
manager = json.loads(json.dumps(ipywidgets.Widget.get_manager_state()))
print(json.dumps({
    "ipywidgets": ipywidgets.__version__,
    "bqplot": bqplot.__version__,
    "repr": repr(w),
    "steps": [int(r["step"]) for r in view.histories.rows if "loss" in r],
    "result_steps": int(len(result.history)) if result is not None else None,
    "problem": view.status.problem.value,
    "tab": w.active_tab,
    "area_shown": w._tier3.box.layout.display,
    "loss_points": len(view.curves.lines[0].mark.x),
    "line_buffer_bytes": loss_bytes,
    "figure_models": [s["_model_name"] for s, _ in states[2:6]],
    "manager_models": len(manager["state"]),
    "checkpoints": len(view.run.snapshot().checkpoints),
}))
"""


def test_training_extra_keeps_colab_versions_and_tier3_trains(colab_python: Path) -> None:
    before = _freeze(colab_python)
    _run([str(colab_python), "-m", "pip", "install", "-q", f"{REPO}[training]"], timeout=1500)
    after = _freeze(colab_python)
    changed = {n: (before.get(n), after.get(n)) for n in UNCHANGED if before.get(n) != after.get(n)}
    assert not changed, f"pip install .[training] changed Colab's packages: {changed}"
    assert "lightning" in after

    out = _run([str(colab_python), "-c", TRAIN_PROBE], timeout=900, cwd=str(colab_python.parent))
    result = json.loads(out.strip().splitlines()[-1])
    assert result["ipywidgets"] == "7.7.1" and result["bqplot"] == "0.12.47"
    assert result["steps"] == list(range(1, 7)) and result["result_steps"] == 6, result["problem"]
    assert result["tab"] == "tier3" and result["area_shown"] == ""
    assert "Tier 3: Done: step 6 / 6" in result["repr"] and "0x" not in result["repr"]
    assert result["loss_points"] == 6 and result["line_buffer_bytes"] > 0  # arrays travel as buffers
    assert set(result["figure_models"]) == {"FigureModel"}
    assert result["manager_models"] > 20 and result["checkpoints"] >= 2
