"""Facts read from the model itself: vocab size, sizes, dtype; config only where the model is silent.

The model is the authority (DESIGN §2.1): the token embedding's `num_embeddings` is the vocab size.
The usable length is measured by running the model (`length.measure_length`, fed by `runs_at`).
Config values that disagree become findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tbwidgets.loading.length import LengthFacts
from tbwidgets.loading.model import Finding, ModelFacts

PROBE_SHAPE = (2, 8)
"""(batch, length) of the forward pass run at load time: cheap, and batch 2 catches batch-dim bugs."""

_TOKEN_NAME = re.compile(
    r"(^|[._])(tok|token|tokens|wte|word_embeddings|embed_tokens|embedding_0_token)", re.I
)
_POS_NAME = re.compile(r"(pos|wpe|position)", re.I)  # kept apart from token embeddings
_TYPE_NAME = re.compile(r"(token_type|segment)", re.I)


@dataclass
class EmbeddingInfo:
    """The token embedding the loader found, and how."""

    module: nn.Embedding | None = None
    name: str | None = None
    how: str = ""


@dataclass
class FactsResult:
    facts: ModelFacts
    embedding: EmbeddingInfo
    findings: list[Finding] = field(default_factory=list)


def _hf_config(module: nn.Module) -> Any:
    cfg = getattr(module, "config", None)
    return cfg if cfg is not None and hasattr(cfg, "to_dict") else None


def find_token_embedding(module: nn.Module, out_width: int | None = None) -> EmbeddingInfo:
    """The nn.Embedding that maps token ids: HF's input embeddings, a token-like name, or the output width."""
    embeddings = [(n, m) for n, m in module.named_modules() if isinstance(m, nn.Embedding)]
    get_input = getattr(module, "get_input_embeddings", None)
    if callable(get_input):
        try:
            emb = get_input()
        except (NotImplementedError, AttributeError):
            emb = None
        if isinstance(emb, nn.Embedding):
            name = next((n for n, m in embeddings if m is emb), "get_input_embeddings()")
            return EmbeddingInfo(emb, name, "the model's get_input_embeddings()")
    candidates = [(n, m) for n, m in embeddings if not _POS_NAME.search(n) and not _TYPE_NAME.search(n)]
    named = [(n, m) for n, m in candidates if _TOKEN_NAME.search(n)]
    if out_width is not None:
        for pool in (named, candidates):
            match = [(n, m) for n, m in pool if m.num_embeddings == out_width]
            if match:
                return EmbeddingInfo(
                    match[0][1], match[0][0], f"an embedding of {out_width} rows = output width"
                )
    if named:
        return EmbeddingInfo(named[0][1], named[0][0], "named like a token embedding")
    if candidates:
        return EmbeddingInfo(candidates[0][1], candidates[0][0], "the first non-position embedding")
    return EmbeddingInfo(how="no nn.Embedding found")


def _count_layers(module: nn.Module, config: Mapping[str, Any]) -> int | None:
    hf = _hf_config(module)
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        if hf is not None and isinstance(getattr(hf, key, None), int):
            return int(getattr(hf, key))
    attn = [m for m in module.modules() if isinstance(m, nn.MultiheadAttention)]
    if attn:
        return len(attn)
    if isinstance(config.get("n_layers"), int):
        return int(config["n_layers"])
    for name, child in module.named_children():
        if isinstance(child, nn.ModuleList) and name in ("blocks", "layers", "h", "layer"):
            return len(child)
    return None


def _vocab_mismatch(vocab: int, config: Mapping[str, Any]) -> list[Finding]:
    cfg_vocab = config.get("vocab_size")
    if not isinstance(cfg_vocab, int) or cfg_vocab == vocab:
        return []
    return [
        Finding(
            "warn",
            f"config vocab_size is {cfg_vocab} but the model's token embedding has {vocab} rows; "
            f"tbwidgets uses {vocab}. Token ids ≥ {vocab} would crash the model (index out of range).",
            "Make config.json's vocab_size match the model, and use a tokenizer whose ids fit.",
        )
    ]


