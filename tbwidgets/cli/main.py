"""`tbwidgets` command line: validate a model from a gist, a path or the built-in example.

Exit codes: 0 nothing failed or errored, 1 a check failed or errored, 2 usage or loading problem.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tbwidgets", description="Check, understand and train transformer models."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="run checks on a model and print a results table")
    v.add_argument("source", nargs="?", help="gist id or URL, a directory or model.py path")
    v.add_argument("--gist", metavar="ID|URL", help="load model.py and config.json from this GitHub Gist")
    v.add_argument("--revision", metavar="SHA", help="pin the gist revision")
    v.add_argument(
        "--path", metavar="P", help="a directory holding model.py (and config.json), or a model.py"
    )
    v.add_argument("--example", action="store_true", help="validate the built-in example model")
    v.add_argument("--tiers", default="1", help="comma-separated tiers to run (default: 1)")
    v.add_argument("--check", action="append", metavar="ID", help="run only this check (repeatable)")
    v.add_argument("--task", choices=["causal-lm", "masked-lm", "classification"], help="state the task")
    v.add_argument("--device", help="torch device, e.g. cpu or cuda")
    v.add_argument("--seed", type=int, default=0, help="seed for the random inputs (default: 0)")
    v.add_argument("--json", metavar="F", help="write the report as JSON")
    v.add_argument("--html", metavar="F", help="write a self-contained HTML report")
    v.add_argument("--junit", metavar="F", help="write JUnit XML (one test case per check)")
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
    parser = build_parser()
    args = parser.parse_args(argv)
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
    return validate_command(args, parser)


def list_checks() -> int:
    from tbwidgets.core import registered_checks

    for check_id, cls in sorted(registered_checks().items(), key=lambda kv: (kv[1].tier, kv[0])):
        print(f"{check_id:<30} tier {cls.tier}  {cls.title}")
    return EXIT_OK


def validate_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        load_kwargs = _source_kwargs(args)
        tiers = _parse_tiers(args.tiers)
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"tbwidgets validate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    loaded = _load(load_kwargs, args)
    if loaded is None:
        return EXIT_USAGE
    try:
        from tbwidgets.api import select_checks

        checks = select_checks(tiers=tiers, checks=args.check)
    except KeyError as exc:
        print(f"tbwidgets validate: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    return _run(loaded, checks, args)


def _source_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    given = [name for name in ("source", "gist", "path") if getattr(args, name)] + (
        ["example"] if args.example else []
    )
    if len(given) > 1:
        raise ValueError(f"give one model source, not {' and '.join(given)}")
    kwargs: dict[str, Any] = {"revision": args.revision, "task": args.task, "device": args.device}
    if args.gist:
        kwargs["gist_id"] = args.gist
    elif args.path:
        kwargs["path"] = args.path
    elif args.source:
        kwargs["source"] = args.source
    return {k: v for k, v in kwargs.items() if v is not None}


def _parse_tiers(text: str) -> list[int]:
    try:
        tiers = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"--tiers takes numbers like 1 or 1,2; got {text!r}") from None
    bad = [t for t in tiers if t not in (1, 2)]
    if bad or not tiers:
        raise ValueError(f"--tiers takes 1 and/or 2 (tier 3 is training); got {text!r}")
    return tiers


def _load(kwargs: dict[str, Any], args: argparse.Namespace) -> Any:
    from tbwidgets.loading import LoadError, load_model

    print("Loading model ...", file=sys.stderr, flush=True)
    try:
        loaded = load_model(**kwargs)
    except LoadError as exc:
        _explain(exc.cause, exc.fix, args.debug)
        return None
    except Exception as exc:  # noqa: BLE001 - the user gets a short message; --debug shows the rest
        _explain(
            f"Loading failed: {type(exc).__name__}: {exc}",
            "Run again with --debug for the traceback.",
            args.debug,
        )
        return None
    print(
        f"Loaded {loaded.name}: {loaded.facts.n_params:,} parameters, {loaded.task.value} "
        f"({loaded.source.label})",
        file=sys.stderr,
    )
    for finding in loaded.findings:
        print(f"  {finding.level}: {finding.message}", file=sys.stderr)
    return loaded


def _explain(cause: str, fix: str, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    print(f"error: {cause}", file=sys.stderr)
    if fix:
        print(f"what to do: {fix}", file=sys.stderr)


def _run(loaded: Any, checks: list[Any], args: argparse.Namespace) -> int:
    from tbwidgets.cli.progress import LiveProgress, PlainProgress
    from tbwidgets.cli.table import results_table, verdict_line
    from tbwidgets.core import Runner

    listener = LiveProgress() if sys.stderr.isatty() else PlainProgress()
    runner = Runner(loaded, checks, device=args.device, seed=args.seed, listeners=[listener])
    try:
        report = runner.run()
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_PROBLEMS
    # On a terminal the live lines already listed every result; the table is for logs and pipes.
    live_on_screen = isinstance(listener, LiveProgress) and sys.stdout.isatty()
    print(verdict_line(report) if live_on_screen else results_table(report))
    for flag, writer in (("json", report.to_json), ("html", report.to_html), ("junit", report.to_junit)):
        target = getattr(args, flag)
        if target:
            writer(target)
            print(f"Wrote {target}", file=sys.stderr)
    if args.debug:
        for r in report.results:
            if r.error:
                print(f"\n--- {r.check_id} ---\n{r.error}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
