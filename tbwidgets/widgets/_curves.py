"""Streaming training curves: bqplot figures on one step axis, fed from `Histories` by a ≤ 4 Hz timer.

The training thread never touches a widget: it only appends to the histories. `CurveTimer` wakes at
most `1 / interval` times a second, and for each series whose history changed enough it reassigns
`x` and `y` inside `hold_sync()` (one comm message per line). Arrays are float32 and min/max
bucketed (≤ ~2,000 points), so an update costs the same at step 100 and at step 100,000.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bqplot as bq
import ipywidgets
import numpy as np

from tbwidgets.widgets._history import Histories

# (figure title, y label, [(series key, legend label, colour)]); every x is the optimizer step
# the titles name the colours: a legend box would sit on top of the curve it explains
PANELS: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (
        "Loss: train, validation (red dots)",
        "loss",
        [("loss", "train", "#1f77b4"), ("val_loss", "validation", "#d62728")],
    ),
    (
        "Token accuracy: train, validation (dots)",
        "accuracy",
        [("accuracy", "train", "#1f77b4"), ("val_accuracy", "validation", "#d62728")],
    ),
    ("Learning rate", "lr", [("lr", "learning rate", "#2ca02c")]),
    ("Gradient norm (before clipping)", "grad norm", [("grad_norm", "gradient norm", "#9467bd")]),
]
TICK_FORMATS = {"lr": ".1e"}  # 0.000519 in ".3g" is too wide for the margin
# never negative: the axis starts at 0 exactly (bqplot pads a scale's domain for its markers by
# default, which printed "-4.7e-5" under the learning rate)
FROM_ZERO = {"lr", "grad norm"}
SPARSE = {"val_loss", "val_accuracy"}  # a point every few hundred steps: draw markers too
HOVER_DOTS = 40  # enough to read values anywhere on the curve, few enough to cost nothing
DOTS_EVERY_S = 5.0  # the hover points may lag the line this much; saves messages and bytes


# bqplot 0.13 places an axis by `side` alone; 0.12 (Colab) also wants `orientation`
_VERTICAL = {
    "side": "left",
    **({"orientation": "vertical"} if "orientation" in bq.Axis.class_trait_names() else {}),
}


@dataclass
class _Line:
    key: str
    mark: Any
    dots: Any = None  # the figure's hover points (first series only): Lines carry no per-point tooltip
    sent_version: int = -1
    sent_points: int = 0
    dots_at: float = 0.0


class Curves:
    """The four figures (loss with a log-scale toggle, accuracy, learning rate, gradient norm)."""

    def __init__(self, histories: Histories) -> None:
        self.histories = histories
        self.x_scale = bq.LinearScale()  # shared: zooming one figure's step range moves them all
        self.lines: list[_Line] = []
        self.figures: list[Any] = []
        self._loss_marks: list[Any] = []
        self._ticks: list[int] = []
        for title, ylabel, series in PANELS:
            self.figures.append(self._figure(title, ylabel, series))
        self.log_toggle = ipywidgets.ToggleButton(
            value=False, description="Log-scale loss", tooltip="Show the loss on a logarithmic axis"
        )
        self.log_toggle.observe(lambda change: self.set_log(bool(change["new"])), names="value")
        grid = [ipywidgets.HBox(self.figures[i : i + 2]) for i in (0, 2)]
        self.box = ipywidgets.VBox([ipywidgets.HBox([self.log_toggle]), *grid])
        self.box.layout.display = "none"  # empty axes say nothing: shown with the first points

    def _figure(self, title: str, ylabel: str, series: list[tuple[str, str, str]]) -> Any:
        y_scale = bq.LinearScale(min=0.0, allow_padding=False) if ylabel in FROM_ZERO else bq.LinearScale()
        marks = []
        dots = bq.Scatter(
            x=np.zeros(0, np.float32),
            y=np.zeros(0, np.float32),
            scales={"x": self.x_scale, "y": y_scale},
            colors=[series[0][2]],
            default_size=14,
            opacities=[0.5],  # one value: every point (0.12 and 0.13 both read it so)
            tooltip=bq.Tooltip(fields=["x", "y"], labels=["step", ylabel], formats=[".0f", ".4g"]),
        )
        for key, label, colour in series:
            mark = bq.Lines(
                x=np.zeros(0, np.float32),
                y=np.zeros(0, np.float32),
                scales={"x": self.x_scale, "y": y_scale},
                colors=[colour],
                labels=[label],
                marker="circle" if key in SPARSE else None,
                marker_size=28,
                stroke_width=1.5,
            )
            marks.append(mark)
            self.lines.append(_Line(key, mark, dots if not marks[:-1] else None))
        marks.append(dots)
        if ylabel == "loss":
            self._loss_marks = marks
        axes = [
            bq.Axis(scale=self.x_scale, label="optimizer step", tick_format="d", num_ticks=5),
            bq.Axis(
                scale=y_scale,
                label=ylabel,
                tick_format=TICK_FORMATS.get(ylabel, ".3g"),
                num_ticks=5,
                label_offset="52px",
                **_VERTICAL,
            ),
        ]
        layout = ipywidgets.Layout(width="50%", min_width="280px", height="240px")
        margin = {"top": 40, "bottom": 40, "left": 66, "right": 15}  # the top tick label clears the title
        style = {"font-size": "13px"}
        return bq.Figure(
            marks=marks, axes=axes, title=title, layout=layout, fig_margin=margin, title_style=style
        )

    def set_log(self, log: bool) -> None:
        """Swap the loss figure's y scale (a LogScale needs positive values: losses are)."""
        scale = bq.LogScale() if log else bq.LinearScale()
        figure = self.figures[0]
        with figure.hold_sync():
            for mark in self._loss_marks:
                mark.scales = {"x": self.x_scale, "y": scale}
            figure.axes[1].scale = scale

    def push(self, min_growth: float = 0.0, force: bool = False) -> int:
        """Send every changed series; returns the number of lines sent (comm messages).

        `min_growth` holds a series back until it gained that fraction of new points since its last
        send (a byte budget for long runs); `force` sends every changed series (the end of a run).
        """
        sent = 0
        if self.box.layout.display == "none" and any(self.histories.series(k.key).count for k in self.lines):
            self.box.layout.display = ""
            sent += 1
        for line in self.lines:
            hist = self.histories.series(line.key)
            if hist.version == line.sent_version:
                continue
            grown = hist.count - line.sent_points
            if not force and line.sent_points and grown < min_growth * line.sent_points:
                continue
            version, count = hist.version, hist.count
            xs, ys = hist.arrays()
            with line.mark.hold_sync():
                line.mark.x, line.mark.y = xs, ys
            line.sent_version, line.sent_points = version, count
            sent += 1
            if line.dots is not None and (force or time.monotonic() - line.dots_at >= DOTS_EVERY_S):
                sent += _send_dots(line, xs, ys)
        return sent + (self._step_ticks() if sent else 0)  # the ticks move with the data they label

    def _step_ticks(self) -> int:
        """Whole, round step ticks on the shared step axis; sent only when they change."""
        last = self.histories.last_step
        ticks = step_ticks(0, last) if last else []
        if not ticks or ticks == self._ticks:
            return 0
        self._ticks = ticks
        for figure in self.figures:
            figure.axes[0].tick_values = ticks
        return len(self.figures)

    def reset_sent(self) -> None:
        """After the histories were cleared or truncated: the next push resends every series."""
        self._ticks = []
        if not any(self.histories.series(k.key).count for k in self.lines):
            self.box.layout.display = "none"
        for line in self.lines:
            line.sent_version, line.sent_points, line.dots_at = -1, 0, 0.0


