"""tier1.overfit_batch: a copy of the model trained on one small batch must drive the loss well down.

A model that cannot memorise one batch cannot learn at all (Karpathy's recipe). The user's model is
never touched: training runs on a deep copy, with dropout off so memorising is possible.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable

import torch
from torch import nn

from tbwidgets.checks.tier1._common import (
    Tier1Check,
    first_line,
    forward_problem,
    loss_name,
    own_rng,
    task_batch,
)
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext
from tbwidgets.core.result import CheckResult, Status


@register
class OverfitBatch(Tier1Check):
    check_id = "tier1.overfit_batch"
    title = "Overfit one batch"
    budget_s = 120.0

    def __init__(
        self,
        batch: int = 2,
        length: int = 16,
        lr: float = 1e-2,
        max_steps: int = 300,
        target_fraction: float = 0.2,
        warn_fraction: float = 0.7,
        time_box_s: float = 6.0,
        patience: int = 40,
        compact_above: int = 50_000_000,
    ) -> None:
        self.batch, self.length = batch, length  # few tokens to memorise: fast on CPU
        self.lr = lr  # Adam; memorises in 5–20 steps on healthy models, still stable
        self.max_steps = max_steps
        # "well below": the loss must reach 20% of its start (or of ln(V), if it started above that)
        self.target_fraction = target_fraction
        self.warn_fraction = warn_fraction  # fell but not enough within the time box: WARN
        self.time_box_s = time_box_s  # wall-clock cap on CPU; GPUs finish far sooner
        self.patience = patience  # steps without a 1% improvement: stuck, stop early
        # above this many parameters the optimizer keeps only a bfloat16 second moment (RMSprop with
        # Adam's bias correction): 6 bytes less per parameter (0.75 GB on GPT-2-small), and memorising
        # one batch needs neither momentum nor more precision
        self.compact_above = compact_above

    def skip_reason(self, ctx: RunContext) -> str | None:
        if not any(p.requires_grad for p in ctx.model.parameters()):
            return "The model has no trainable parameters."
        return forward_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        ctx.progress(0.02, "copying the model")
        model = copy.deepcopy(ctx.model)
        adapter = _rebind(ctx, model)
        ids = ctx.random_tokens(self.batch, min(self.length, ctx.loaded.facts.max_len), offset=9)
        batch = task_batch(ctx.loaded, ids, ctx.generator(9))
        model.train()
        for m in model.modules():
            if isinstance(m, nn.Dropout):
                m.eval()
        params = [p for p in model.parameters() if p.requires_grad]
        compact = sum(p.numel() for p in params) > self.compact_above
        opt = _Adam(params, lr=self.lr, compact=compact)
        curve: list[float] = []
        target, out_of_time = 0.0, False
        stop = time.perf_counter() + self.time_box_s
        with own_rng():
            for step in range(self.max_steps):
                ctx.raise_if_cancelled()
                logits = adapter(batch.inputs)
                loss = batch.loss(logits)
                curve.append(float(loss.detach()))
                if step == 0:  # the target is relative to chance too: a huge start is no credit
                    target = self.target_fraction * min(curve[0], batch.chance_loss(logits))
                if not math.isfinite(curve[-1]) or curve[-1] <= target:
                    break
                if _stuck(curve, self.patience):
                    break
                if step > 0 and time.perf_counter() > stop:  # at least one update, however slow
                    out_of_time = True
                    break
                for p in params:
                    p.grad = None
                opt.begin_step()
                try:
                    loss.backward()  # each parameter is updated as soon as its gradient is complete
                except RuntimeError as exc:
                    return self.result(
                        Status.SKIPPED, f"Backward fails ({first_line(exc)}); see Gradient flow."
                    )
                opt.finish_step()
                if step % 10 == 0:
                    ctx.progress(
                        0.05 + 0.9 * min(step / self.max_steps, 1.0), f"step {step}, loss {curve[-1]:.3f}"
                    )
        opt.close()
        del model, opt, adapter, logits, loss  # the copy, its graph and Adam's state go now
        return self._verdict(ctx, curve, target, out_of_time)

    def _verdict(self, ctx: RunContext, curve: list[float], target: float, out_of_time: bool) -> CheckResult:
        start, end = curve[0], curve[-1]
        metrics = {
            "start_loss": start,
            "final_loss": end,
            "steps": float(len(curve) - 1),
            "fraction": end / start,
        }
        table = [{"step": i, "loss": v} for i, v in enumerate(curve)]
        artifacts = {"loss_curve": curve}
        how = (
            f"Adam lr {self.lr:g} on {self.batch}×{self.length} random tokens, {loss_name(ctx.loaded.task)}."
        )
        kw = {"metrics": metrics, "table": table, "artifacts": artifacts}
        if not math.isfinite(end):
            return self.result(
                Status.FAIL,
                f"The loss became NaN/Inf after {len(curve) - 1} steps of training on one batch.",
                f"{how} Training diverges: check the initialisation, normalisation and the learning rate.",
                **kw,
            )
        if end <= target:
            return self.result(
                Status.PASS,
                f"Memorised one batch: loss {start:.4g} → {end:.4g} in {_steps(curve)}.",
                f"{how} The model can fit data, so gradients, optimizer and loss are wired correctly.",
                **kw,
            )
        if out_of_time and end < start:
            return self.result(
                Status.WARN,
                f"Out of time after {_steps(curve)}: loss {start:.4g} → {end:.4g} and still falling "
                f"(target {target:.3g}).",
                f"{how} Training steps are too slow on this device to finish within {self.time_box_s:g} s, "
                "so this is no verdict on the model. Run on a GPU, or raise time_box_s.",
                **kw,
            )
        status = Status.WARN if end <= target / self.target_fraction * self.warn_fraction else Status.FAIL
        return self.result(
            status,
            f"Cannot overfit one batch: loss {start:.4g} → {end:.4g} in {_steps(curve)} "
            f"(target {target:.3f}).",
            f"{how} A model that cannot memorise a handful of tokens cannot learn real data: look at "
            "Gradient flow for unused or detached layers and vanishing gradients, and check that the "
            "output depends on the input."
            + (" It did improve; a longer run may get there." if status is Status.WARN else ""),
            **kw,
        )


class _Adam:
    """Plain Adam on float32 master weights, stepping each parameter inside backward.

    torch.optim's first use imports torch._dynamo (~1.5 s), more than the whole check. Weights live in
    float32 whatever the model's dtype, and the update is computed in float32: in float16 the usual eps
    of 1e-8 rounds to 0, so a zero gradient gives 0/0 = NaN, and small updates vanish below one rounding
    step. `compact=True` drops the first moment (momentum) and stores the second in bfloat16, which
    keeps float32's range: 6 bytes a parameter instead of 12, for big models on small machines. Updating a
    parameter in its post-accumulate-grad hook and dropping its gradient at once means the gradients
    of the whole model never exist together (0.5 GB less for GPT-2-small).
    """

    def __init__(
        self,
        params: list[nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        compact: bool = False,
    ) -> None:
        self.params, self.lr, self.t = params, lr, 0
        self.betas = (0.0, betas[1]) if compact else betas
        self.state = {id(p): self._fresh(p, compact) for p in params}
        self.in_backward = hasattr(torch.Tensor, "register_post_accumulate_grad_hook")
        self.handles = (
            [p.register_post_accumulate_grad_hook(self._update) for p in params] if self.in_backward else []
        )

    @staticmethod
    def _fresh(p: nn.Parameter, compact: bool) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        w = p.detach().float().clone() if p.dtype != torch.float32 else p
        m = None if compact else torch.zeros_like(w)
        return w, m, torch.zeros_like(w, dtype=torch.bfloat16 if compact else torch.float32)

    def begin_step(self) -> None:
        self.t += 1

    def finish_step(self) -> None:
        """Update what the hooks did not (older torch, or parameters the hook never saw)."""
        for p in self.params:
            if p.grad is not None:
                self._update(p)

    @torch.no_grad()
    def _update(self, p: torch.Tensor) -> None:
        if p.grad is None:
            return
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        w, m, v = self.state[id(p)]
        grad = p.grad.float()
        step = grad if m is None else m.mul_(b1).add_(grad, alpha=1 - b1)  # compact: no momentum
        v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        w.addcdiv_(step, (v.float() / c2).sqrt_().add_(1e-8), value=-self.lr / c1)
        if w is not p:
            p.copy_(w)
        p.grad = None  # applied: free it now

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def _rebind(ctx: RunContext, model: nn.Module) -> Callable[..., torch.Tensor]:
    """An adapter that calls the copy: the loader's adapter is bound to the original module."""
    original = ctx.adapter
    if hasattr(original, "module"):
        clone = copy.copy(original)
        clone.module = model
        return clone
    return lambda ids, attention_mask=None: _logits(model(ids))


def _logits(out: object) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)):
        return out[0]
    if isinstance(out, dict):
        return out["logits"]
    return out.logits  # type: ignore[attr-defined]


def _stuck(curve: list[float], patience: int) -> bool:
    """No 1% improvement on the best loss during the last `patience` steps."""
    if len(curve) <= patience:
        return False
    return min(curve[-patience:]) > 0.99 * min(curve[:-patience])


def _steps(curve: list[float]) -> str:
    n = len(curve) - 1
    return f"{n} step" if n == 1 else f"{n} steps"
