"""`tbwidgets search` and `tbwidgets search-worker`: hyperparameter search from the terminal.

Exit codes as `train`: 0 the study has its trials and at least one completed (or it was stopped on
purpose), 1 no trial completed, 2 usage, config, storage or loading problem; Ctrl-C leaves the study
resumable (the running trial is queued again), prints how to resume and exits 130.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tbwidgets.cli.args import UsageError, add_source_arguments, at_least_one, source_kwargs, source_value
from tbwidgets.cli.outputs import check_outputs, human_lines, report_targets, write_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_search_parsers(sub: Any) -> None:
    """Register `search` and `search-worker` on the main parser's subcommands."""
    s = sub.add_parser("search", help="search hyperparameters with Optuna (pruned, resumable)")
    add_source_arguments(s, download_flags=False)
    s.add_argument(
        "--data",
        default="copy",
        metavar="TASK|FILE",
        help="synthetic task or text file/folder (default: copy)",
    )
    s.add_argument("--config", metavar="cfg.json", help="a saved TrainingConfig for every trial")
    s.add_argument("--max-steps", type=int, help="optimizer steps per trial")
    s.add_argument("--val-every", type=int, help="validate (and maybe prune) every N steps")
    s.add_argument(
        "--n-trials", type=at_least_one, default=20, help="trials the study should have (default: 20)"
    )
    s.add_argument("--timeout", type=float, help="start no new trial after this many seconds")
    s.add_argument(
        "--space",
        metavar="JSON|FILE",
        help='search space as JSON, e.g. \'{"learning_rate": {"low": 1e-4, "high": 1e-2, "log": true}}\'',
    )
    s.add_argument(
        "--storage",
        metavar="URL|FILE",
        help="sqlite:///f.db, f.db, f.log (journal) or postgresql://...; default: the run folder",
    )
    s.add_argument("--study", metavar="NAME", help="study name; the same name resumes the study")
    s.add_argument("--pruner", choices=["median", "hyperband", "none"], default="median")
    s.add_argument("--sampler", choices=["tpe", "random"], default="tpe")
    s.add_argument("--seed", type=int, help="random seed (sampler and training)")
    s.add_argument("--json", metavar="F", help="write the SearchResult as JSON (- for standard output)")
    s.add_argument("--debug", action="store_true", help="show tracebacks")
    w = sub.add_parser("search-worker", help="run trials of an existing study from this process")
    w.add_argument("--storage", required=True, metavar="URL|FILE", help="the study's storage")
    w.add_argument("--study", required=True, metavar="NAME", help="the study's name")
    w.add_argument("--n-trials", type=at_least_one, help="target number of trials (default: the study's)")
    w.add_argument("--json", metavar="F", help="write the SearchResult as JSON (- for standard output)")
    w.add_argument("--debug", action="store_true", help="show tracebacks")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _space(text: str | None) -> Any:
    if not text:
        return None
    path = Path(text)
    raw = path.read_text(encoding="utf-8") if not text.lstrip().startswith("{") and path.is_file() else text
    try:
        space = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--space is not valid JSON ({exc}); give a JSON object or a .json file.") from None
    if not isinstance(space, dict):
        raise ValueError("--space must be a JSON object mapping names to ranges or lists of choices.")
    return space


def _config(args: argparse.Namespace) -> Any:
    from tbwidgets.training.config import TrainingConfig

    cfg = TrainingConfig.load(args.config) if args.config else TrainingConfig()
    changes = {"max_steps": args.max_steps, "val_every_n_steps": args.val_every, "random_seed": args.seed}
    return cfg.replace(**{k: v for k, v in changes.items() if v is not None})


