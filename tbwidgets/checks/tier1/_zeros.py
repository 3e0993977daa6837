"""What an all-zero matrix does to training, judged from one backward pass instead of from names.

A zero parameter that receives a gradient leaves zero on the first optimizer step: zero-initialised
position tables, residual-branch projections (modded-nanoGPT), LoRA's B and layer-scale all train
from step one, even if, for that first step, they hold back the gradient of what feeds them. A zero
matrix whose own gradient is zero can never leave zero: whatever it multiplies is cut off for good
(e.g. two zeroed layers in a row, each blocking the other's gradient).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from tbwidgets.checks.tier1._common import own_rng, preserved_grads, task_batch
from tbwidgets.core.context import RunContext, eval_mode

MAX_PROBED = 4  # zero matrices whose blocking effect is measured (one backward each)
PROBE_STD = 0.02  # the small random values a zero matrix is given to see what it blocks


@dataclass
class ZeroVerdict:
    """How each all-zero matrix behaves under one backward pass."""

    stuck: list[str] = field(default_factory=list)  # zero gradient: stays zero forever
    training: list[str] = field(default_factory=list)  # non-zero gradient: leaves zero at step one
    unused: list[str] = field(default_factory=list)  # no gradient at all (not in the loss)
    frozen: list[str] = field(default_factory=list)  # requires_grad=False: stays zero by design
    blocked: dict[str, list[str]] = field(default_factory=dict)  # training zero -> params it holds back
    error: str | None = None  # why the backward could not be run


def judge_zeros(ctx: RunContext, zero_names: list[str]) -> ZeroVerdict:
    """Run one backward on random tokens and sort the all-zero matrices by what their zero does."""
    params = dict(ctx.model.named_parameters())
    verdict = ZeroVerdict()
    trainable: list[str] = []
    for name in zero_names:
        if name not in params:
            continue
        (trainable if params[name].requires_grad else verdict.frozen).append(name)
    if not trainable:
        return verdict
    try:
        grads = _grad_norms(ctx)
    except RuntimeError as exc:
        verdict.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return verdict
    for name in trainable:
        norm = grads.get(name)
        if norm is None:
            verdict.unused.append(name)
        elif norm == 0.0:
            verdict.stuck.append(name)
        else:
            verdict.training.append(name)
    starved = {n for n, g in grads.items() if g == 0.0}
    for name in verdict.training[:MAX_PROBED]:
        if starved:
            verdict.blocked[name] = _blocked_by(ctx, params[name], starved)
    return verdict


def _grad_norms(ctx: RunContext) -> dict[str, float | None]:
    """Gradient norm of every trainable parameter after one task-loss backward (None: no gradient)."""
    model = ctx.model
    ids = ctx.random_tokens(2, min(16, ctx.loaded.facts.max_len), offset=11)
    batch = task_batch(ctx.loaded, ids, ctx.generator(11))
    with preserved_grads(model), eval_mode(model, train=True), own_rng(), _no_dropout(model):
        batch.loss(ctx.adapter(batch.inputs)).backward()
        return {
            n: (None if p.grad is None else float(p.grad.detach().float().norm()))
            for n, p in model.named_parameters()
            if p.requires_grad
        }


def _blocked_by(ctx: RunContext, param: nn.Parameter, starved: set[str]) -> list[str]:
    """The starved parameters that get a gradient once `param` is no longer zero."""
    gen = torch.Generator().manual_seed(ctx.seed + 13)
    noise = torch.randn(param.shape, generator=gen).mul_(PROBE_STD).to(param.device, param.dtype)
    saved = param.detach().clone()
    try:
        with torch.no_grad():
            param.copy_(noise)
        grads = _grad_norms(ctx)
    finally:
        with torch.no_grad():
            param.copy_(saved)
    return sorted(n for n in starved if grads.get(n))


@contextmanager
def _no_dropout(model: nn.Module) -> Iterator[None]:
    """Dropout would zero random gradient entries; the comparison needs the same pass twice."""
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout) and m.training]
    for m in drops:
        m.eval()
    try:
        yield
    finally:
        for m in drops:
            m.train()
