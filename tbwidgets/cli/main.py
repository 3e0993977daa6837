"""`tbwidgets` command line: validate a model from a gist, a path or the built-in example (`--example`).

Exit codes: 0 nothing failed or errored, 1 a check failed or errored, 2 usage, loading or report-file
problem, 130 interrupted (Ctrl-C). Problems print a cause and a fix, never a traceback (`--debug` adds
them); output falls back to ASCII where the terminal's encoding lacks a symbol.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from tbwidgets.cli import console
from tbwidgets.cli.args import UsageError, add_source_arguments, parse_tiers, source_kwargs
from tbwidgets.cli.outputs import check_outputs, report_targets
from tbwidgets.cli.run import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Interrupted, load, run_checks, say

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "build_parser", "main"]
EXIT_PROBLEMS = 1
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `yes | head` reports


class _Parser(argparse.ArgumentParser):
    """argparse, but the error comes first (it is the line people read) and the usage after it."""

    def error(self, message: str) -> NoReturn:
        say(f"{self.prog}: error: {message}")
        self.print_usage(sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tbwidgets", description="Check, understand and train transformer models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("validate", help="run checks on a model and print a results table")
    add_source_arguments(v)
    v.add_argument("--tiers", default="1", help="comma-separated tiers to run (default: 1)")
    v.add_argument("--check", action="append", metavar="ID", help="run only this check (repeatable, or a,b)")
    v.add_argument("--task", choices=["causal-lm", "masked-lm", "classification"], help="state the task")
    v.add_argument("--device", help="torch device, e.g. cpu or cuda")
    v.add_argument("--seed", type=int, default=0, help="seed for the random inputs (default: 0)")
    v.add_argument("--json", metavar="F", help="write the report as JSON (- for standard output)")
    v.add_argument("--html", metavar="F", help="write a self-contained HTML report (- for standard output)")
    v.add_argument(
        "--junit", metavar="F", help="write JUnit XML (one test case per check) (- for standard output)"
    )
    v.add_argument("--debug", action="store_true", help="show tracebacks")
    sub.add_parser("checks", help="list the available checks")
    from tbwidgets.cli.train import add_train_parser  # light: training loads only when `train` runs

    add_train_parser(sub)
    from tbwidgets.cli.bench import add_bench_parser
    from tbwidgets.cli.search import add_search_parsers  # light too: optuna loads when they run

    add_search_parsers(sub)
    add_bench_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    console.make_streams_safe()
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except BrokenPipeError:  # `tbwidgets ... | head`: the reader left; stop quietly, as Unix tools do
        console.silence_stdout()
        return EXIT_BROKEN_PIPE
    except Interrupted as stop:
        return stop.code
    except KeyboardInterrupt:  # between the phases that explain themselves (or in --checks)
        if getattr(args, "debug", False):
            traceback.print_exc()
        say("Interrupted.")
        return EXIT_INTERRUPTED


def _dispatch(args: argparse.Namespace) -> int:
    """Run the chosen command; training, search and bench import their stack only when chosen."""
    if args.command == "checks":
        return list_checks()
    if args.command == "train":
        from tbwidgets.cli.train import train_command

        return train_command(args)
    if args.command in ("search", "search-worker", "bench"):
        from tbwidgets.cli.bench import bench_command
        from tbwidgets.cli.search import search_command, worker_command

        commands = {"search": search_command, "search-worker": worker_command, "bench": bench_command}
        return commands[args.command](args)
    return validate_command(args)


def list_checks() -> int:
    from tbwidgets.core import registered_checks

    for check_id, cls in sorted(registered_checks().items(), key=lambda kv: (kv[1].tier, kv[0])):
        print(console.fit(f"{check_id:<30} tier {cls.tier}  {cls.title}", sys.stdout))
    return EXIT_OK


def validate_command(args: argparse.Namespace) -> int:
    """Check the whole command line and the report paths first, then load, run and report."""
    try:
        load_kwargs = source_kwargs(args)
        tiers = parse_tiers(args.tiers)
        targets = report_targets(args)
        check_outputs(targets)
    except UsageError as exc:
        return _usage(exc.cause, exc.fix)
    say("Loading model ...")  # before the heavy imports: start-up takes seconds
    try:
        from tbwidgets.api import SelectionError, select_checks

        try:
            checks = select_checks(tiers=tiers, checks=args.check)
        except SelectionError as exc:
            return _usage(str(exc), "Run `tbwidgets checks` to list the checks.")
        loaded = load(load_kwargs, args.debug)
    except KeyboardInterrupt:
        if args.debug:
            traceback.print_exc()
        say("Interrupted while loading the model; no check ran, so no report was written.")
        return EXIT_INTERRUPTED
    if loaded is None:
        return EXIT_USAGE
    return run_checks(loaded, checks, args, targets)


def _usage(cause: str, fix: str = "") -> int:
    say(f"tbwidgets validate: error: {cause}")
    if fix:
        say(f"what to do: {fix}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