class TrialLines:
    """Listener: one plain line per started and finished trial (stderr)."""

    def __call__(self, event: Any) -> None:
        name = type(event).__name__
        if name == "SearchStarted":
            again = f", {event.finished_before} trials already done" if event.finished_before else ""
            _say(f"Study {event.study_name} in {event.storage}: target {event.n_trials} trials{again}")
        elif name == "TrialStarted":
            retry = f" (retry of trial {event.retry_of})" if event.retry_of is not None else ""
            _say(f"trial {event.number} started{retry}: {_params(event.params)}")
        elif name == "TrialFinished":
            value = f"val_loss {event.value:.4f}" if event.value is not None else ""
            where = f"at step {event.pruned_at}" if event.pruned_at is not None else ""
            took = f"({event.duration_s:.1f}s)" if event.duration_s is not None else ""
            _say(
                " ".join(
                    p
                    for p in (f"trial {event.number} {event.state}", value, where, took, event.error or "")
                    if p
                )
            )


def _summary(result: Any) -> None:
    print(
        f"{result.n_complete} complete, {result.n_pruned} pruned, {result.n_failed} failed in {result.duration_s:.1f}s"
    )
    if result.best_value is not None:
        print(
            f"Best val_loss {result.best_value:.4f} (trial {result.best_trial}): {_params(result.best_params)}"
        )
    if result.importances:
        print("Importances: " + ", ".join(f"{k} {v:.2f}" for k, v in result.importances.items()))


def _plain(exc: Exception) -> str:
    """Our own ValueErrors explain themselves; anything else keeps its type for a bug report."""
    return str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"


def _params(params: Any) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _finish(result: Any, args: argparse.Namespace) -> int:
    with human_lines(args):
        _summary(result)
    for message in result.messages:
        _say(f"note: {message}")
    if args.json:
        wrote = write_text(args.json, result.to_json)
        if wrote:
            _say(wrote)
    return EXIT_OK if result.n_complete or result.stopped else EXIT_FAILED


def _resume_hint(args: argparse.Namespace, study: str, storage: str) -> None:
    _say(
        f"Interrupted; the running trial is queued again. Resume with: tbwidgets search-worker --storage {storage} --study {study}"
    )


def search_command(args: argparse.Namespace) -> int:
    """Run `tbwidgets search`; returns the exit code."""
    from tbwidgets.training.hpo import search
    from tbwidgets.training.hpo.study import default_study_name

    try:
        source = source_value(source_kwargs(args))
        cfg, space = _config(args), _space(args.space)
        check_outputs(report_targets(args))  # a report path that cannot be written fails before any trial
    except UsageError as exc:
        _say(f"tbwidgets search: error: {exc.cause}" + (f"\nwhat to do: {exc.fix}" if exc.fix else ""))
        return EXIT_USAGE
    except (ValueError, OSError) as exc:
        _say(f"tbwidgets search: error: {exc}")
        return EXIT_USAGE
    study = args.study or default_study_name()
    storage = args.storage or str(Path(cfg.checkpoint_dir) / study / "study.db")
    return _run_study(
        args,
        "tbwidgets search",
        lambda: search(source, args.data, space, n_trials=args.n_trials, timeout=args.timeout,
                       storage=args.storage, study_name=study, sampler=args.sampler, pruner=args.pruner,
                       config=cfg, on_event=TrialLines()),
        study,
        storage,
    )  # fmt: skip


def worker_command(args: argparse.Namespace) -> int:
    """Run `tbwidgets search-worker`; returns the exit code."""
    from tbwidgets.training.hpo import run_worker

    try:
        check_outputs(report_targets(args))
    except UsageError as exc:
        _say(f"tbwidgets search-worker: error: {exc.cause}\nwhat to do: {exc.fix}")
        return EXIT_USAGE
    return _run_study(
        args,
        "tbwidgets search-worker",
        lambda: run_worker(args.storage, args.study, n_trials=args.n_trials, on_event=TrialLines()),
        args.study,
        args.storage,
    )


def _run_study(args: argparse.Namespace, prog: str, job: Any, study: str, storage: str) -> int:
    """Run a search or a worker: Ctrl-C prints how to resume, any failure is one line (a traceback with --debug)."""
    try:
        result = job()
    except KeyboardInterrupt:
        _resume_hint(args, study, storage)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        _say(f"{prog}: error: {_plain(exc)}")
        return EXIT_USAGE
    return _finish(result, args)
