"""Live training curves: the Train view's bqplot updates against a livelossplot-style matplotlib redraw.

Side by side in one process:
  1. kernel time of one curve update at 100 / 10,000 / 100,000 steps of history: the Train view's
     redraw (4 curves + hover points + progress line, serialised as the kernel would send them)
     against a matplotlib redraw of the full history to a PNG, as livelossplot does per update;
  2. a 10,000-step event stream through the real view (its worker thread, timer and histories):
     updates per second, messages per second per widget and in total, bytes sent;
  3. tokens/s of the real engine on the example model with the view attached vs `fit` alone.

Every comm message is counted by wrapping `ipywidgets.Widget._send` with a JSON encoding of the
message plus its binary buffers: what ipykernel would put on the wire. Run:
    python benchmarks/live_curves.py [--stream-rate 200] [--train-steps 60] [--quick]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

import ipywidgets
import numpy as np

from tbwidgets.widgets._curves import Curves
from tbwidgets.widgets._history import Histories
from tbwidgets.widgets._train_panels import Status
from tbwidgets.widgets._train_run import RunState

SENT: list[tuple[float, str, int]] = []  # (time, model id, bytes)
_LOCK = threading.Lock()


def _count_send(self: Any, msg: Any, buffers: Any = None) -> None:
    size = len(json.dumps(msg, default=str)) + sum(memoryview(b).nbytes for b in buffers or [])
    with _LOCK:
        SENT.append((time.monotonic(), self.model_id, size))


ipywidgets.Widget._send = _count_send  # type: ignore[method-assign]


def _metrics(step: int, rng: np.random.Generator) -> dict[str, float]:
    loss = 6.0 * np.exp(-step / 3000) + 0.3 + 0.05 * rng.standard_normal()
    return {
        "loss": float(loss),
        "accuracy": float(min(1.0, step / 8000)),
        "lr": 1e-3,
        "grad_norm": float(1 + rng.random()),
    }


def _filled(steps: int) -> Histories:
    hs, rng = Histories(), np.random.default_rng(0)
    for step in range(1, steps + 1):
        hs.record(step, _metrics(step, rng))
        if step % 100 == 0:
            hs.record(step, {"val_loss": 1.0, "val_accuracy": 0.5})
    return hs


def widget_update_ms(steps: int, repeats: int) -> tuple[float, float]:
    """(one curve, a whole redraw) after one more step, in ms. A redraw resends every changed line
    (4 per-step curves, their hover points when due), the progress line, and nothing else."""
    hs = _filled(steps)
    curves, status, rng = Curves(hs), Status(), np.random.default_rng(1)
    curves.push(force=True)
    one, whole = [], []
    loss = curves.lines[0]
    for i in range(repeats):
        step = steps + 1 + i
        hs.record(step, _metrics(step, rng))
        t0 = time.perf_counter()
        xs, ys = hs.series("loss").arrays()
        with loss.mark.hold_sync():
            loss.mark.x, loss.mark.y = xs, ys
        t1 = time.perf_counter()
        curves.push()
        status.show(RunState(state="running", step=step, total_steps=2 * steps, tokens_per_s=1e4))
        t2 = time.perf_counter()
        one.append(t1 - t0)
        whole.append(t2 - t1 + (t1 - t0))
    return statistics.median(one) * 1e3, statistics.median(whole) * 1e3


def matplotlib_update_ms(steps: int, repeats: int) -> float:
    """livelossplot's MatplotlibPlot: a new figure of every metric's full history, sent as a PNG."""
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    rows = [_metrics(s, rng) for s in range(1, steps + 1)]
    xs = np.arange(1, steps + 1)
    series = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fig = Figure(figsize=(12, 8))
        for i, (name, ys) in enumerate(series.items()):
            ax = fig.add_subplot(2, 2, i + 1)
            ax.plot(xs, ys, label=name)
            ax.set_title(name)
            ax.legend(loc="center right")
        buf = io.BytesIO()
        fig.savefig(buf, format="png")  # the inline backend's work for plt.show()
        base64.b64encode(buf.getvalue())  # what goes into the display_data message
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def stream(steps: int, rate: float) -> dict[str, float]:
    """`steps` StepMetrics at `rate` per second through the real TrainView; counts what it sends."""
    from tbwidgets.training.events import StepMetrics, TrainingFinished, TrainingStarted, ValidationMetrics
    from tbwidgets.widgets.train_view import TrainView

    def fake_fit(source: Any, data: Any, config: Any, *, on_event: Any, stop: Any, **_: Any) -> None:
        rng = np.random.default_rng(0)
        on_event(TrainingStarted("bench", steps, {}, "synthetic stream", tempfile.gettempdir()))
        t0 = time.monotonic()
        for step in range(1, steps + 1):
            on_event(StepMetrics("bench", step, 0, {**_metrics(step, rng), "tokens_per_s": 1e4}))
            if step % 100 == 0:
                on_event(ValidationMetrics("bench", step, 0, {"val_loss": 1.0, "val_accuracy": 0.5}))
            lag = t0 + step / rate - time.monotonic()
            if lag > 0:
                time.sleep(lag)
        on_event(TrainingFinished("bench", SimpleNamespace(stopped=False, history=None)))

    host = SimpleNamespace(loaded=object(), busy=False, tokenizer=None, send=None, run=None)
    view = TrainView(host, fit=fake_fit)
    SENT.clear()
    t0 = time.monotonic()
    view.train(data="copy")
    view.wait()
    duration = time.monotonic() - t0
    with _LOCK:
        sent = list(SENT)
    per_widget = Counter(model for _, model, _ in sent)
    ticks = len({round(t / view.interval) for t, _, _ in sent})
    return {
        "duration_s": duration,
        "updates_per_s": ticks / duration,
        "messages_per_s": len(sent) / duration,
        "max_messages_per_s_one_widget": max(per_widget.values()) / duration,
        "bytes": sum(size for _, _, size in sent),
    }


def tokens_per_s(train_steps: int, rounds: int) -> list[tuple[str, float, float]]:
    """Alternating runs, fit alone (in a thread) vs fit with the Train view listening and redrawing; per kind the
    median over rounds of (median per-step tokens/s inside the loop, wall-clock seconds of the call)."""
    from tbwidgets.loading import load_model
    from tbwidgets.training.config import TrainingConfig
    from tbwidgets.training.fit import fit
    from tbwidgets.widgets.train_view import TrainView

    loaded, out = load_model(), tempfile.mkdtemp()
    config = TrainingConfig(
        max_steps=train_steps, val_every_n_steps=None, checkpoint_every_n_steps=None, checkpoint_dir=out
    )
    host = SimpleNamespace(loaded=loaded, busy=False, tokenizer=None, send=None, run=None)
    fit(loaded, "copy", config.replace(max_steps=5))  # warm-up: imports, allocator, first kernels
    runs: dict[str, list[tuple[float, float]]] = {"fit alone": [], "with the Train view": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = _in_thread(lambda: fit(loaded, "copy", config))
        runs["fit alone"].append((_median_tokens(result), time.perf_counter() - t0))
        view = TrainView(host)
        t0 = time.perf_counter()
        view.train(data="copy", config=config)
        result = view.wait()
        runs["with the Train view"].append((_median_tokens(result), time.perf_counter() - t0))
    # medians: on a shared machine the best run is whichever ran while the neighbours paused
    return [
        (kind, statistics.median(t for t, _ in r), statistics.median(w for _, w in r))
        for kind, r in runs.items()
    ]


def _in_thread(work: Any) -> Any:
    # the view trains in a worker thread; so must the baseline (fit on the main thread measured
    # several times slower here, which would flatter the view)
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(work()))
    thread.start()
    thread.join()
    return box[0]


def _median_tokens(result: Any) -> float:
    return float(result.history["tokens_per_s"].median())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stream-rate", type=float, default=200.0, help="steps per second of the 10,000-step stream"
    )
    parser.add_argument("--train-steps", type=int, default=60, help="steps per tokens/s run")
    parser.add_argument("--rounds", type=int, default=6, help="alternating tokens/s runs of each kind")
    parser.add_argument("--quick", action="store_true", help="smaller numbers, for a smoke run")
    args = parser.parse_args()
    repeats = 5 if args.quick else 20

    print("1. kernel time per curve update (median ms; serialisation included, no frontend)")
    print(
        f"{'history steps':>14} {'one curve':>10} {'whole redraw':>13} {'matplotlib PNG':>15} {'PNG / curve':>12}"
    )
    for steps in (100, 10_000, 100_000):
        one, whole = widget_update_ms(steps, repeats)
        theirs = matplotlib_update_ms(steps, max(3, repeats // 4))
        print(f"{steps:>14,} {one:>10.3f} {whole:>13.3f} {theirs:>15.1f} {theirs / one:>11.0f}×")
    print("   target: ≤ 1 ms per curve update at 100,000 steps")

    n = 2_000 if args.quick else 10_000
    s = stream(n, args.stream_rate)
    print(f"\n2. a {n:,}-step run streamed at {args.stream_rate:.0f} steps/s ({s['duration_s']:.1f} s)")
    print(f"   updates/s {s['updates_per_s']:.2f} (target ≤ 4)")
    print(
        f"   messages/s, busiest widget {s['max_messages_per_s_one_widget']:.2f} (target ≤ 4); all widgets {s['messages_per_s']:.2f}"
    )
    print(f"   bytes sent {s['bytes'] / 1e6:.2f} MB (target ≤ 2 MB for 10,000 steps)")

    if args.train_steps:
        rows = tokens_per_s(args.train_steps, 1 if args.quick else args.rounds)
        print(
            f"\n3. training speed on the example model, {args.train_steps} steps, medians of alternating runs"
        )
        print(f"{'':>22} {'tokens/s (median step)':>23} {'wall s':>8}")
        for kind, tokens, wall in rows:
            print(f"{kind:>22} {tokens:>23,.0f} {wall:>8.2f}")
        (_, t0, w0), (_, t1, w1) = rows
        print(f"   ratio with / without: tokens/s {t1 / t0:.3f}, wall-clock {w0 / w1:.3f} (target ≥ 0.98)")


if __name__ == "__main__":
    main()
