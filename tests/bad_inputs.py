"""The `bad_input` marker: a test that feeds a bad or unusual input and asserts how it is explained.

Registered from `tests/conftest.py`. Count what the suites try with
`python -m tests.count_bad_inputs` (collects every test carrying the marker).
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bad_input: feeds a bad or unusual input (CLI, API, widget, loading) and checks the message",
    )
