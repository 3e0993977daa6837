"""Stand-ins for a LoadedModel (only `task` and `facts` are read by make_data) and a tiny tokenizer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import torch

from tbwidgets.loading.model import ModelFacts, Task


def fake_loaded(
    task: str = "causal-lm",
    vocab: int = 512,
    max_len: int = 128,
    num_labels: int | None = None,
    pad: int | None = None,
) -> Any:
    facts = ModelFacts(
        vocab_size=vocab,
        max_len=max_len,
        max_len_source="test",
        n_params=0,
        n_trainable=0,
        device=torch.device("cpu"),
        dtype=torch.float32,
        pad_token_id=pad,
        num_labels=num_labels,
    )
    return SimpleNamespace(task=Task(task), facts=facts)


class WordTokenizer:
    """Whitespace words → ids, with [PAD]=0 [CLS]=1 [SEP]=2 [MASK]=3 like a BERT tokenizer."""

    pad_token_id, cls_token_id, sep_token_id, mask_token_id = 0, 1, 2, 3
    eos_token_id = None
    all_special_ids = (0, 1, 2, 3)

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ids = [self.vocab.setdefault(w, 4 + len(self.vocab)) for w in text.split()]
        return [1, *ids, 2] if add_special_tokens else ids
