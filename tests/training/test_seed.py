"""set_random_seed repeats draws, and switching deterministic mode off restores the flags from before."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from tbwidgets.training.seed import create_seeded_generator, seed_worker, set_random_seed


@pytest.fixture(autouse=True)
def _restore_flags() -> Iterator[None]:
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    )
    yield
    set_random_seed(0, deterministic=False)
    assert before[:3] == (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )


def _draws() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_same_seed_same_draws_everywhere() -> None:
    set_random_seed(7)
    first = _draws()
    set_random_seed(7)
    assert _draws() == first
    set_random_seed(8)
    assert _draws() != first


def test_deterministic_on_then_off_restores_previous_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    torch.backends.cudnn.benchmark = True  # a user who had turned benchmarking on
    set_random_seed(1, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    set_random_seed(1, deterministic=True)  # twice in a row must not forget the original state
    set_random_seed(1, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.deterministic and torch.backends.cudnn.benchmark
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    torch.backends.cudnn.benchmark = False


def test_deterministic_off_without_earlier_call_changes_nothing() -> None:
    torch.use_deterministic_algorithms(True, warn_only=True)  # set by the user, not by us
    try:
        set_random_seed(3, deterministic=False)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, True, "1"])
def test_bad_seed_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        set_random_seed(bad)  # type: ignore[arg-type]


def test_seeded_generator_and_worker_seeding() -> None:
    a = torch.randperm(10, generator=create_seeded_generator(5)).tolist()
    assert a == torch.randperm(10, generator=create_seeded_generator(5)).tolist()
    assert a != torch.randperm(10, generator=create_seeded_generator(6)).tolist()

    def order() -> list[int]:
        dl = DataLoader(list(range(10)), batch_size=10, shuffle=True, generator=create_seeded_generator(9))
        return next(iter(dl)).tolist()

    assert order() == order()
    seed_worker(0)  # in the main process it seeds from torch.initial_seed(); must not raise
    torch.manual_seed(11)
    seed_worker(0)
    x = random.random()
    torch.manual_seed(11)
    seed_worker(0)
    assert random.random() == x
