"""tier1.gradient_flow: one backward pass of the task loss; every trainable parameter must get a finite gradient.

Leaves the model's `.grad` tensors and train/eval modes exactly as they were.
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch

from tbwidgets.checks.tier1._blocks import describe_modules, find_blocks, top_modules
from tbwidgets.checks.tier1._common import (
    Tier1Check,
    first_line,
    forward_problem,
    loss_name,
    own_rng,
    preserved_grads,
    task_batch,
)
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status

_INPLACE_HINT = "modified by an inplace operation"


@register
class GradientFlow(Tier1Check):
    check_id = "tier1.gradient_flow"
    title = "Gradient flow"
    budget_s = 60.0

    def __init__(
        self,
        batch: int = 2,
        length: int = 32,
        vanishing_ratio: float = 1e-3,
        exploding_norm: float = 1e4,
        warn_ratio: float = 1e-2,
    ) -> None:
        self.batch = batch  # two rows: enough for one honest backward pass
        self.length = length  # short: gradient flow does not depend on length
        # first-block/last-block gradient norm below this is vanishing (healthy residual nets: 0.1–10)
        self.vanishing_ratio = vanishing_ratio
        self.warn_ratio = warn_ratio  # one order of magnitude above FAIL: worth a look
        self.exploding_norm = exploding_norm  # total norm; healthy untrained models give 0.1–100

    def skip_reason(self, ctx: RunContext) -> str | None:
        return forward_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        model, loaded = ctx.model, ctx.loaded
        ids = ctx.random_tokens(self.batch, min(self.length, loaded.facts.max_len), offset=1)
        batch = task_batch(loaded, ids, ctx.generator(1))
        ctx.progress(0.1, "forward and backward")
        with preserved_grads(model), eval_mode(model, train=True), own_rng():
            loss = batch.loss(ctx.adapter(batch.inputs))
            try:
                loss.backward()
            except RuntimeError as exc:
                return self._backward_failed(exc)
            ctx.progress(0.7, "gradient norms")
            # norms only, no copies: the user's gradients come back when the block exits
            grads = {
                n: (float(p.grad.float().norm()) if p.grad is not None else None) for n, p in _named(model)
            }
        return self._judge(ctx, grads, float(loss.detach()))

    def _judge(self, ctx: RunContext, grads: dict[str, float | None], loss: float) -> CheckResult:
        model = ctx.model
        trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        missing = {n for n in trainable if grads.get(n) is None}
        norms = {n: g for n, g in grads.items() if g is not None}
        bad = sorted(n for n, v in norms.items() if not math.isfinite(v))
        total = math.sqrt(sum(v * v for v in norms.values() if math.isfinite(v)))
        ratio = self._block_ratio(ctx, norms)
        table = _table(model, norms, missing)
        metrics = {"loss": loss, "total_grad_norm": total, "params_without_grad": float(len(missing))}
        if ratio is not None:
            metrics["first_last_block_ratio"] = ratio
        # per-parameter norms for views (None: no gradient); the table groups them by module
        kw = {"metrics": metrics, "table": table, "artifacts": {"param_grad_norms": dict(grads)}}
        if missing:
            where = describe_modules(top_modules(model, missing))
            return self.result(
                Status.FAIL,
                f"{where}: never receives a gradient ({len(missing)} parameters).",
                "These parameters get no gradient from the loss, so training never changes them: the "
                "module is defined but not used in forward, or its output is detached (.detach(), "
                "torch.no_grad(), .item()/.numpy() round-trips) before it reaches the logits. Call it "
                "in forward, remove the detach, or delete the module.",
                **kw,
            )
        if bad:
            return self.result(
                Status.FAIL,
                f"NaN/Inf gradients in {describe_modules(top_modules(model, set(bad)))}.",
                "One training step would destroy these weights. Look for log/sqrt/division of values "
                "that can be zero or negative, and for overflowing activations.",
                **kw,
            )
        return self._flow_verdict(total, ratio, loss_name(ctx.loaded.task), kw)

    def _flow_verdict(self, total: float, ratio: float | None, loss_desc: str, kw: dict) -> CheckResult:
        if total > self.exploding_norm:
            return self.result(
                Status.FAIL,
                f"Exploding gradients: total gradient norm {total:.3g} (limit {self.exploding_norm:g}).",
                "Training would diverge on the first steps. Check the initialisation scale, add "
                "normalisation layers (LayerNorm) or residual connections, and use gradient clipping.",
                **kw,
            )
        if ratio is not None and ratio < self.vanishing_ratio:
            return self.result(
                Status.FAIL,
                f"Vanishing gradients: the first block gets {ratio:.2g}× the gradient of the last one.",
                "Early layers would barely learn. Deep stacks of saturating activations (sigmoid, tanh) "
                "without residual connections or normalisation shrink the gradient at every layer: add "
                "residual connections (x + f(x)), LayerNorm, or use GELU/ReLU.",
                **kw,
            )
        if ratio is not None and ratio < self.warn_ratio:
            return self.result(
                Status.WARN,
                f"Weak gradient in early blocks: first/last block ratio {ratio:.2g}.",
                "Early layers learn much more slowly than late ones; residual connections and "
                "pre-norm blocks usually keep this ratio near 1.",
                **kw,
            )
        flow = f", first/last block ratio {ratio:.2g}" if ratio is not None else ""
        return self.result(
            Status.PASS,
            f"Every trainable parameter gets a finite gradient (total norm {total:.3g}{flow}).",
            f"One backward pass of the {loss_desc} reached every trainable parameter; gradient norms "
            "per module are in the table.",
            **kw,
        )

    def _block_ratio(self, ctx: RunContext, norms: dict[str, float]) -> float | None:
        blocks = find_blocks(ctx.model)
        if len(blocks) < 2:
            return None
        by_param = {id(p): n for n, p in ctx.model.named_parameters()}

        def block_norm(i: int) -> float:
            names = {by_param[id(p)] for p in blocks[i].parameters() if id(p) in by_param}
            return math.sqrt(sum(norms.get(n, 0.0) ** 2 for n in names))

        last = block_norm(-1)
        return block_norm(0) / last if last > 0 and math.isfinite(last) else None

    def _backward_failed(self, exc: RuntimeError) -> CheckResult:
        inplace = _INPLACE_HINT in str(exc)
        why = (
            "An in-place operation (x += …, x.relu_(), masked_fill_, x[...] = …) changed a tensor "
            "that autograd saved for the backward pass. Use the out-of-place form (x = x + …, "
            "torch.relu(x), masked_fill) at the line named in the error."
            if inplace
            else "The model cannot be trained as it is; the error names the failing operation."
        )
        return self.result(
            Status.FAIL,
            f"Backward pass fails: {first_line(exc)}",
            why,
            error=str(exc),
        )


def _named(model: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    return list(model.named_parameters())


def _table(model: torch.nn.Module, norms: dict[str, float], missing: set[str]) -> list[dict]:
    """Gradient norms grouped by module (the parameter's parent), in model order."""
    groups: dict[str, list[float]] = defaultdict(list)
    unused: dict[str, int] = defaultdict(int)
    for name, _p in model.named_parameters():
        module = name.rsplit(".", 1)[0] if "." in name else "(root)"
        if name in missing:
            unused[module] += 1
        elif name in norms:
            groups[module].append(norms[name])
        groups.setdefault(module, [])
    rows = []
    for module, values in groups.items():
        finite = [v for v in values if math.isfinite(v)]
        rows.append(
            {
                "module": module,
                "grad_norm": math.sqrt(sum(v * v for v in finite)) if finite else float("nan"),
                "max_param_grad_norm": max(finite) if finite else float("nan"),
                "params_without_grad": unused[module],
                "non_finite": len(values) - len(finite),
            }
        )
    return rows
