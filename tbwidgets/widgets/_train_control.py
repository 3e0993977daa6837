"""The validator's Tier 3 area and its Python control: `.train()`, `.resume()`, `.training_result`.

The Train view (`train_view.TrainView`, ipywidgets + bqplot) sits in a VBox under the shell that is
shown only while the Tier 3 tab is open. The Search section (`search_view.SearchView`) and the
Benchmarks section (`bench_view.BenchView`) follow below it in the same box.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import ipywidgets

from tbwidgets.widgets._areas import tab_box

TRAINING_EXTRA = 'pip install "tbwidgets[training]"'


class Tier3Area:
    """The Tier 3 tab's box; builds the Train view once (it needs bqplot and the training config)."""

    def __init__(self, owner: Any) -> None:
        from tbwidgets.widgets.bench_view import BenchView
        from tbwidgets.widgets.search_view import SearchView
        from tbwidgets.widgets.train_view import TrainView

        self.view = TrainView(owner)
        self.search = SearchView(owner, train_view=self.view)
        self.bench = BenchView(owner)
        self.box = tab_box(owner, "tier3", (self.view.box, self.search.box, self.bench.box))
        if importlib.util.find_spec("lightning") is None:
            note = (
                "<div role='alert' style='color:#b00020'>⚠ Training needs the training extra (Lightning), "
                f"which is not installed. <b>What to do:</b> run <code>{TRAINING_EXTRA}</code> in a new cell, "
                "then restart the runtime (installing into a running kernel can corrupt numpy).</div>"
            )
            self.box.children = (ipywidgets.HTML(note), *self.box.children)


class TrainControlMixin:
    """Adds the Tier 3 Python control to the ValidatorWidget (see its docstring)."""

    _tier3: Tier3Area

    def tier3_area(self, *children: Any) -> Any:
        """A VBox for more Tier 3 widgets (e.g. bqplot figures), visible only while the Tier 3 tab is open.

        Colab breaks `ipywidgets.Tab`, so the tab strip lives in our front end and this box follows
        the synced `active_tab` trait instead; plain VBox/HBox work with ipywidgets 7 and 8.
        """
        return tab_box(self, "tier3", children)

    @property
    def train_view(self) -> Any:
        """The Train view (form, data picker, curves, checkpoints): `w.train_view.curves.figures`, …"""
        return self._tier3.view

    @property
    def training_result(self) -> Any:
        """The TrainingResult of the latest run that did not fail (None before one ended)."""
        return self._tier3.view.result

    def train(self, data: Any = None, config: Any = None, wait: bool = False) -> Any:
        """Train the loaded model in a worker thread: `data` a task name ("copy"), a path, text or a
        dataset (default: the data picker's choice), `config` a TrainingConfig (default: the form).
        With `wait=True`, block until it ended and return the TrainingResult."""
        self._tier3.view.train(data=data, config=config)
        return self.wait_training() if wait else None

    def resume(self, checkpoint: str | None = None, wait: bool = False) -> Any:
        """Continue the stopped run from its newest checkpoint (or `checkpoint`), same data and settings."""
        self._tier3.view.resume(checkpoint)
        return self.wait_training() if wait else None

    def wait_training(self, timeout: float | None = None) -> Any:
        """Block until the current training run ended; return its TrainingResult (None if it failed)."""
        return self._tier3.view.wait(timeout)

    def _stop_training(self) -> None:
        self._tier3.view.stop()
        self._tier3.search.stop()
        self._tier3.bench.stop()

    def _new_model_for_training(self, loaded: Any) -> None:
        """A new model replaces the old one: stop and clear the old run; size the task yardsticks."""
        view = self._tier3.view
        view.reset()
        self._tier3.search.reset()  # a search or benchmark of the old model must not go on
        self._tier3.bench.reset()
        describe = loaded.describe() if loaded is not None else {}
        view.data.set_model(describe.get("vocab_size"), describe.get("max_len"))
