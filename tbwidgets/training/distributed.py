"""More than one device: which strategy may run where, and bringing notebook DDP events home.

Scripts and the CLI hand `devices` / `strategy` / `num_nodes` to Lightning as they are (DDP, FSDP,
multi-node). A notebook kernel cannot re-run itself per rank, so there `ddp_notebook` (fork) is the
only multi-device strategy, and only while CUDA is untouched in the kernel; its callbacks run in the
forked children, so their events travel back through a queue (training-recipes §7).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import torch

_NOTEBOOK_STRATEGIES = ("auto", "ddp", "ddp_notebook", "ddp_fork")


def in_notebook() -> bool:
    from lightning.fabric.utilities.imports import _IS_INTERACTIVE

    return bool(_IS_INTERACTIVE)


def _many(config: Any) -> bool:
    # "auto" is one device in a notebook (Lightning does the same there); -1 asks for all of them
    return config.devices == -1 or (isinstance(config.devices, int) and config.devices > 1)


def resolve_devices(config: Any, *, notebook: bool | None = None) -> Any:
    """The config to hand Lightning: unchanged in scripts; in a notebook, multi-device means ddp_notebook."""
    notebook = in_notebook() if notebook is None else notebook
    if not notebook:
        return config
    if not _many(config) and config.num_nodes <= 1:
        return config.replace(devices=1) if config.devices == "auto" else config
    strategy = config.strategy if config.strategy not in _NOTEBOOK_STRATEGIES else "ddp"
    cli = (
        f"tbwidgets train SOURCE --config cfg.json --devices {config.devices} --strategy {strategy}"
        if config.num_nodes <= 1
        else f"the CLI on each node (tbwidgets train ... --strategy {strategy}) under your cluster launcher"
    )
    if config.num_nodes > 1 or config.strategy not in _NOTEBOOK_STRATEGIES:
        raise RuntimeError(
            f"strategy={config.strategy!r} with num_nodes={config.num_nodes} cannot run inside a notebook "
            f"kernel. Save the config (config.save('cfg.json')) and run {cli} from a terminal."
        )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        raise RuntimeError(
            "Several devices in a notebook need ddp_notebook, which forks the kernel, and CUDA is already in "
            "use here (a check or a model used the GPU), so forking would crash. Restart the kernel and train "
            f"before touching the GPU, or save the config and run {cli} from a terminal."
        )
    return config.replace(strategy="ddp_notebook")


class NotebookRelay:
    """Forked DDP ranks put events on a queue; a thread in the kernel hands them to the listeners.

    Stop crosses the other way: a threading.Event set in the kernel is invisible after fork, so a
    thread mirrors it into a multiprocessing Event the children read.
    """

    def __init__(self, emit: Callable[[Any], None], stop: Any) -> None:
        ctx = multiprocessing.get_context("fork")
        self.queue: Any = ctx.SimpleQueue()
        self.child_stop = ctx.Event()
        self.emit, self.stop = emit, stop
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="tbw-ddp-relay", daemon=True)

    def child_emit(self, event: Any) -> None:
        self.queue.put(event)

    def __enter__(self) -> NotebookRelay:
        self._thread.start()
        threading.Thread(target=self._mirror_stop, name="tbw-ddp-stop", daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.queue.put(None)  # after the children are gone: the pump drains what they sent, then ends
        self._thread.join()
        self._done.set()

    def _pump(self) -> None:
        while (event := self.queue.get()) is not None:
            self.emit(event)

    def _mirror_stop(self) -> None:
        while not self._done.wait(0.1):
            if self.stop.is_set():
                self.child_stop.set()
                return
