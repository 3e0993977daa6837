"""ValidatorWidget: the one-cell notebook UI — model header, tabs per tier, live progress, Stop, exports.

The widget is a listener of Runner events and owns no check logic. Loading and runs happen in a worker
thread; their trait updates go through a Coalescer (≤ 10 messages/s). The front end
(`js/validator.ts`, bundled to `static/validator.js`) draws everything itself because Colab's widget
manager breaks `ipywidgets.Tab`, `Accordion` and `Output`.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import threading
from collections.abc import Sequence
from typing import Any

import anywidget
import ipywidgets
import traitlets

from tbwidgets.core import Check, Report, Runner
from tbwidgets.core.events import Event, RunFinished
from tbwidgets.widgets import _state
from tbwidgets.widgets._areas import ComposedDisplayMixin, Tier2Area
from tbwidgets.widgets._messages import FrontEndMixin
from tbwidgets.widgets._throttle import Coalescer
from tbwidgets.widgets._train_control import Tier3Area, TrainControlMixin
from tbwidgets.widgets._work import TIER_KEYS, Worker, describe_problem, load_source, plan, suite_checks
from tbwidgets.widgets.export import ExportMixin

_STATIC = pathlib.Path(__file__).parent / "static"
_TIER_LABELS = {"tier1": "Tier 1", "tier2": "Tier 2"}
_SERIAL = itertools.count(1)  # names worker threads; never shown to users


class ValidatorWidget(
    ComposedDisplayMixin, FrontEndMixin, ExportMixin, TrainControlMixin, anywidget.AnyWidget
):
    """Validate a transformer in one cell: `ValidatorWidget(gist_id)` or `ValidatorWidget()` (example).

    Sources: `gist_id` (id or URL; default: the `GIST_ID` env var; an empty one is shown as an error),
    `path`, `model` (an nn.Module or LoadedModel) with optional `config`; none means the built-in example. `autorun` is the tier
    run right after loading ("tier1", "tier2", "all" or None). `device` is where checks run (default:
    the model's); `tokenizer` (a Hugging Face tokenizer) turns Tier 2's text into tokens; `update_interval` is the
    shortest time between two syncs to the browser; `tab` is the tab shown first ("model", "tier1",
    "tier2", "tier3").

    Python control: `run(tier_or_checks, wait=False)`, `stop()`, `wait()`, `.report`, `.loaded`,
    `.explorer`, `export_html(path)`, `export_json(path)`; Tier 3: `train(data=..., config=...,
    wait=False)`, `stop()`, `resume()`, `wait_training()`, `.training_result`, `.train_view`.
    Displaying the widget shows `.view`: the shell with the Tier 2 area (the AttentionExplorer of the
    latest Tier 2 run) and the Tier 3 area (the Train view) below it, each visible with its tab.
    """

    _esm = _STATIC / "validator.js"
    _css = _STATIC / "validator.css"

    # Synced traits (mirrored in js/types.ts as `ValidatorModel`). Python writes all of them except
    # `active_tab`, which the front end writes.
    header = traitlets.Dict().tag(sync=True)
    """Load state and model facts: {state: empty|loading|ready|error, message, problem, name, ...}."""
    model_info = traitlets.Dict().tag(sync=True)
    """Model tab: {code, config, findings, missing_packages, install_line, build_note}. Sent once per load."""
    tier1 = traitlets.Dict().tag(sync=True)
    """Tier 1 run: {label, state, message, run_id, progress, counts, rows: [light row per check]}."""
    tier2 = traitlets.Dict().tag(sync=True)
    """Tier 2 run, same shape as `tier1`."""
    results1 = traitlets.Dict().tag(sync=True)
    """Tier 1 details per finished check: {run_id, results: {check_id: {details, metrics, table, error}}}."""
    results2 = traitlets.Dict().tag(sync=True)
    """Tier 2 details, same shape as `results1`."""
    gist_input = traitlets.Unicode("").tag(sync=True)
    """Initial text of the gist box (the gist id given or read from `GIST_ID`)."""
    notice = traitlets.Dict().tag(sync=True)
    """A transient message for the user: {level: info|error, text, seq}."""
    active_tab = traitlets.Unicode("tier1").tag(sync=True)
    """Selected tab (model, tier1, tier2, tier3); written by the front end. The Tier 2 and Tier 3 areas
    under the shell follow it."""

    def __init__(
        self,
        gist_id: str | None = None,
        *,
        model: Any = None,
        config: Any = None,
        path: str | os.PathLike[str] | None = None,
        revision: str | None = None,
        task: str | None = None,
        autorun: str | int | None = "tier1",
        device: str | None = None,
        tokenizer: Any = None,
        update_interval: float = 0.1,
        tab: str = "tier1",
    ) -> None:
        super().__init__()
        if tab not in ("model", "tier1", "tier2", "tier3"):
            raise ValueError(f"Unknown tab {tab!r}: use 'model', 'tier1', 'tier2' or 'tier3'.")
        self.active_tab = tab
        # 0.1 s between syncs: ≤ 10 messages/s keeps the server far below its 1000 msg/s drop limit
        self._sync = Coalescer(self._apply_traits, interval=update_interval)
        self._lock = threading.RLock()  # guards boards, loaded, runner, reports
        self._worker = Worker(f"tbwidgets-validator-{next(_SERIAL)}")
        self._boards = {key: _state.TierBoard(key, _TIER_LABELS[key]) for key in TIER_KEYS}
        self._loaded: Any = None
        self._runner: Runner | None = None
        self._reports: dict[str, Report] = {}
        self._last_report: Report | None = None
        self._notice_seq = 0
        self._header: dict[str, Any] = {"state": "empty"}
        self.device = device
        self.tokenizer = tokenizer  # Tier 2 reads its sample text through it
        self.on_msg(self._on_front_end_msg)
        self._tier2_area = Tier2Area(self)  # before the first job: loading clears it
        self._tier3 = Tier3Area(self)
        boxes = [self, self._tier2_area.box, self._tier3.box]
        self._view = ipywidgets.VBox(boxes, layout=ipywidgets.Layout(width="100%"))
        for key in TIER_KEYS:
            self._show_registered(key)
        if gist_id is None and model is None and path is None:
            # only an absent gist_id falls back to $GIST_ID; an empty one given is shown as the error it is
            gist_id = os.environ.get("GIST_ID") or None
        self.gist_input = gist_id or ""
        self._source_given = any(v is not None for v in (gist_id, model, path))
        source = {"source": model, "gist_id": gist_id, "path": path, "config": config}
        self.load(dict(source, revision=revision, task=task, device=device), autorun=autorun)

    # -- Python control -----------------------------------------------------------------------------
    @property
    def loaded(self) -> Any:
        """The `LoadedModel` (None until loading finished, or when it failed)."""
        with self._lock:
            return self._loaded

    @property
    def report(self) -> Report | None:
        """The latest finished run's Report."""
        with self._lock:
            return self._last_report

    @property
    def explorer(self) -> Any:
        """The AttentionExplorer of the latest Tier 2 run (None until Tier 2 ran with attention maps)."""
        return self._tier2_area.explorer

    @property
    def view(self) -> Any:
        """What the notebook shows: VBox([this shell, the Tier 2 area]); the area follows the tab."""
        return self._view

    @property
    def busy(self) -> bool:
        """True while loading or running."""
        return self._worker.busy

    def load(self, source: dict[str, Any], *, autorun: str | int | None = None) -> None:
        """Load a model in the worker thread (keys of `load_model`), then run `autorun` if given."""
        self._set_header({"state": "loading", "message": _state.loading_message(source)})
        self._sync.set("notice", {})  # an old "Saved …" line would describe the previous model
        self._worker.submit(lambda: self._load_job(source))
        if autorun:
            self.run(autorun)

    def run(self, tier_or_checks: int | str | Sequence[str | Check] = "tier1", wait: bool = False) -> None:
        """Run a tier (1, 2, "tier1", "all") or a list of check ids/instances in the worker thread."""
        steps = plan(tier_or_checks)
        for key, _checks in steps:
            with self._lock:
                self._boards[key].set_state(_state.RUNNING, "Waiting to start…")
            self._push_board(key)
        self._worker.submit(lambda: self._run_job(steps))
        if wait:
            self.wait()

    def stop(self) -> None:
        """Stop the current run at its next check step (queued runs are dropped) and any training run
        after its current optimizer step (it writes a resumable checkpoint)."""
        self._stop_training()
        self._worker.stop()
        with self._lock:
            runner = self._runner
            for key, board in self._boards.items():
                if board.state == _state.RUNNING:
                    board.set_state(_state.STOPPING, "Stopping after the current step…")
                    self._push_board(key)
        if runner is not None:
            runner.cancel()

    def wait(self, timeout: float | None = None) -> Report | None:
        """Block until loading and runs finished; settle the traits; return the latest report."""
        self._worker.join(timeout)
        self._sync.flush()
        return self.report

    # -- jobs (worker thread) -----------------------------------------------------------------------
    def _load_job(self, source: dict[str, Any]) -> None:
        self._set_header(
            {"state": "loading", "message": _state.loading_message(source)}
        )  # an earlier job may have ended
        try:
            loaded = load_source(source, cancel=self._worker.stop_event, note=self._loading_note)
        except Exception as exc:  # noqa: BLE001 - shown in the widget; the input stays usable
            problem = describe_problem(exc)
            with self._lock:
                self._loaded = None
            self._tier2_area.clear()
            self._new_model_for_training(None)
            self._worker.stop()  # queued runs need a model
            for key in TIER_KEYS:  # results of the previous model must not look like this one's
                self._show_registered(
                    key, "No model loaded: fix the problem above and load again.", force=True
                )
            self._set_header({"state": "error", "message": "", "problem": problem.to_dict()})
            return
        with self._lock:
            self._loaded = loaded
            self._reports.clear()
        self._tier2_area.clear()  # its maps belong to the previous model
        self._new_model_for_training(loaded)  # stops and clears a run on the previous model
        describe = loaded.describe()
        missing = list(loaded.missing_packages)
        header = _state.header_view(describe, missing)
        self._set_header({"state": "ready", "message": "", **header})
        self._sync.set("model_info", _state.model_info(loaded, describe, missing))
        for key in TIER_KEYS:
            self._show_registered(key)

    def _loading_note(self, text: str) -> None:
        self._set_header({"state": "loading", "message": text})

    def _run_job(self, steps: list[tuple[str, list[Check] | None]]) -> None:
        for index, (key, checks) in enumerate(steps):
            if self._worker.stop_event.is_set():
                for later, _ in steps[index:]:
                    self._board_idle_if_waiting(later, "Not run: stopped.")
                return
            self._run_tier(key, checks)

    def _run_tier(self, key: str, checks: list[Check] | None) -> None:
        loaded = self.loaded
        if loaded is None:
            self._board_idle_if_waiting(key, "No model loaded: load one above first.")
            return
        try:
            selected = checks if checks is not None else suite_checks(key, self.tokenizer)
            runner = Runner(loaded, selected, device=self.device, listeners=[self._listener(key)])
            with self._lock:
                self._runner = runner
            if self._worker.stop_event.is_set():
                runner.cancel()
            report = runner.run()
            if key == "tier2":  # in this worker thread: see Tier2Area for why that is safe
                trouble = self._tier2_area.show(report, loaded)
                if trouble:
                    self._notify(trouble, "error")
        except Exception as exc:  # noqa: BLE001 - the widget must stay usable after any failure
            problem = describe_problem(exc)
            with self._lock:
                self._boards[key].set_state(_state.FAILED, f"{problem.cause} — {problem.fix}")
            self._push_board(key)
        finally:
            with self._lock:
                self._runner = None

    def _listener(self, key: str) -> Any:
        def on_event(event: Event) -> None:
            with self._lock:
                changed = self._boards[key].apply(event)
                if isinstance(event, RunFinished):
                    self._reports[key] = event.report
                    self._last_report = event.report
            self._push_board(key, results="results" in changed)

        return on_event

    # -- state → traits -----------------------------------------------------------------------------
    def _show_registered(self, key: str, message: str = "", force: bool = False) -> None:
        try:
            checks = suite_checks(key, self.tokenizer)
            message = message or ("" if checks else "No checks are registered for this tier yet.")
        except Exception as exc:  # noqa: BLE001 - a broken check module must not break the widget
            checks, message = [], f"Could not list the checks: {describe_problem(exc).cause}"
        with self._lock:
            board = self._boards[key]
            board.show_registered([c.check_id for c in checks], [c.title for c in checks], message, force)
        self._push_board(key, results=True)

    def _board_idle_if_waiting(self, key: str, message: str) -> None:
        with self._lock:
            board = self._boards[key]
            if board.state in (_state.RUNNING, _state.STOPPING):
                board.set_state(_state.STOPPED if self._worker.stop_event.is_set() else _state.IDLE, message)
        self._push_board(key)

    def _push_board(self, key: str, results: bool = False) -> None:
        with self._lock:
            board = self._boards[key]
            self._sync.set(key, board.view())
            if results:
                self._sync.set("results" + key[-1], board.results_view())

    def _set_header(self, value: dict[str, Any]) -> None:
        with self._lock:
            self._header = value  # what __repr__ reads: traits lag behind by one coalescing interval
            self._sync.set("header", value)

    def _apply_traits(self, values: dict[str, Any]) -> None:
        with self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)

    # -- text ---------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        if not hasattr(self, "_boards"):  # repr during construction (e.g. in a traitlets error)
            return "<ValidatorWidget (initialising)>"
        with self._lock:
            header = dict(self._header)
            tiers = "; ".join(_state.tier_text(board.view()) for board in self._boards.values())
        tiers += f"; Tier 3: {self._tier3.view.text()}"
        state = header.get("state", "empty")
        model = header.get("name") if state == "ready" else state
        source = header.get("source", {}).get("label", "") if state == "ready" else ""
        where = f" from {source}" if source else ""
        return f"<ValidatorWidget {model}{where} | {tiers}>"
