"""Shared pytest fixtures. Helpers add theirs here with one import line each."""

from __future__ import annotations

import sys
from pathlib import Path

# `tests.fakes` must import even when tbwidgets is installed as a wheel (no repo root on sys.path).
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.bad_inputs import pytest_configure  # noqa: E402
from tests.fakes.gist_server import fake_gist_api, fake_gist_env  # noqa: E402

__all__ = ["fake_gist_api", "fake_gist_env", "pytest_configure"]
