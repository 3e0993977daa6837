"""tier1.determinism: fresh eval-mode forwards on the same input agree; reports whether train mode is stochastic.

Tells carried state (a cache kept between calls: the same seed gives another output after a different
input ran) from randomness (dropout in eval: another seed gives another output).
"""

from __future__ import annotations

import torch

from tbwidgets.checks.tier1._common import Tier1Check, forward_problem, max_abs_diff, own_rng, standard_ids
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status


@register
class Determinism(Tier1Check):
    check_id = "tier1.determinism"
    title = "Determinism"
    budget_s = 60.0

    def __init__(self, atol: float = 1e-5, train_length: int = 16, state_length: int = 32) -> None:
        self.atol = atol  # the same computation twice is bit-identical on CPU; GPUs stay far below this
        self.train_length = train_length  # a short input suffices to see dropout in train mode
        self.state_length = state_length  # carried state and eval randomness show at any length

    def skip_reason(self, ctx: RunContext) -> str | None:
        return forward_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        ids = standard_ids(ctx)[:2, : self.state_length]  # four forwards: keep them small
        ctx.progress(0.1, "fresh eval forwards")
        # Fresh calls, never the shared cached forward: a model that carries state between calls
        # (a KV cache that is never reset) must show it. Same RNG seed for the repeat, so a
        # difference is state; another seed for the third call, so a difference is randomness.
        first = self._eval(ctx, ids, seed=7919)
        self._eval(ctx, ctx.random_tokens(ids.shape[0], ids.shape[1], offset=17), seed=1)
        repeat = self._eval(ctx, ids, seed=7919)
        reseeded = self._eval(ctx, ids, seed=104729)
        state_diff = max_abs_diff(first, repeat)
        diff = max(state_diff, max_abs_diff(repeat, reseeded))
        ctx.progress(0.6, "train-mode forwards")
        train_diff = self._train_diff(ctx, ids[:, : self.train_length])
        metrics = {
            "eval_max_abs_diff": diff,
            "state_max_abs_diff": state_diff,
            "train_max_abs_diff": train_diff,
        }
        stochastic = "stochastic (dropout; expected)" if train_diff > self.atol else "deterministic"
        if not state_diff <= self.atol:
            return self.result(
                Status.FAIL,
                f"The same input gives outputs {state_diff:.3g} apart after another call: outputs depend "
                "on earlier calls: a cache that is never reset?",
                "Two eval forwards on the same input, with the same random seed, differ once another "
                "input was run in between, so the model keeps state from call to call (a key/value "
                "cache, a running buffer, an attribute updated in forward). Every validation score then "
                "depends on what ran before. Reset the state at the start of each forward, or only use "
                f"it when a flag such as use_cache=True asks for it. (Train mode is {stochastic}.)",
                metrics=metrics,
            )
        if not diff <= self.atol:
            return self.result(
                Status.FAIL,
                f"Two eval forwards on the same input differ by {diff:.3g}: dropout or randomness active in eval mode?",
                "model.eval() should make the model deterministic; otherwise validation scores are noisy "
                "and generation is not reproducible. Look for F.dropout(x, p) without "
                "training=self.training, torch.rand/randn inside forward, or a module kept in train "
                f"mode. (Train mode is {stochastic}.)",
                metrics=metrics,
            )
        return self.result(
            Status.PASS,
            f"Fresh eval forwards agree (max diff {diff:.2g}), also after other inputs; train mode is {stochastic}.",
            "The model is deterministic in eval mode and keeps no state between calls, so validation "
            "scores and generation are reproducible.",
            metrics=metrics,
        )

    def _eval(self, ctx: RunContext, ids: torch.Tensor, seed: int) -> torch.Tensor:
        with eval_mode(ctx.model), torch.no_grad(), own_rng():
            torch.manual_seed(ctx.seed + seed)
            return ctx.adapter(ids).float()

    def _train_diff(self, ctx: RunContext, ids: torch.Tensor) -> float:
        with eval_mode(ctx.model, train=True), torch.no_grad(), own_rng():
            a = ctx.adapter(ids).float()
            b = ctx.adapter(ids).float()
        return max_abs_diff(a, b)
