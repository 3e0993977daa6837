"""How long a gist fetch takes to fail against a dripping and a silent server, with the default deadline.

A dripping server sends its headers and then one byte every `--drip` seconds (each socket read
succeeds, so only an overall deadline stops it); a silent one accepts the connection and never
answers. Side by side with the deadline the message states, it prints the seconds until the
GistError and the ratio, plus the first line of the message.

    python benchmarks/gist_deadlines.py [--timeout 30] [--drip 0.5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fakes lives at the repo root

from tbwidgets.loading.errors import GistError
from tbwidgets.loading.gist import DEFAULT_TIMEOUT_S, fetch_gist
from tests.fakes.gist_server import FakeGistAPI, silent_server

GID = "d" * 32


def fail_time(fetch: Callable[[], object]) -> tuple[float, str]:
    start = time.monotonic()
    try:
        fetch()
    except GistError as exc:
        return time.monotonic() - start, exc.cause
    return time.monotonic() - start, "(no error: the fetch succeeded)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="deadline of the whole fetch"
    )
    parser.add_argument("--drip", type=float, default=0.5, help="seconds between the dripping server's bytes")
    args = parser.parse_args()
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as cache, FakeGistAPI() as api:
        api.add_gist(GID, {"model.py": "# x\n" * 2000})  # 8 kB: over an hour at one byte per 0.5 s
        api.drip_next(args.drip, times=10)
        took, cause = fail_time(
            lambda: fetch_gist(GID, api_url=api.url, cache_dir=cache, timeout=args.timeout)
        )
        rows.append(("dripping server", took, cause))
        with silent_server() as url:
            took, cause = fail_time(
                lambda: fetch_gist(GID, api_url=url, cache_dir=cache, timeout=args.timeout)
            )
        rows.append(("silent server", took, cause))
    print(f"{'case':<16} {'deadline s':>10} {'failed after s':>15} {'ratio':>6}  first line of the message")
    for name, took, cause in rows:
        print(f"{name:<16} {args.timeout:>10.1f} {took:>15.2f} {took / args.timeout:>6.2f}  {cause}")


if __name__ == "__main__":
    main()
