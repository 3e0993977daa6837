"""Under a real torch.distributed process group (2 CPU processes, gloo) each rank gets its own equal share."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import Dataset

from tbwidgets.training.data.loader import ResumableLoader


class Numbers(Dataset[torch.Tensor]):
    def __len__(self) -> int:
        return 21

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor(i)


def _rank(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        dl = ResumableLoader(Numbers(), batch_size=4, seed=1)
        seen = [b.tolist() for b in dl]
        torch.save({"len": len(dl), "seen": seen, "state": dl.state_dict()}, f"{out}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow  # two processes and a gloo group: a few seconds
def test_two_ranks_split_an_epoch(tmp_path: Path) -> None:
    mp.start_processes(_rank, args=(_free_port(), str(tmp_path)), nprocs=2, start_method="spawn")
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert r0["len"] == r1["len"] == 3  # 21 examples → 11 per rank (one wrapped) → 3 batches of ≤ 4
    flat0 = [x for b in r0["seen"] for x in b]
    flat1 = [x for b in r1["seen"] for x in b]
    assert len(flat0) == len(flat1) == 11
    assert set(flat0) | set(flat1) == set(range(21))
    assert r0["state"]["world_size"] == 2 and r0["state"]["epoch"] == 1
