"""Loading and running for `tbwidgets validate`: short messages instead of tracebacks, and Ctrl-C at
any moment turned into one line, the results finished so far (marked incomplete) and exit 130.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tbwidgets.cli.console import fit
from tbwidgets.cli.outputs import STDOUT, write_reports

if TYPE_CHECKING:
    from tbwidgets.core import Check, Event, Report
    from tbwidgets.loading import LoadedModel
    from tbwidgets.loading.progress import LoadProgress

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class Interrupted(Exception):
    """Ctrl-C (or a LoadInterrupted) was handled; `code` is the exit status to return."""

    def __init__(self, code: int = EXIT_INTERRUPTED) -> None:
        super().__init__(code)
        self.code = code


def say(text: str) -> None:
    """One line on stderr, in whatever encoding stderr has."""
    print(fit(text, sys.stderr), file=sys.stderr, flush=True)


def explain(cause: str, fix: str, debug: bool, prefix: str = "error") -> None:
    if debug:
        traceback.print_exc()
    say(f"{prefix}: {cause}")
    if fix:
        say(f"what to do: {fix}")


def load(kwargs: dict[str, Any], debug: bool) -> LoadedModel | None:
    """`load_model(**kwargs)`; None after explaining a loading problem (exit 2)."""
    from tbwidgets.loading import LoadError, load_model
    from tbwidgets.loading.errors import LoadInterrupted

    try:
        loaded = load_model(**kwargs, progress=_LoadProgressPrinter())
    except LoadInterrupted as exc:
        if debug:
            traceback.print_exc()
        say(f"Interrupted: {exc.cause.rstrip('. ')}; no check ran, so no report was written.")
        raise Interrupted() from None
    except LoadError as exc:
        explain(exc.cause, exc.fix, debug)
        return None
    except Exception as exc:  # noqa: BLE001 - the user gets a short message; --debug shows the rest
        explain(
            f"Loading failed: {type(exc).__name__}: {exc}", "Run again with --debug for the traceback.", debug
        )
        return None
    say(
        f"Loaded {loaded.name}: {loaded.facts.n_params:,} parameters, {loaded.task.value} "
        f"({loaded.source.label})"
    )
    for finding in loaded.findings:
        say(f"  {finding.level}: {finding.message}")
    return loaded


class _LoadProgressPrinter:
    """Prints the loader's progress (bytes so far, a slow import's running line) at most once a second
    per stage, so a CI log shows that something is happening without a line per chunk."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self._last: dict[str, float] = {}

    def __call__(self, event: LoadProgress) -> None:
        now = time.monotonic()
        finished = event.done is not None and event.total is not None and event.done >= event.total
        if event.message and (finished or now - self._last.get(event.stage, -1e9) >= self.interval_s):
            self._last[event.stage] = now
            say(f"  {event.message}")


class _Collector:
    """Keeps what the run finished, so Ctrl-C in the middle of a check loses nothing already done."""

    def __init__(self) -> None:
        self.results: list[Any] = []
        self.current: int | None = None

    def __call__(self, event: Event) -> None:
        from tbwidgets.core import CheckFinished, CheckStarted

        if isinstance(event, CheckStarted):
            self.current = event.index
        elif isinstance(event, CheckFinished):
            self.results.append(event.result)
            self.current = None

    def partial_report(self, loaded: LoadedModel, checks: Sequence[Check], started: float) -> Report:
        from tbwidgets.core import Report, Status

        results = list(self.results)
        for index in range(len(results), len(checks)):
            summary = (
                "Not finished: interrupted (Ctrl-C) while this check ran."
                if index == self.current
                else "Not run: the run was interrupted (Ctrl-C) before this check."
            )
            results.append(checks[index].result(Status.SKIPPED, summary))
        return Report(results, loaded.describe(), started, time.time() - started, cancelled=True)


def run_checks(
    loaded: LoadedModel, checks: list[Check], args: argparse.Namespace, targets: dict[str, str]
) -> int:
    """Run the checks with live progress, print the table, write the reports; the exit status."""
    from tbwidgets.cli.progress import LiveProgress, PlainProgress
    from tbwidgets.cli.table import results_table, verdict_line
    from tbwidgets.core import Runner

    listener = LiveProgress() if sys.stderr.isatty() else PlainProgress()
    collector = _Collector()
    runner = Runner(loaded, checks, device=args.device, seed=args.seed, listeners=[listener, collector])
    started = time.time()
    try:
        report = runner.run()
    except KeyboardInterrupt:
        if isinstance(listener, LiveProgress):
            listener.clear()
        if args.debug:
            traceback.print_exc()
        _save_partial(collector.partial_report(loaded, checks, started), targets, args.debug)
        raise Interrupted() from None
    # On a terminal the live lines already listed every result; the table is for logs and pipes.
    live_on_screen = isinstance(listener, LiveProgress) and sys.stdout.isatty()
    text = verdict_line(report) if live_on_screen else results_table(report)
    table_to = sys.stderr if STDOUT in targets.values() else sys.stdout  # stdout carries a report
    print(fit(text, table_to), file=table_to, flush=True)
    failed = write_reports(report, targets, say, args.debug)
    if args.debug:
        for r in report.results:
            if r.error:
                print(f"\n--- {r.check_id} ---\n{r.error}", file=sys.stderr)
    if failed:
        return EXIT_USAGE
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _save_partial(report: Report, targets: dict[str, str], debug: bool) -> None:
    """Write the interrupted run's reports; a second Ctrl-C must not cut them in half."""
    finished = sum(not r.summary.startswith(("Not run", "Not finished")) for r in report.results)
    with _sigint_ignored():
        failed = write_reports(
            report, targets, lambda line: None if line.startswith("Wrote") else say(line), debug
        )
    written = [t for t in targets.values() if t not in failed]
    where = (
        f"partial results written to {', '.join(written)} (marked incomplete)"
        if written
        else "no report file was asked for"
    )
    say(f"Interrupted: {finished} of {len(report.results)} checks finished; {where}.")


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to protect against
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
