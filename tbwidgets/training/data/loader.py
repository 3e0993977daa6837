"""Loaders that resume mid-epoch at the exact batch: a seeded sampler and a DataLoader that counts.

The order of an epoch is a permutation drawn from `seed + epoch`, so it can be recomputed instead of
stored; the position is the number of batches handed out in that epoch. `state_dict()` returns
{epoch, batches_consumed, ...}; `load_state_dict()` makes the next iteration skip exactly those batches
(at the sampler, so skipped batches are never loaded). Lightning finds both methods through its
`_Stateful` protocol and stores them in the checkpoint's fit-loop state.

Checked with Lightning 2.6.6: a checkpoint saved in `on_train_batch_end` (mid-epoch or at an epoch's
last batch) and resumed with `fit(ckpt_path=...)` replays exactly the batches of the uninterrupted run
(tests/training/test_data_resume.py). Under DDP, pass `use_distributed_sampler=False` to the Trainer: the sampler shards by rank itself
(Lightning's replacement sampler would lose the position).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from tbwidgets.training.seed import create_seeded_generator, seed_worker


def _world() -> tuple[int, int]:
    """(world size, rank) of the running process group, or (1, 0) outside distributed training."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


class ResumableSampler(Sampler[int]):
    """Indices of one epoch: a permutation from `seed + epoch` (or in order), this rank's share, from `start`.

    With `tag_epoch`, index i of epoch e is yielded as `e * n + i`, so a dataset can vary per epoch
    (dynamic masking) and still be a pure function of what the sampler yields.
    """

    def __init__(self, n: int, *, seed: int, shuffle: bool = True, tag_epoch: bool = False) -> None:
        self.n, self.seed, self.shuffle, self.tag_epoch = n, seed, shuffle, tag_epoch
        self.epoch = 0
        self.start = 0  # index into this rank's order where the next iteration begins

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def order(self, epoch: int) -> list[int]:
        """This rank's indices for `epoch`, padded by wrapping so every rank gets the same count."""
        if self.shuffle:
            perm = torch.randperm(self.n, generator=create_seeded_generator(self.seed + epoch)).tolist()
        else:
            perm = list(range(self.n))
        world, rank = _world()
        if world > 1:
            total = -(-self.n // world) * world
            perm = (perm * (total // max(self.n, 1) + 1))[:total]
            perm = perm[rank::world]
        return perm

    def __len__(self) -> int:
        world, _ = _world()
        return -(-self.n // world) if world > 1 else self.n

    def __iter__(self) -> Iterator[int]:
        start, self.start = self.start, 0  # a skip applies to one pass only
        offset = self.epoch * self.n if self.tag_epoch else 0
        for i in self.order(self.epoch)[start:]:
            yield offset + i


class ResumableLoader(DataLoader):
    """A DataLoader whose exact position survives a checkpoint: see the module docstring for the protocol.

    Use it like any DataLoader. Each full pass advances the epoch by itself (Lightning's `set_epoch`
    agrees with that); `state_dict()` may be called at any time, `load_state_dict()` before iterating.
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        *,
        batch_size: int,
        seed: int,
        shuffle: bool = True,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        num_workers: int = 0,
        tag_epoch: bool = False,
        **kwargs: Any,
    ) -> None:
        sampler = ResumableSampler(len(dataset), seed=seed, shuffle=shuffle, tag_epoch=tag_epoch)  # type: ignore[arg-type]
        super().__init__(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            collate_fn=collate_fn,
            num_workers=num_workers,
            worker_init_fn=seed_worker if num_workers else None,
            generator=create_seeded_generator(seed),
            **kwargs,
        )
        self.seed = seed
        self._yielded = 0  # batches handed out by the current iteration
        self._skip = 0  # batches to skip at the start of the next iteration (after load_state_dict)

    @property
    def resumable_sampler(self) -> ResumableSampler:
        assert isinstance(self.sampler, ResumableSampler)
        return self.sampler

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        sampler = self.resumable_sampler
        sampler.start, self._yielded, self._skip = self._skip * self.batch_size, self._skip, 0  # type: ignore[operator]
        for batch in super().__iter__():
            self._yielded += 1
            yield batch
        # a completed pass: the next one is the next epoch, from its first batch
        sampler.epoch += 1
        self._yielded = 0

    def state_dict(self) -> dict[str, Any]:
        """Where the consumer is: {epoch, batches_consumed} plus what must match on resume."""
        return {
            "epoch": self.resumable_sampler.epoch,
            "batches_consumed": self._yielded or self._skip,
            "seed": self.seed,
            "n": self.resumable_sampler.n,
            "batch_size": self.batch_size,
            "world_size": _world()[0],
        }

    def _regroup(self, state: dict[str, Any], consumed: int) -> int:
        """Batches to skip when the batch size or device count changed: as many examples as were seen."""
        old_world, new_world = int(state.get("world_size", 1)), _world()[0]
        if old_world != new_world:
            warnings.warn(
                f"Resuming on {new_world} device(s) a run saved on {old_world}: training continues after the "
                "same number of examples, but the batches differ from those the interrupted run would have seen.",
                UserWarning,
                stacklevel=3,
            )
        seen = consumed * int(state["batch_size"]) * old_world
        return seen // (int(self.batch_size) * new_world)  # type: ignore[arg-type]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue at the saved batch: the next iteration starts there (in the saved epoch)."""
        sampler = self.resumable_sampler
        epoch, consumed = int(state["epoch"]), int(state["batches_consumed"])
        if state.get("n") != sampler.n or state.get("seed") != self.seed:
            warnings.warn(
                f"The checkpoint's data (seed {state.get('seed')}, {state.get('n')} examples) differs from this "
                f"loader's (seed {self.seed}, {sampler.n} examples); resuming at the start of epoch {epoch}, "
                "so batches will not match the interrupted run. Pass the same data and seed to resume exactly.",
                UserWarning,
                stacklevel=2,
            )
            consumed = 0
        elif state.get("batch_size") != self.batch_size or state.get("world_size", 1) != _world()[0]:
            consumed = self._regroup(state, consumed)
        if consumed >= len(self):
            epoch, consumed = epoch + 1, 0
        sampler.set_epoch(epoch)
        self._yielded, self._skip = 0, consumed
