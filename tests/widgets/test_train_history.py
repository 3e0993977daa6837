"""Min/max-bucketed histories, the curves that read them and the redraw timer (no training needed)."""

from __future__ import annotations

import itertools
import math
import threading
import time

import numpy as np
import pytest

from tbwidgets.widgets._curves import Curves, CurveTimer
from tbwidgets.widgets._history import Histories, MinMaxHistory


def test_short_history_is_kept_exactly() -> None:
    h = MinMaxHistory(buckets=100)
    for step in range(1, 51):
        h.append(step, 1.0 / step)
    xs, ys = h.arrays()
    assert xs.dtype == np.float32 and ys.dtype == np.float32
    assert xs.tolist() == list(range(1, 51))
    assert np.allclose(ys, [1.0 / s for s in range(1, 51)])


@pytest.mark.parametrize("n", [2_001, 100_000])
def test_long_history_is_bounded_sorted_and_keeps_every_spike(n: int) -> None:
    rng = np.random.default_rng(0)
    values = 2.0 + 0.1 * rng.standard_normal(n)
    spikes = {7: 50.0, n // 3: 40.0, n - 5: 30.0}  # single-step blow-ups anywhere in the run
    dips = {n // 2: -9.0}
    for step, v in {**spikes, **dips}.items():
        values[step - 1] = v
    h = MinMaxHistory(buckets=1000)
    for step, v in enumerate(values, start=1):
        h.append(step, float(v))
    xs, ys = h.arrays()
    assert len(xs) <= 2 * 1000 + 1
    assert np.all(np.diff(xs) >= 0), "x must be ascending for a line"
    for step, v in {**spikes, **dips}.items():
        hit = np.flatnonzero(xs == step)
        assert hit.size and ys[hit[0]] == pytest.approx(v), f"the spike at step {step} was dropped"
    assert xs[-1] == n and ys[-1] == pytest.approx(values[-1])  # the newest point is always drawn
    assert ys.max() == pytest.approx(values.max()) and ys.min() == pytest.approx(values.min())


def test_non_finite_values_are_counted_not_drawn() -> None:
    h = MinMaxHistory()
    h.append(1, 1.0)
    h.append(2, math.nan)
    h.append(3, math.inf)
    assert h.skipped == 2 and h.arrays()[0].tolist() == [1.0]


def test_histories_truncate_after_a_step_for_resume() -> None:
    hs = Histories(buckets=10)
    for step in range(1, 101):
        hs.record(step, {"loss": float(step), "lr": 0.1})
        if step % 25 == 0:
            hs.record(step, {"val_loss": float(step)})
    before = hs.series("loss").version
    hs.truncate_after(50)
    xs, _ys = hs.series("loss").arrays()
    assert xs.max() == 50 and hs.last_step == 50
    assert hs.series("val_loss").arrays()[0].tolist() == [25.0, 50.0]
    assert hs.series("loss").version > before  # the timer must resend the shortened curve
    hs.clear()
    assert hs.rows == [] and len(hs.series("loss")) == 0


def test_curves_send_only_changed_series_and_respect_growth() -> None:
    hs = Histories()
    curves = Curves(hs)
    assert len(curves.figures) == 4
    for step in range(1, 101):
        hs.record(step, {"loss": 3.0, "accuracy": 0.1, "lr": 1e-3, "grad_norm": 1.0})
    sent = curves.push()
    assert sent >= 4  # four lines (and hover points for their figures)
    assert curves.push() == 0  # nothing changed: nothing is sent
    hs.record(101, {"loss": 2.9, "accuracy": 0.2, "lr": 1e-3, "grad_norm": 1.0})
    assert curves.push(min_growth=0.5) == 0  # 1 new point of 100 is below a 50 % growth bar
    assert curves.push(force=True) >= 4
    line = curves.lines[0].mark
    assert line.x[-1] == 101 and line.y[-1] == pytest.approx(2.9)


def test_log_toggle_swaps_the_loss_scale() -> None:
    curves = Curves(Histories())
    curves.log_toggle.value = True
    assert type(curves.figures[0].axes[1].scale).__name__ == "LogScale"
    assert all(type(m.scales["y"]).__name__ == "LogScale" for m in curves.figures[0].marks)
    curves.log_toggle.value = False
    assert type(curves.figures[0].axes[1].scale).__name__ == "LinearScale"


def test_timer_ticks_at_most_at_its_rate_and_once_more_at_stop() -> None:
    ticks: list[tuple[float, bool]] = []
    timer = CurveTimer(lambda final: ticks.append((time.monotonic(), final)), interval=0.1).start()
    time.sleep(0.55)
    timer.stop()
    assert ticks[-1][1] is True and not any(final for _, final in ticks[:-1])
    regular = [t for t, final in ticks if not final]
    assert 3 <= len(regular) <= 6
    assert all(b - a >= 0.09 for a, b in itertools.pairwise(regular))


def test_appends_from_a_thread_while_reading() -> None:
    h = MinMaxHistory(buckets=50)
    done = threading.Event()

    def write() -> None:
        for step in range(1, 20_001):
            h.append(step, float(step % 97))
        done.set()

    threading.Thread(target=write).start()
    while not done.is_set():
        xs, _ = h.arrays()
        assert len(xs) <= 101 and np.all(np.diff(xs) >= 0)
    assert h.count == 20_000


def test_learning_rate_and_gradient_norm_axes_start_at_zero() -> None:
    curves = Curves(Histories())
    mins = {f.axes[1].label: (f.axes[1].scale.min, f.axes[1].scale.allow_padding) for f in curves.figures}
    assert mins == {
        "loss": (None, True),
        "accuracy": (None, True),
        "lr": (0.0, False),
        "grad norm": (0.0, False),
    }


def test_step_axis_ticks_are_round_whole_steps_and_sent_only_when_they_change() -> None:
    from tbwidgets.widgets._curves import step_ticks

    assert step_ticks(0, 61) == [0, 20, 40, 60] and step_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert step_ticks(0, 500) == [0, 100, 200, 300, 400, 500] and step_ticks(0, 3) == [0, 1, 2, 3]
    hs = Histories()
    curves = Curves(hs)
    for step in range(1, 62):
        hs.record(step, {"loss": 1.0, "lr": 1e-3})
    curves.push()
    assert all(list(f.axes[0].tick_values) == [0, 20, 40, 60] for f in curves.figures)
    hs.record(62, {"loss": 1.0, "lr": 1e-3})
    assert curves._step_ticks() == 0  # same ticks at step 62: nothing sent
