"""Messages and bytes a ValidatorWidget sends for a full Tier 1 run on the example model.

Targets (issue 5): ≤ 10 messages per second while running, ≤ 200 KB in total. Printed side by side
with the same run without coalescing (interval 0), so the ratio shows what the Coalescer saves.

    python benchmarks/widget_messages.py
"""

from __future__ import annotations

import json
import time
from typing import Any

from tbwidgets.loading import load_model
from tbwidgets.widgets.validator import ValidatorWidget


def _size(msg: Any, buffers: Any) -> int:
    text = json.dumps(msg, default=str, separators=(",", ":"))
    return len(text.encode()) + sum(len(memoryview(b).cast("B")) for b in buffers or [])


def measure(loaded: Any, interval: float) -> dict[str, float]:
    """Run Tier 1 once and count the update messages the widget sends while it runs."""
    w = ValidatorWidget(model=loaded, autorun=None, update_interval=interval)
    w.wait()
    stamps: list[float] = []
    sizes: list[int] = []
    original = w._send

    def counting(msg: Any, buffers: Any = None) -> None:
        stamps.append(time.monotonic())
        sizes.append(_size(msg, buffers))
        original(msg, buffers)

    w._send = counting  # type: ignore[method-assign]
    t0 = time.monotonic()
    w.run(1, wait=True)
    seconds = time.monotonic() - t0
    peak = max((sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps), default=0)
    return {
        "checks": len(w.tier1["rows"]),
        "seconds": seconds,
        "messages": len(stamps),
        "peak_per_1s": peak,
        "kbytes": sum(sizes) / 1000,
    }


def main() -> None:
    loaded = load_model()
    coalesced = measure(loaded, 0.1)
    raw = measure(loaded, 0.0)
    print(f"Tier 1 on {loaded.name}: {coalesced['checks']:.0f} checks")
    print(f"{'':24}{'coalesced 0.1 s':>18}{'no coalescing':>18}{'ratio':>10}")
    for key, label in [
        ("seconds", "run time (s)"),
        ("messages", "messages"),
        ("peak_per_1s", "most in any 1 s window"),
        ("kbytes", "total KB"),
    ]:
        ratio = raw[key] / coalesced[key] if coalesced[key] else float("nan")
        print(f"{label:24}{coalesced[key]:18.1f}{raw[key]:18.1f}{ratio:10.2f}")
    ok = coalesced["peak_per_1s"] <= 11 and coalesced["kbytes"] <= 200
    print(f"targets (≤ 10 msg/s, ≤ 200 KB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
