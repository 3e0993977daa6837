"""`tbwidgets bench glue|lm`: benchmark a model against the majority and a same-budget baseline."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tbwidgets.cli.args import UsageError, add_source_arguments, source_kwargs, source_value
from tbwidgets.cli.outputs import check_outputs, human_lines, report_targets, write_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_bench_parser(sub: Any) -> None:
    """Register `bench` (with `glue` and `lm`) on the main parser's subcommands."""
    b = sub.add_parser(
        "bench", help="benchmark a model (GLUE or language modelling) against a same-budget baseline"
    )
    kinds = b.add_subparsers(dest="bench", required=True)
    for name, text in (
        ("glue", "GLUE tasks from a local folder or the Hub"),
        ("lm", "held-out language modelling"),
    ):
        p = kinds.add_parser(name, help=text)
        add_source_arguments(p)
        p.add_argument(
            "--config", metavar="cfg.json", help="a saved TrainingConfig (the same budget for both models)"
        )
        p.add_argument("--max-steps", type=int, help="optimizer steps per model and task")
        p.add_argument("--seed", type=int, help="random seed")
        p.add_argument("--no-baseline", action="store_true", help="skip the same-budget baseline")
        p.add_argument("--json", metavar="F", help="write the report as JSON (- for standard output)")
        p.add_argument("--html", metavar="F", help="write the report as HTML (- for standard output)")
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        if name == "glue":
            p.add_argument(
                "--data-dir",
                metavar="DIR",
                help="GLUE folder in the official layout (CoLA/, SST-2/, ...); none = the Hub",
            )
            p.add_argument(
                "--tasks", default="all", help="comma-separated tasks, e.g. sst2,cola (default: all nine)"
            )
            p.add_argument("--max-examples", type=int, help="use at most N training examples per task")
        else:
            p.add_argument(
                "--data", required=True, metavar="FILE|DIR|DATASET", help="text to train on and hold out from"
            )


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class BenchLines:
    """Listener: a line when a contender starts training and when a result row is ready."""

    def __call__(self, event: Any) -> None:
        name = type(event).__name__
        if name == "RunStarted":
            _say(f"{event.task}: training the {event.model} ...")
        elif name == "RowReady":
            r = event.row
            base = f", baseline {r.baseline:.4f}" if r.baseline is not None else ""
            _say(
                f"{r.task} {r.metric}: model {r.model:.4f}, majority {r.majority:.4f}{base} ({r.steps} steps)"
            )


def _config(args: argparse.Namespace) -> Any:
    from tbwidgets.training.benchmarks.runs import bench_config

    cfg = bench_config(args.config)
    changes = {"max_steps": args.max_steps, "random_seed": args.seed}
    return cfg.replace(**{k: v for k, v in changes.items() if v is not None})


def _run(args: argparse.Namespace, cfg: Any) -> Any:
    from tbwidgets.training.benchmarks import glue, lm

    source = source_value(source_kwargs(args))
    if args.bench == "glue":
        return glue(
            source,
            args.tasks,
            data_dir=args.data_dir,
            config=cfg,
            on_event=BenchLines(),
            baseline=not args.no_baseline,
            max_examples=args.max_examples,
        )
    return lm(source, args.data, config=cfg, on_event=BenchLines(), baseline=not args.no_baseline)


def bench_command(args: argparse.Namespace) -> int:
    """Run `tbwidgets bench glue|lm`; returns the exit code."""
    from tbwidgets.training.fit import TrainingError

    try:
        cfg = _config(args)
        check_outputs(report_targets(args))  # before the runs, not after
        report = _run(args, cfg)
    except UsageError as exc:
        _say(f"tbwidgets bench: error: {exc.cause}" + (f"\nwhat to do: {exc.fix}" if exc.fix else ""))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("Interrupted; no report was written.")
        return EXIT_INTERRUPTED
    except TrainingError as exc:
        _say(f"error: training failed at step {exc.step}: {exc.message}\nwhat to do: {exc.advice}")
        return EXIT_FAILED
    except Exception as exc:
        if args.debug:
            raise
        plain = isinstance(exc, (ValueError, FileNotFoundError))  # ours: they name the fix already
        _say(f"tbwidgets bench: error: {exc if plain else f'{type(exc).__name__}: {exc}'}")
        return EXIT_USAGE
    with human_lines(args):
        print(report.to_frame().to_string(index=False))
    for note in report.notes:
        _say(f"note: {note}")
    for flag, writer in (("json", report.to_json), ("html", report.to_html)):
        if getattr(args, flag):
            wrote = write_text(getattr(args, flag), writer)
            if wrote:
                _say(wrote)
    return EXIT_OK if report.rows else EXIT_FAILED
