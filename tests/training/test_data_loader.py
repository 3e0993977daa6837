"""ResumableLoader: same next batch after state_dict/load_state_dict mid-epoch, epochs, ranks, mismatches."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from tbwidgets.training.data import loader as loader_mod
from tbwidgets.training.data.loader import ResumableLoader


class Numbers(Dataset[torch.Tensor]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor(i)


def _make(n: int = 37, batch: int = 8, seed: int = 3, **kw: object) -> ResumableLoader:
    return ResumableLoader(Numbers(n), batch_size=batch, seed=seed, **kw)  # type: ignore[arg-type]


def _stream(dl: ResumableLoader, n_batches: int) -> list[list[int]]:
    out: list[list[int]] = []
    while len(out) < n_batches:
        for b in dl:
            out.append(b.tolist())
            if len(out) == n_batches:
                break
    return out


def test_each_epoch_is_a_full_new_permutation() -> None:
    dl = _make()
    e0, e1 = [x for b in dl for x in b.tolist()], [x for b in dl for x in b.tolist()]
    assert sorted(e0) == sorted(e1) == list(range(37))
    assert e0 != e1 and dl.state_dict()["epoch"] == 2
    assert [x for b in _make() for x in b.tolist()] == e0  # same seed, same order


@pytest.mark.parametrize("stop_after", [1, 3, 4, 5, 7, 11])  # 5 batches an epoch: mid, last, next epoch
def test_resume_gives_the_same_next_batches(stop_after: int) -> None:
    reference = _stream(_make(), 14)
    first = _make()
    seen = _stream(first, stop_after)
    state = first.state_dict()
    resumed = _make()  # a fresh process would build a fresh loader
    resumed.load_state_dict(state)
    assert seen + _stream(resumed, 14 - stop_after) == reference


def test_state_dict_counts_batches_handed_out() -> None:
    dl = _make()
    it = iter(dl)
    next(it), next(it)
    assert dl.state_dict() == {
        "epoch": 0,
        "batches_consumed": 2,
        "seed": 3,
        "n": 37,
        "batch_size": 8,
        "world_size": 1,
    }
    for _ in it:
        pass
    assert dl.state_dict()["epoch"] == 1 and dl.state_dict()["batches_consumed"] == 0
    fresh = _make()
    fresh.load_state_dict({**dl.state_dict(), "epoch": 0, "batches_consumed": 5})  # at an epoch's end
    assert fresh.state_dict()["epoch"] == 1 and fresh.state_dict()["batches_consumed"] == 0


def test_resumed_position_survives_being_saved_again_before_iterating() -> None:
    first = _make()
    _stream(first, 2)
    second = _make()
    second.load_state_dict(first.state_dict())
    third = _make()
    third.load_state_dict(second.state_dict())  # a checkpoint written before any batch was drawn
    assert _stream(third, 1) == _stream(_make(), 3)[2:]


def test_other_data_warns_and_restarts_the_epoch() -> None:
    first = _make()
    _stream(first, 2)
    other = _make(seed=4)
    with pytest.warns(UserWarning, match="differs from this loader"):
        other.load_state_dict(first.state_dict())
    assert _stream(other, 1) == _stream(_make(seed=4), 1)


def test_new_batch_size_continues_after_the_examples_seen() -> None:
    first = _make(batch=8)
    _stream(first, 2)  # 16 examples seen
    bigger = _make(batch=4)
    bigger.load_state_dict(first.state_dict())
    flat = [x for b in _stream(_make(batch=4), 5) for x in b]
    assert _stream(bigger, 1)[0] == flat[16:20]


def test_unshuffled_loader_keeps_order() -> None:
    assert [x for b in _make(shuffle=False) for x in b.tolist()] == list(range(37))


def test_each_rank_gets_its_own_equal_share(monkeypatch: pytest.MonkeyPatch) -> None:
    shares = []
    for rank in (0, 1, 2):
        monkeypatch.setattr(loader_mod, "_world", lambda rank=rank: (3, rank))
        dl = _make(n=10, batch=2)
        shares.append([x for b in dl for x in b.tolist()])
        assert len(dl) == 2 and dl.state_dict()["world_size"] == 3  # ceil(ceil(10 / 3) / 2)
    assert all(len(s) == 4 for s in shares)  # 10 padded to 12 by wrapping
    assert set().union(*map(set, shares)) == set(range(10))


def test_workers_give_the_same_batches_as_the_main_process() -> None:
    plain = [b.tolist() for b in _make()]
    assert [b.tolist() for b in _make(num_workers=2)] == plain


def test_resuming_on_another_device_count_warns_and_keeps_the_example_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loader_mod, "_world", lambda: (2, 0))
    two = _make(n=64, batch=4)
    _stream(two, 3)  # 3 batches × 4 examples × 2 ranks = 24 examples
    state = two.state_dict()
    monkeypatch.setattr(loader_mod, "_world", lambda: (1, 0))
    one = _make(n=64, batch=4)
    with pytest.warns(UserWarning, match="Resuming on 1 device"):
        one.load_state_dict(state)
    assert one.state_dict()["batches_consumed"] == 6


def test_an_abandoned_iterator_does_not_disturb_a_resumed_one() -> None:
    first = _make()
    _stream(first, 2)
    resumed = _make()
    old = iter(resumed)
    next(old)  # an iterator someone dropped mid-epoch
    resumed.load_state_dict(first.state_dict())
    new = iter(resumed)
    del old  # collected while the resumed pass has not fetched yet
    assert next(new).tolist() == _stream(_make(), 3)[2]
