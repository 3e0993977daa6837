"""How much `import tbwidgets` adds to `import torch` (target: under 0.3 s more than torch alone).

Each import runs in a fresh interpreter, several times, alternating, and the medians are compared.
Run: python benchmarks/import_time.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

ROUNDS = 7
CASES = {
    "torch": "import torch",
    "tbwidgets": "import tbwidgets",
    "tbwidgets + load_model": "import torch, tbwidgets; tbwidgets.load_model",
    "tbwidgets.core+checks+loading": "import tbwidgets.core, tbwidgets.checks, tbwidgets.loading",
}


def time_import(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main() -> None:
    baseline = time_import("pass")
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(ROUNDS):
        for name, code in CASES.items():
            samples[name].append(time_import(code) - baseline)
    torch_s = statistics.median(samples["torch"])
    print(f"interpreter start-up subtracted: {baseline:.3f} s; medians of {ROUNDS} fresh interpreters")
    print(f"{'import':<32}{'seconds':>9}{'vs torch':>10}{'extra':>9}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<32}{median:9.3f}{median / torch_s:9.2f}x{median - torch_s:+9.3f}")
    extra = statistics.median(samples["tbwidgets.core+checks+loading"]) - torch_s
    print(
        f"\ntbwidgets (core, checks, loading) adds {extra:.3f} s to torch alone: target < 0.3 s -> "
        f"{'met' if extra < 0.3 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