def _vocab_size(
    emb: EmbeddingInfo, config: Mapping[str, Any], out_width: int | None, classification: bool
) -> tuple[int, list[Finding]]:
    """Token embedding rows, else config vocab_size, else an LM's logits width; 0 plus an error if none."""
    if emb.module is not None:
        return emb.module.num_embeddings, []
    if isinstance(config.get("vocab_size"), int):
        return int(config["vocab_size"]), []
    if out_width is not None and not classification:
        return out_width, []
    return 0, [
        Finding(
            "error",
            "Could not tell the vocabulary size: no token embedding, no vocab_size in the config.",
            "Pass config={'vocab_size': N} to load_model.",
        )
    ]


def _pad_token_id(module: nn.Module, config: Mapping[str, Any]) -> int | None:
    hf = _hf_config(module)
    pad = getattr(hf, "pad_token_id", None) if hf is not None else None
    if pad is None:
        pad = config.get("pad_token_id")
    return pad if isinstance(pad, int) else None


def compute_facts(
    module: nn.Module,
    config: Mapping[str, Any],
    length: LengthFacts,
    *,
    out_width: int | None = None,
    classification: bool = False,
) -> FactsResult:
    """Read the facts; `length` was measured by running the model, `out_width` is the probe's logits width."""
    emb = find_token_embedding(module, None if classification else out_width)
    vocab, findings = _vocab_size(emb, config, out_width, classification)
    findings += _vocab_mismatch(vocab, config) + length.findings
    if out_width is not None and not classification and vocab and out_width != vocab:
        findings.append(
            Finding(
                "warn",
                f"The logits have {out_width} columns but the vocabulary has {vocab} tokens.",
                "The output projection should be nn.Linear(d_model, vocab_size).",
            )
        )
    first = next(iter(module.parameters()), None)
    d_model = emb.module.embedding_dim if emb.module is not None else config.get("d_model")
    facts = ModelFacts(
        vocab_size=vocab,
        max_len=length.usable,
        max_len_source=length.source,
        claimed_len=length.claimed,
        claimed_len_source=length.claimed_source if length.claimed is not None else "",
        position_rows=length.table.rows if length.table is not None else None,
        length_verified=length.verified,
        n_params=sum(p.numel() for p in module.parameters()),
        n_trainable=sum(p.numel() for p in module.parameters() if p.requires_grad),
        device=first.device if first is not None else torch.device("cpu"),
        dtype=first.dtype if first is not None else torch.get_default_dtype(),
        pad_token_id=_pad_token_id(module, config),
        n_layers=_count_layers(module, config),
        d_model=d_model if isinstance(d_model, int) else None,
        num_labels=out_width if classification else None,
    )
    return FactsResult(facts, emb, findings)


def _device(module: nn.Module) -> torch.device:
    first = next(iter(module.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def probe(
    call: Callable[[torch.Tensor], torch.Tensor], module: nn.Module, vocab: int, max_len: int
) -> tuple[torch.Tensor | None, Finding | None]:
    """One tiny forward pass in eval mode; a crash is returned as an error Finding, not raised."""
    length = min(PROBE_SHAPE[1], max_len)
    ids = torch.randint(
        0, max(vocab, 1), (PROBE_SHAPE[0], length), generator=torch.Generator().manual_seed(0)
    )
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return call(ids.to(_device(module))), None
    except Exception as exc:  # noqa: BLE001 - user code; the checks report it
        return None, Finding(
            "error",
            f"The model crashed on a tiny forward pass {tuple(ids.shape)}: {type(exc).__name__}: {exc}",
            "Run the model on a small batch yourself to see the traceback, and fix forward().",
        )
    finally:
        module.train(was_training)


def runs_at(
    call: Callable[[torch.Tensor], torch.Tensor], module: nn.Module, vocab: int, config: Mapping[str, Any]
) -> Callable[[int], bool]:
    """A predicate for the length search: does a (1, T) eval forward run and give a tensor?

    The ids avoid the padding token: RoBERTa-style models skip pads when numbering positions, so a
    random pad would let a too-long input fit the table by chance.
    """
    device = _device(module)
    pad = _pad_token_id(module, config)

    def runs(length: int) -> bool:
        ids = torch.randint(0, max(vocab, 1), (1, length), generator=torch.Generator().manual_seed(length))
        if pad is not None and vocab > 1:
            ids = ids.masked_fill(ids == pad, (pad + 1) % vocab)
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                return isinstance(call(ids.to(device)), torch.Tensor)
        except Exception:  # noqa: BLE001 - any crash means "not at this length"
            return False
        finally:
            module.train(was_training)

    return runs
