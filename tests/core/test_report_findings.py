"""Load-time findings (e.g. config and model disagree) and incomplete runs, in every report format."""

from __future__ import annotations

import json
from dataclasses import replace
from xml.etree import ElementTree as ET

import pytest

from tbwidgets.cli.table import results_table
from tbwidgets.core import Report, Runner, Status
from tbwidgets.loading import Finding
from tests.core.helpers import FixedCheck, tiny_loaded

VOCAB = Finding(
    "warn",
    "config.json says vocab_size 32000, but the token embedding has 16 rows <16>",
    "Fix vocab_size in config.json, or re-export the model.",
)
NOTE = Finding("info", "No config.json: sizes were read from the model.")


def _report(*findings: Finding) -> Report:
    loaded = tiny_loaded()
    loaded.findings.extend(findings)
    return Runner(loaded, [FixedCheck(Status.PASS, "t.pass"), FixedCheck(Status.WARN, "t.warn")]).run()


@pytest.mark.bad_input  # a vocabulary mismatch found while loading
def test_json_carries_the_findings() -> None:
    data = json.loads(_report(VOCAB).to_json())
    assert data["model"]["findings"] == [{"level": "warn", "message": VOCAB.message, "fix": VOCAB.fix}]


@pytest.mark.bad_input  # a vocabulary mismatch found while loading
def test_html_shows_each_finding_with_its_fix_escaped() -> None:
    page = _report(VOCAB, NOTE).to_html()
    assert "Found while loading" in page
    assert "vocab_size 32000, but the token embedding has 16 rows &lt;16&gt;" in page
    assert "What to do: Fix vocab_size in config.json" in page
    assert NOTE.message in page
    assert page.index("Found while loading") < page.index("t.pass")  # above the results


@pytest.mark.bad_input  # a vocabulary mismatch found while loading
def test_junit_shows_findings_as_a_passing_case() -> None:
    suite = ET.fromstring(_report(VOCAB).to_junit().split("\n", 1)[1])
    cases = suite.findall("testcase")
    assert suite.get("tests") == str(len(cases)) == "3"
    (loading,) = [c for c in cases if c.get("name") == "loading.findings"]
    assert loading.find("failure") is None  # findings inform; the exit code stays the checks' verdict
    text = loading.findtext("system-out") or ""
    assert "WARN: config.json says vocab_size 32000" in text and "What to do: Fix vocab_size" in text


@pytest.mark.bad_input  # a vocabulary mismatch found while loading
def test_cli_table_lists_findings_before_the_verdict() -> None:
    table = results_table(_report(VOCAB))
    assert "Found while loading (1):" in table
    assert "  WARN  config.json says vocab_size 32000" in table
    assert "what to do: Fix vocab_size in config.json" in table
    assert table.rstrip().endswith("Tiny: no failures (1 pass, 1 warn).")


def test_no_findings_leave_every_format_as_before() -> None:
    report = _report()
    assert "Found while loading" not in report.to_html() + results_table(report)
    assert "loading.findings" not in report.to_junit()


def test_an_incomplete_run_is_marked_in_every_format() -> None:
    report = _report()
    stopped = replace(
        report,
        cancelled=True,
        results=[
            *report.results,
            FixedCheck(Status.SKIPPED, "t.later").result(Status.SKIPPED, "Not run: stopped."),
        ],
    )
    assert json.loads(stopped.to_json())["incomplete"] is True
    assert json.loads(report.to_json())["incomplete"] is False
    assert (
        "Incomplete:</strong> the run was stopped before the end; 1 of 3 checks did not finish"
        in stopped.to_html()
    )
    assert "Incomplete" not in report.to_html()
    assert '<property name="incomplete" value="true" />' in stopped.to_junit()
    assert "<properties>" not in report.to_junit()
    assert "stopped before the end" in results_table(stopped)
