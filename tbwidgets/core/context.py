"""RunContext: what a running check may use — model, device, seed, progress, cancel, shared cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import torch

if TYPE_CHECKING:
    from tbwidgets.loading.model import LoadedModel

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a check when the user pressed Stop."""


class BudgetExceeded(Exception):
    """Raised inside a check when it ran past its time budget."""


class RunContext:
    """Handed to `Check.run`. One per run; `begin_check` re-arms it for each check."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        device: torch.device | str | None = None,
        seed: int = 0,
        cancel_event: threading.Event | None = None,
        on_progress: Callable[[str, float, str], None] | None = None,
    ) -> None:
        self.loaded = loaded
        self.device = torch.device(device) if device is not None else loaded.facts.device
        self.seed = seed
        self.cancel_event = cancel_event or threading.Event()
        self._on_progress = on_progress
        self._cache: dict[Any, Any] = {}
        self._check_id = ""
        self._deadline = float("inf")

    # -- lifecycle (used by the Runner) ---------------------------------------------------------
    def begin_check(self, check_id: str, budget_s: float | None) -> None:
        self._check_id = check_id
        self._deadline = time.monotonic() + budget_s if budget_s else float("inf")

    # -- for checks -----------------------------------------------------------------------------
    @property
    def adapter(self) -> Any:
        return self.loaded.adapter

    @property
    def model(self) -> torch.nn.Module:
        return self.loaded.module

    @property
    def time_left(self) -> float:
        return self._deadline - time.monotonic()

    def progress(self, fraction: float, note: str = "") -> None:
        """Report progress within the current check (0..1) and honour Stop."""
        self.raise_if_cancelled()
        if self._on_progress is not None:
            self._on_progress(self._check_id, min(max(float(fraction), 0.0), 1.0), note)

    def raise_if_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled()
        if time.monotonic() > self._deadline:
            raise BudgetExceeded()

    def generator(self, offset: int = 0) -> torch.Generator:
        """A CPU generator seeded from the run seed, so every check is reproducible on its own."""
        return torch.Generator().manual_seed(self.seed + offset)

    def random_tokens(self, batch: int, length: int, *, offset: int = 0) -> torch.Tensor:
        """Uniform random token ids (B, T) on the run device."""
        vocab = self.loaded.facts.vocab_size
        ids = torch.randint(0, vocab, (batch, length), generator=self.generator(offset))
        return ids.to(self.device)

    def cached(self, key: Any, compute: Callable[[], T]) -> T:
        """Share an expensive result (e.g. a forward pass) between checks of one run."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]  # type: ignore[no-any-return]

    def clear(self) -> None:
        """Drop everything cached during the run (called by the Runner when the run ends)."""
        self._cache.clear()

    @torch.no_grad()
    def eval_logits(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Eval-mode logits for `input_ids`, cached per run by the input's contents."""
        key = ("eval_logits", tuple(input_ids.shape), hash(input_ids.cpu().numpy().tobytes()))

        def compute() -> torch.Tensor:
            with eval_mode(self.model):
                return self.adapter(input_ids).detach()

        return self.cached(key, compute)


class eval_mode:
    """Context manager: put a module in eval mode and restore its previous mode afterwards."""

    def __init__(self, module: torch.nn.Module, train: bool = False) -> None:
        self.module = module
        self.train = train
        self._modes: list[tuple[torch.nn.Module, bool]] = []

    def __enter__(self) -> torch.nn.Module:
        self._modes = [(m, m.training) for m in self.module.modules()]
        self.module.train(self.train)
        return self.module

    def __exit__(self, *exc: object) -> None:
        for m, was_training in self._modes:
            m.training = was_training
