"""tier1.numerical_stability: finite logits on random, edge and max-length inputs, every token id, and under autocast."""

from __future__ import annotations

import math
import time

import torch

from tbwidgets.checks.tier1._common import Tier1Check, first_line, forward_problem, probe_len, standard_ids
from tbwidgets.checks.tier1._dtype import is_low_precision, param_dtype
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status

_CHUNK_ELEMENTS = 1 << 24  # logits elements per sweep forward (64 MB of float32)


@register
class NumericalStability(Tier1Check):
    check_id = "tier1.numerical_stability"
    title = "Numerical stability"
    budget_s = 60.0

    def __init__(
        self,
        edge_length: int = 32,
        sweep_max_tokens: int = 65536,
        sweep_time_box_s: float = 3.0,
        collapse_std: float = 1e-4,
        huge_std: float = 30.0,
    ) -> None:
        self.edge_length = edge_length  # edge inputs need no length to misbehave
        self.sweep_max_tokens = sweep_max_tokens  # every id of common vocabularies (GPT-2: 50,257)
        self.sweep_time_box_s = sweep_time_box_s  # big models on CPU cover a random sample instead
        self.collapse_std = collapse_std  # logit spread over the vocab below this: near-constant output
        # spread above this: softmax is one-hot (untrained models ≈ 0.1–2, trained LMs ≈ 2–10)
        self.huge_std = huge_std

    def skip_reason(self, ctx: RunContext) -> str | None:
        return forward_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        loaded = ctx.loaded
        V, L = loaded.facts.vocab_size, loaded.facts.max_len
        rows: list[dict] = []
        ctx.progress(0.05, "random tokens")
        base = ctx.eval_logits(standard_ids(ctx))
        rows.append(_row("random tokens", base))
        rows.append(
            _row(
                f"max length ({probe_len(ctx, L)})", ctx.eval_logits(ctx.random_tokens(1, probe_len(ctx, L)))
            )
        )
        ctx.progress(0.2, "edge inputs")
        rows.extend(self._edge_rows(ctx, V))
        ctx.progress(0.4, "every token id")
        sweep_row, culprits = self._sweep(ctx, V)
        rows.append(sweep_row)
        ctx.progress(0.75, "autocast")
        rows.extend(self._autocast_rows(ctx))
        return self._verdict(rows, culprits, base)

    def _edge_rows(self, ctx: RunContext, V: int) -> list[dict]:
        T = min(self.edge_length, ctx.loaded.facts.max_len)
        cases = {"all token 0": 0, f"all token {V - 1} (last id)": V - 1, f"repeated token {V // 2}": V // 2}
        pad = ctx.loaded.facts.pad_token_id
        if pad is not None and pad not in cases.values() and 0 <= pad < V:
            cases[f"all pad token {pad}"] = pad
        ids = torch.tensor(list(cases.values()), device=ctx.device).unsqueeze(1).expand(-1, T).contiguous()
        logits = ctx.eval_logits(ids)
        return [_row(name, logits[i : i + 1]) for i, name in enumerate(cases)]

    def _sweep(self, ctx: RunContext, V: int) -> tuple[dict, list[int]]:
        """Run every token id once (in random order, time-boxed) and name the ids that give NaN/Inf."""
        T = min(64, ctx.loaded.facts.max_len)
        tokens = torch.randperm(V, generator=ctx.generator(2))[: self.sweep_max_tokens]
        n_rows = math.ceil(len(tokens) / T)
        padded = torch.cat([tokens, tokens[: n_rows * T - len(tokens)]]).view(n_rows, T)
        chunk = max(1, _CHUNK_ELEMENTS // (T * V))
        bad_rows: list[int] = []
        stop, done = time.perf_counter() + self.sweep_time_box_s, 0
        with eval_mode(ctx.model), torch.no_grad():
            for start in range(0, n_rows, chunk):
                ctx.raise_if_cancelled()
                if start and time.perf_counter() > stop:
                    break
                logits = ctx.adapter(padded[start : start + chunk].to(ctx.device))
                finite = torch.isfinite(logits.reshape(logits.shape[0], -1)).all(dim=1)
                bad_rows += [start + i for i in (~finite).nonzero().flatten().tolist()]
                done = min(len(tokens), (start + chunk) * T)
        label = f"every token id (0–{V - 1})" if done >= V else f"{done:,} of {V:,} token ids (random sample)"
        nan = float("nan")
        row = {"input": label, "finite": not bad_rows, "logit_std": nan, "max_abs_logit": nan}
        if not bad_rows:
            return row, []
        return row, self._culprits(ctx, padded[bad_rows[0]])

    def _culprits(self, ctx: RunContext, row: torch.Tensor) -> list[int]:
        """Token ids that give NaN/Inf on their own (a batch of length-1 inputs)."""
        distinct = torch.unique(row)
        with eval_mode(ctx.model), torch.no_grad():
            logits = ctx.adapter(distinct.unsqueeze(1).to(ctx.device))
        finite = torch.isfinite(logits.reshape(len(distinct), -1)).all(dim=1).cpu()
        return distinct[~finite].tolist()

    def _autocast_rows(self, ctx: RunContext) -> list[dict]:
        if is_low_precision(param_dtype(ctx.model)):
            return []  # already half precision: autocast to another half dtype is not how it runs
        device = ctx.device.type
        if device == "cuda":
            dtypes = [torch.float16] + ([torch.bfloat16] if torch.cuda.is_bf16_supported() else [])
        else:
            dtypes = [torch.bfloat16]
        ids = standard_ids(ctx)[:2, : self.edge_length]
        rows = []
        for dtype in dtypes:
            name = f"autocast {str(dtype).replace('torch.', '')}"
            try:
                with eval_mode(ctx.model), torch.no_grad(), torch.autocast(device, dtype=dtype):
                    logits = ctx.adapter(ids)
                rows.append(_row(name, logits.float()))
            except Exception as exc:  # noqa: BLE001 - unsupported ops under autocast are a finding
                rows.append({"input": name, "finite": None, "error": first_line(exc)})
        return rows

    def _verdict(self, rows: list[dict], culprits: list[int], base: torch.Tensor) -> CheckResult:
        std = _vocab_std(base)
        metrics = {
            "logit_std": std,
            "max_abs_logit": float(base.abs().max()),
            "logit_mean": float(base.mean()),
        }
        broken = [r for r in rows if r.get("finite") is False]
        if broken:
            names = ", ".join(r["input"] for r in broken)
            who = (
                f" Token id(s) {', '.join(map(str, culprits[:10]))} give NaN/Inf on their own."
                if culprits
                else ""
            )
            return self.result(
                Status.FAIL,
                f"NaN/Inf logits on: {names}.{who}",
                "A single NaN poisons the loss and every weight after one step. Look for divisions, "
                "log/sqrt of values that can be zero, masks filled with -inf on whole rows, and "
                "embedding rows or special tokens handled separately.",
                metrics=metrics,
                table=rows,
            )
        failed_autocast = [r for r in rows if r.get("error")]
        if failed_autocast:
            return self.result(
                Status.WARN,
                f"The model does not run under {failed_autocast[0]['input']}: {failed_autocast[0]['error']}",
                "Mixed precision halves memory and speeds up GPU training; an operation in forward "
                "does not support it. Cast that input explicitly or train in float32.",
                metrics=metrics,
                table=rows,
            )
        return self._scale_verdict(std, metrics, rows)

    def _scale_verdict(self, std: float, metrics: dict[str, float], rows: list[dict]) -> CheckResult:
        if std < self.collapse_std:
            return self.result(
                Status.WARN,
                f"Near-constant logits: spread over the vocabulary is only {std:.2g}.",
                "The model gives (almost) the same score to every token, so it starts with no "
                "preference and may also be ignoring its input: check for an output layer with zero "
                "weights or activations that vanish before the head.",
                metrics=metrics,
                table=rows,
            )
        if std > self.huge_std:
            return self.result(
                Status.WARN,
                f"Huge logits: spread over the vocabulary is {std:.3g} (limit {self.huge_std:g}).",
                "Softmax over logits this large is one-hot, so the model is over-confident from the "
                "start and gradients saturate. Scale down the output layer's initialisation or add "
                "a final LayerNorm.",
                metrics=metrics,
                table=rows,
            )
        sweep = next((r["input"] for r in rows if "token id" in r["input"]), "a token sweep")
        return self.result(
            Status.PASS,
            f"Logits are finite on all {len(rows)} inputs, including {sweep} and autocast.",
            f"Logit spread over the vocabulary is {std:.3g}; no NaN or Inf anywhere.",
            metrics=metrics,
            table=rows,
        )


def _vocab_std(logits: torch.Tensor) -> float:
    return float(logits.float().std(dim=-1).mean()) if logits.shape[-1] > 1 else 0.0


def _row(name: str, logits: torch.Tensor) -> dict:
    finite = bool(torch.isfinite(logits).all())
    clean = logits.float()
    return {
        "input": name,
        "finite": finite,
        "logit_std": _vocab_std(clean) if finite else float("nan"),
        "max_abs_logit": float(clean.abs().max()) if finite else float("nan"),
    }
