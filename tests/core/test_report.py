"""Report exports: JSON shape, self-contained HTML, JUnit XML, DataFrame."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from xml.etree import ElementTree as ET

import pytest

from tbwidgets.core import Report, Runner, Status
from tests.core.helpers import CrashingCheck, FixedCheck, SkippingCheck, tiny_loaded


def _report() -> Report:
    checks = [
        FixedCheck(Status.PASS, "t.pass"),
        FixedCheck(Status.WARN, "t.warn"),
        FixedCheck(Status.FAIL, "t.fail"),
    ]
    return Runner(tiny_loaded(), [*checks, CrashingCheck(), SkippingCheck()]).run()


def test_status_is_the_worst_and_ok_ignores_warnings() -> None:
    report = _report()
    assert report.status is Status.ERROR and not report.ok
    assert report.counts() == {"pass": 1, "warn": 1, "fail": 1, "error": 1, "skipped": 1}
    warn_only = Runner(tiny_loaded(), [FixedCheck(Status.WARN)]).run()
    assert warn_only.status is Status.WARN and warn_only.ok


def test_json_lists_each_result_with_id_and_status(tmp_path) -> None:
    path = tmp_path / "r.json"
    _report().to_json(path)
    data = json.loads(path.read_text())
    assert data["status"] == "error"
    assert [(r["check_id"], r["status"]) for r in data["results"]] == [
        ("t.pass", "pass"), ("t.warn", "warn"), ("t.fail", "fail"), ("test.crash", "error"), ("test.skipping", "skipped"),
    ]  # fmt: skip
    assert data["results"][0]["metrics"] == {"x": 1.0}
    assert data["model"]["name"] == "Tiny" and data["model"]["facts"]["vocab_size"] == 16


def test_html_is_self_contained_and_escapes_text() -> None:
    page = _report().to_html()
    assert page.startswith("<!doctype html>")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page), "no network loads"
    assert "<script" not in page
    assert "planted crash" in page and "fail on purpose" in page
    assert "ZeroDivisionError" in page  # the traceback is in the report


def test_junit_has_one_case_per_check_with_failures_and_errors() -> None:
    root = ET.fromstring(_report().to_junit())
    assert root.attrib["tests"] == "5" and root.attrib["failures"] == "1" and root.attrib["errors"] == "1"
    cases = {c.attrib["name"]: c for c in root.iter("testcase")}
    assert cases["t.fail"].find("failure") is not None
    assert cases["test.crash"].find("error") is not None
    assert cases["test.skipping"].find("skipped") is not None
    assert cases["t.pass"].find("failure") is None


def test_frame_has_one_row_per_check_and_metric_columns() -> None:
    frame = _report().to_frame()
    assert list(frame["check_id"]) == ["t.pass", "t.warn", "t.fail", "test.crash", "test.skipping"]
    assert frame.loc[0, "metric.x"] == 1.0


def test_repr_is_stable_and_informative() -> None:
    assert repr(_report()) == "<Report Tiny: error (1 pass, 1 warn, 1 fail, 1 error, 1 skipped)>"


def test_json_is_strict_even_with_nan_in_tables_and_metrics() -> None:
    report = _report()
    nan_result = replace(report.results[0], metrics={"x": float("nan")}, table=[{"v": float("inf")}])
    text = replace(report, results=[nan_result]).to_json()
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert data["results"][0]["metrics"] == {"x": None} and data["results"][0]["table"] == [{"v": None}]


def test_skips_do_not_outrank_passes() -> None:
    """A healthy classifier skips the causal checks; its report is a pass, not "skipped"."""
    passed = Runner(tiny_loaded(), [FixedCheck(Status.PASS), SkippingCheck()]).run()
    assert passed.status is Status.PASS and passed.ok
    warned = Runner(tiny_loaded(), [SkippingCheck(), FixedCheck(Status.WARN)]).run()
    assert warned.status is Status.WARN
    assert Runner(tiny_loaded(), [SkippingCheck()]).run().status is Status.SKIPPED
    assert Runner(tiny_loaded(), []).run().status is Status.SKIPPED
