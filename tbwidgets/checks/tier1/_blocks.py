"""Finding a model's repeated blocks, and naming groups of modules the way a person would.

Blocks are the largest `ModuleList`/`Sequential` of same-class children (GPT-2's `transformer.h`,
BERT's `encoder.layer`, `nn.TransformerEncoder.layers`), else Transformer Builder's flat numbered
attributes (`mhsa_0`, `ffn_0`, `mhsa_1`, …) grouped by their number.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from torch import nn

from tbwidgets.checks.tier1._common import ranges

_NUMBERED = re.compile(r"^(?P<stem>.+?)_(?P<index>\d+)$")
_ATTENTION = re.compile(r"attn|attention|mhsa|mha|self_att", re.I)


@dataclass(frozen=True)
class Block:
    """One repeated unit of the model: a name and the modules it is made of (in call order)."""

    name: str
    modules: tuple[nn.Module, ...]

    def parameters(self) -> list[nn.Parameter]:
        return [p for m in self.modules for p in m.parameters()]


def find_blocks(model: nn.Module) -> list[Block]:
    """The model's blocks in depth order; an empty list when there is no repeated structure."""
    best: list[Block] = []
    best_size = 0
    for name, container in model.named_modules():
        if not isinstance(container, (nn.ModuleList, nn.Sequential)) or len(container) < 2:
            continue
        children = list(container.named_children())
        if len({type(child) for _, child in children}) != 1:
            continue
        size = sum(p.numel() for p in container.parameters())
        if size > best_size:
            best_size = size
            best = [Block(f"{name}.{child_name}", (child,)) for child_name, child in children]
    return best or _numbered_children(model)


def _numbered_children(model: nn.Module) -> list[Block]:
    """Transformer Builder's flat layout: a block starts at each attention node (`mhsa_0`, `mhsa_1`).

    Numbers do not line up across kinds (`layernorm_0..3` for two blocks), so blocks follow the
    registration order, which is the canvas order: each anchor plus the numbered nodes after it.
    """
    numbered = [
        (name, child, m["stem"])
        for name, child in model.named_children()
        if (m := _NUMBERED.match(name)) and any(True for _ in child.parameters())
    ]
    counts: dict[str, int] = defaultdict(int)
    for _, _, stem in numbered:
        counts[stem] += 1
    repeated = [stem for stem, n in counts.items() if n >= 2]
    if not repeated:
        return []
    anchor = next((s for s in repeated if _ATTENTION.search(s)), None) or max(
        repeated, key=lambda s: sum(p.numel() for _, c, st in numbered if st == s for p in c.parameters())
    )
    blocks: list[list[tuple[str, nn.Module]]] = []
    prefix: list[tuple[str, nn.Module]] = []  # nodes before the first anchor (a pre-norm) join block 0
    for name, child, stem in numbered:
        if stem == anchor:
            blocks.append([*prefix, (name, child)] if not blocks else [(name, child)])
            prefix = []
        elif blocks:
            blocks[-1].append((name, child))
        else:
            prefix.append((name, child))
    return [
        Block(f"block {i} ({', '.join(n for n, _ in members)})", tuple(m for _, m in members))
        for i, members in enumerate(blocks)
    ]


def top_modules(model: nn.Module, param_names: set[str]) -> list[str]:
    """The highest modules all of whose parameters are in `param_names` (or the parameters themselves)."""
    covered: dict[str, bool] = {}
    for name, module in model.named_modules():
        names = [f"{name}.{p}" if name else p for p, _ in module.named_parameters()]
        covered[name] = bool(names) and all(n in param_names for n in names)
    tops = [n for n, full in covered.items() if full and not _parent_covered(n, covered)]
    loose = [p for p in param_names if not _parent_covered(p, covered)]
    return sorted(set(tops) | set(loose))


def _parent_covered(name: str, covered: dict[str, bool]) -> bool:
    if not name:
        return False
    parts = name.split(".")
    return any(covered.get(".".join(parts[:i]), False) for i in range(len(parts)))


def describe_modules(paths: list[str], limit: int = 4) -> str:
    """Compact names: ["blocks.0.attn", "blocks.1.attn"] -> "attn in blocks 0–1"."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    singles: list[str] = []
    for path in paths:
        match = re.match(r"^(?P<pre>.*?)(?P<sep>[._])(?P<i>\d+)(?P<post>(\..*)?)$", path)
        if match:
            groups[(match["pre"] + match["sep"], match["post"].lstrip("."))].append(int(match["i"]))
        else:
            singles.append(path or "(the whole model)")
    phrases = []
    for (pre, post), indices in groups.items():
        where = f"{pre.rstrip('._')} {ranges(indices)}"
        phrases.append(f"{post} in {where}" if post else where)
    phrases.extend(singles)
    more = len(phrases) - limit
    return "; ".join(phrases[:limit]) + (f" and {more} more" if more > 0 else "")
