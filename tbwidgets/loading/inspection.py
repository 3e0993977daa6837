"""Look at a built model once: how to call it, what task it does, and its facts (length measured by running it).

Order matters: the adapter is calibrated on the first probe (so nanoGPT-style models give every
position), unsupported input kinds are refused before anything else runs, and the length search
uses the calibrated adapter.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from tbwidgets.loading.adapter import ModelAdapter
from tbwidgets.loading.facts import FactsResult, compute_facts, find_token_embedding, probe, runs_at
from tbwidgets.loading.inputs import check_batch_first, check_takes_tokens
from tbwidgets.loading.length import MIN_LEN, measure_length
from tbwidgets.loading.model import Finding, Task
from tbwidgets.loading.task import detect_task


def _is_hf(module: nn.Module) -> bool:
    tf = sys.modules.get("transformers")
    return tf is not None and isinstance(module, getattr(tf, "PreTrainedModel", ()))


def inspect_model(
    module: nn.Module,
    adapter: ModelAdapter,
    cfg: dict[str, Any],
    user_cfg: Mapping[str, Any],
    task: str | Task | None,
) -> tuple[Task, str, FactsResult, list[Finding]]:
    """(task, reason, facts, findings): probe once, decide the task, then measure the usable length."""
    emb = find_token_embedding(module)
    vocab = emb.module.num_embeddings if emb.module is not None else int(cfg.get("vocab_size") or 2)
    adapter.vocab_size = adapter.vocab_size or vocab
    logits, crash = probe(adapter.calibrate, module, vocab, MIN_LEN)
    check_takes_tokens(module, emb.module is not None, crash.message if crash else None)
    if logits is not None and not _is_hf(module):
        ids = torch.randint(0, vocab, (2, MIN_LEN), generator=torch.Generator().manual_seed(1))
        check_batch_first(module, adapter, ids.to(logits.device))
    ndim = logits.ndim if logits is not None else None
    the_task, reason = detect_task(module, cfg, task, logits_ndim=ndim)
    out_width = int(logits.shape[-1]) if logits is not None and logits.ndim >= 2 else None
    width = emb.module.embedding_dim if emb.module is not None else None
    device = logits.device.type if logits is not None else "cpu"
    length = measure_length(
        module, runs_at(adapter, module, vocab, cfg), user_cfg, width=width, device=device
    )
    result = compute_facts(
        module, cfg, length, out_width=out_width, classification=the_task is Task.CLASSIFICATION
    )
    return the_task, reason, result, ([crash] if crash else []) + result.findings