def step_ticks(lo: float, hi: float, most: int = 6) -> list[int]:
    """Whole-step ticks 1, 2 or 5 × 10^k apart, at most `most` gaps (0 20 40 60, not 0 15 31 46 61)."""
    raw = max((hi - lo) / most, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))
    return list(range(math.ceil(lo / step) * step, int(hi) + 1, step))


def _send_dots(line: _Line, xs: np.ndarray, ys: np.ndarray) -> int:
    """Up to `HOVER_DOTS` evenly spaced points (and always the newest) carry the step/value tooltip."""
    if len(xs) > HOVER_DOTS:
        pick = np.unique(np.linspace(0, len(xs) - 1, HOVER_DOTS).round().astype(int))
        xs, ys = xs[pick], ys[pick]
    with line.dots.hold_sync():
        line.dots.x, line.dots.y = xs, ys
    line.dots_at = time.monotonic()
    return 1


class CurveTimer:
    """Calls `tick()` at most once per `interval` seconds in a daemon thread until `stop()`.

    `tick` runs one last time after `stop()`, so the figures show the final step.
    """

    def __init__(
        self, tick: Callable[[bool], None], interval: float = 0.25, name: str = "tbwidgets-curves"
    ) -> None:
        self.interval = interval  # 0.25 s: at most 4 updates a second
        self._tick = tick
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.ticks = 0

    def start(self) -> CurveTimer:
        self._thread.start()
        return self

    def stop(self, wait: bool = True) -> None:
        self._done.set()
        if wait and self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._done.wait(self.interval):
            self._run(False)
        self._run(True)

    def _run(self, final: bool) -> None:
        self.ticks += 1
        # a failed redraw must not end the updates, nor print from a thread
        with contextlib.suppress(Exception):
            self._tick(final)
