"""Print the CLI's bad inputs as a Markdown table: case, exit code, first line (for issue notes).

    python -m tests.cli.bad_input_table

Runs every case of `bad_input_cases.CASES` as a subprocess against a fake Gist API, like the golden
test does, and prints what a user sees; nothing is asserted here (the golden test does that).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from tests.cli.bad_input_cases import CASES
from tests.cli.subprocess_cli import first_line, run_cli
from tests.fakes.gist_server import FakeGistAPI


def main() -> int:
    rows = ["| case | command | exit | first line |", "|---|---|---|---|"]
    with FakeGistAPI() as api, tempfile.TemporaryDirectory() as folder:
        api.add_tb_example()
        os.environ.update(TBWIDGETS_GITHUB_API=api.url, TBWIDGETS_CACHE_DIR=str(Path(folder) / "cache"))
        os.environ.pop("GITHUB_TOKEN", None)
        for case in CASES:
            tmp = Path(tempfile.mkdtemp(dir=folder))
            (tmp / "a_file.txt").write_text("not a folder")
            argv = case.argv(tmp)
            proc = run_cli(argv, cwd=tmp, env=case.env)
            shown = " ".join(repr(a) if not a or " " in a else a for a in argv).replace(str(tmp), "DIR")
            prefix = " ".join(f"{k}={v}" for k, v in case.env.items())
            line = first_line(proc.stderr).replace(str(tmp), "DIR").replace("|", "\\|")
            trace = " **(traceback!)**" if "Traceback" in proc.stdout + proc.stderr else ""
            rows.append(
                f"| {case.id} | `{(prefix + ' ') if prefix else ''}tbwidgets {shown}` | {proc.returncode} | {line}{trace} |"
            )
            print(rows[-1], file=sys.stderr, flush=True)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
