"""Count the bad inputs the suites try: every collected test carrying the `bad_input` marker.

    python -m tests.count_bad_inputs            # CLI, API/core, widget, loading and training suites
    python -m tests.count_bad_inputs tests/cli  # one area

A parametrized test counts once per case. Slow tests are counted too (CI runs them).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

AREAS = ["tests/cli", "tests/core", "tests/test_api.py", "tests/widgets", "tests/loading", "tests/training"]


def collect(paths: list[str]) -> list[str]:
    """Node ids of the marked tests under `paths` (pytest's own collection, nothing re-implemented)."""
    cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    cmd += ["-m", "bad_input", *paths]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 5):  # 5: nothing collected
        sys.exit(f"pytest could not collect:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return [line for line in proc.stdout.splitlines() if "::" in line]


def main(argv: list[str]) -> int:
    import os

    paths = [p for p in (argv or AREAS) if os.path.exists(p)]
    ids = collect(paths)
    by_area = Counter("/".join(node.split("::")[0].split("/")[:2]) for node in ids)
    for area, n in sorted(by_area.items()):
        print(f"{area:<16} {n:4d}")
    print(f"{'total':<16} {len(ids):4d} bad inputs tried")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
