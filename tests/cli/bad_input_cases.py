"""The CLI's bad inputs as data: arguments, expected exit code and the words of the first line.

Shared by the golden test (`test_cli_bad_inputs.py`) and the table printer (`bad_input_table.py`).
`{tmp}` in an argument is a fresh folder (holding `a_file.txt`); gists come from the fake API, which
serves the Transformer Builder example as `{tb}` and nothing under `{missing}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.gist_server import TB_EXAMPLE_GIST_ID

MISSING_GIST_ID = "f" * 32
ONE_FAST_CHECK = ("--check", "tier1.shape_robustness")


@dataclass(frozen=True)
class Case:
    """One command line and what a user must see."""

    id: str
    args: tuple[str, ...]
    code: int
    words: str  # must appear in the first line that is not "Loading model ..."
    env: Mapping[str, str] = field(default_factory=dict)
    before_loading: bool = False  # refused before anything slow starts (no "Loading model ...")
    needs_no_cuda: bool = False

    def argv(self, tmp: Path) -> list[str]:
        values = {"tmp": str(tmp), "tb": TB_EXAMPLE_GIST_ID, "missing": MISSING_GIST_ID}
        return [a.format(**values) for a in self.args]


CASES = [
    Case("no-source", ("validate",), 2, "error: no model source given", before_loading=True),
    Case(
        "empty-gist", ("validate", "--gist", ""), 2, "no gist id given — is GIST_ID set?", before_loading=True
    ),
    Case(
        "blank-gist",
        ("validate", "--gist", "  \t"),
        2,
        "no gist id given — is GIST_ID set?",
        before_loading=True,
    ),
    Case("empty-source", ("validate", ""), 2, "no gist id given — is GIST_ID set?", before_loading=True),
    Case("empty-path", ("validate", "--path", ""), 2, "no path given", before_loading=True),
    Case(
        "empty-revision",
        ("validate", "--gist", "{tb}", "--revision", ""),
        2,
        "no revision given",
        before_loading=True,
    ),
    Case(
        "two-sources",
        ("validate", "--example", "--path", "x"),
        2,
        "give one model source",
        before_loading=True,
    ),
    Case(
        "unknown-flag",
        ("validate", "--example", "--bogus"),
        2,
        "unrecognized arguments: --bogus",
        before_loading=True,
    ),
    Case(
        "bad-task",
        ("validate", "--example", "--task", "lm"),
        2,
        "argument --task: invalid choice",
        before_loading=True,
    ),
    Case(
        "tier-3",
        ("validate", "--example", "--tiers", "3"),
        2,
        "--tiers takes 1 and/or 2",
        before_loading=True,
    ),
    Case(
        "tier-word",
        ("validate", "--example", "--tiers", "one"),
        2,
        "--tiers takes numbers",
        before_loading=True,
    ),
    Case(
        "timeout-zero",
        ("validate", "--example", "--timeout", "0"),
        2,
        "argument --timeout: takes a number of seconds",
        before_loading=True,
    ),
    Case(
        "max-bytes-negative",
        ("validate", "--example", "--max-file-bytes", "-5"),
        2,
        "argument --max-file-bytes",
        before_loading=True,
    ),
    Case(
        "json-folder-missing",
        ("validate", "--example", "--json", "{tmp}/no/r.json"),
        2,
        "cannot write --json",
        before_loading=True,
    ),
    Case(
        "html-is-a-folder",
        ("validate", "--example", "--html", "{tmp}"),
        2,
        "it is a folder",
        before_loading=True,
    ),
    Case(
        "junit-under-a-file",
        ("validate", "--example", "--junit", "{tmp}/a_file.txt/r.xml"),
        2,
        "is a file, not a folder",
        before_loading=True,
    ),
    Case(
        "same-report-twice",
        ("validate", "--example", "--json", "{tmp}/r", "--html", "{tmp}/r"),
        2,
        "both write",
        before_loading=True,
    ),
    Case(
        "empty-report-name",
        ("validate", "--example", "--json", ""),
        2,
        "--json got an empty file name",
        before_loading=True,
    ),
    Case(
        "unknown-check", ("validate", "--example", "--check", "tier1.nope"), 2, "Unknown check 'tier1.nope'"
    ),
    Case(
        "misspelt-check",
        ("validate", "--example", "--check", "tier1.determinsm"),
        2,
        "Did you mean 'tier1.determinism'?",
    ),
    Case("tier-as-check", ("validate", "--example", "--check", "tier1"), 2, "that is a tier"),
    Case("gist-404", ("validate", "--gist", "{missing}"), 2, "was not found (HTTP 404)"),
    Case(
        "not-a-gist-url",
        ("validate", "https://example.com/model.py"),
        2,
        "https://example.com/model.py is not a gist URL",
    ),
    Case("no-such-path", ("validate", "--path", "{tmp}/no/such/dir"), 2, "not found"),
    Case(
        "cuda-missing",
        ("validate", "--example", "--device", "cuda"),
        2,
        "CUDA is not available",
        needs_no_cuda=True,
    ),
    Case(
        "ascii-terminal-usage",
        ("validate", "--gist", ""),
        2,
        "no gist id given -- is GIST_ID set?",
        env={"PYTHONIOENCODING": "ascii"},
        before_loading=True,
    ),
    Case(
        "ascii-terminal-table",
        ("validate", "--example", "--check", "tier1.causal_leakage"),
        0,
        "Loaded TinyGPT",
        env={"PYTHONIOENCODING": "ascii"},
    ),
    Case(
        "embed-url",
        ("validate", "https://gist.github.com/tb-user/{tb}.js", *ONE_FAST_CHECK),
        0,
        "Loaded CustomTransformer",
    ),
    Case(
        "checks-as-one-comma-list",
        ("validate", "--example", "--check", "tier1.shape_robustness, tier1.causal_leakage"),
        0,
        "Loaded TinyGPT",
    ),
]
