"""Per-head attention metrics, fair to causal maps, plus head classes and duplicated heads.

Every metric averages over query rows that can see more than one key: row 0 of a causal map has a
single visible key and is always 1.0, which says nothing about the head (the reference system
called every causal head "collapsed" because of it). Entropy is divided by log(number of visible
keys), so 1.0 means uniform over what the query may see, for causal and bidirectional maps alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

METRICS = (
    "entropy",
    "sink",
    "previous",
    "self",
    "mean_distance",
    "distance_ratio",
    "max_weight",
    "deviation",
)


@dataclass(frozen=True)
class HeadClassifier:
    """Thresholds that name what a head does (scores are mean attention weights in 0..1)."""

    previous_min: float = 0.5  # half the weight on the previous token: a previous-token head
    sink_min: float = 0.5  # half the weight on the first token: a first-token / sink head
    self_min: float = 0.5  # half the weight on the query's own token
    local_ratio_max: float = 0.35  # mean distance at most 35% of what uniform attention would give
    broad_entropy_min: float = 0.5  # spread over at least ~half the visible keys' entropy: broad

    def classify(self, m: dict[str, float]) -> str:
        """previous-token, first-token, self, local, broad, or focused (sharp, on content not position)."""
        named = [
            ("previous-token", m["previous"], self.previous_min),
            ("first-token", m["sink"], self.sink_min),
            ("self", m["self"], self.self_min),
        ]
        hits = [(score, name) for name, score, least in named if score >= least]
        if hits:
            return max(hits)[1]
        if m["distance_ratio"] <= self.local_ratio_max:
            return "local"
        return "broad" if m["entropy"] >= self.broad_entropy_min else "focused"


def visible_mask(T: int, causal: bool) -> torch.Tensor:
    """`(T, T)` bool: keys each query may see (lower triangle for causal layers)."""
    ones = torch.ones(T, T, dtype=torch.bool)
    return ones.tril() if causal else ones


def _row_mean(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Mean over the selected query rows of `(H, T)` → `(H,)`; NaN when no row is selected."""
    return x[:, rows].mean(dim=1) if bool(rows.any()) else torch.full(x.shape[:1], float("nan"))


def layer_metrics(A: torch.Tensor, causal: bool) -> dict[str, torch.Tensor]:
    """Metrics `name -> (H,)` for one layer's maps `A` `(H, T, T)` (float32)."""
    _H, T, _ = A.shape
    vis = visible_mask(T, causal)  # (T, T)
    n_vis = vis.sum(-1).float()  # (T,)
    rows = n_vis > 1
    idx = torch.arange(T)
    dist = (idx[:, None] - idx[None, :]).abs().float()  # (T, T)
    plogp = torch.where(A > 0, A * A.clamp_min(1e-30).log(), torch.zeros_like(A))
    entropy = -plogp.sum(-1) / n_vis.clamp_min(2).log()  # (H, T)
    uniform = vis.float() / n_vis[:, None]  # (T, T)
    later = idx >= 2 if T > 2 else idx >= 1  # position 1's previous token is also the first token
    out = {
        "entropy": _row_mean(entropy, rows),
        "sink": _row_mean(A[:, :, 0], later),
        "previous": _row_mean(torch.nn.functional.pad(A.diagonal(-1, 1, 2), (1, 0)), later),
        "self": _row_mean(A.diagonal(0, 1, 2), rows),
        "mean_distance": _row_mean((A * dist).sum(-1), rows),
        "max_weight": _row_mean(A.amax(-1), rows),
        "deviation": _row_mean((A - uniform).abs().sum(-1), rows),  # 2·total variation from uniform
    }
    uniform_dist = (uniform * dist).sum(-1)[rows].sum().clamp_min(1e-9)
    out["distance_ratio"] = (A * dist).sum(-1)[:, rows].sum(-1) / uniform_dist
    return out


def all_metrics(weights: torch.Tensor, causal: list[bool], heads: list[int]) -> dict[str, torch.Tensor]:
    """Metrics `name -> (L, H)` for `(L, H, T, T)` maps; padded heads are NaN."""
    L, H = weights.shape[:2]
    out = {k: torch.full((L, H), float("nan")) for k in METRICS}
    for layer in range(L):
        n = heads[layer]
        for k, v in layer_metrics(weights[layer, :n].float(), causal[layer]).items():
            out[k][layer, :n] = v
    return out


def duplicate_heads(
    weights: torch.Tensor,
    heads: list[int],
    deviation: torch.Tensor,
    *,
    max_distance: float = 0.02,
    min_deviation: float = 0.05,
) -> list[tuple[tuple[int, int], tuple[int, int], float]]:
    """Pairs of heads of the same layer whose maps are near-identical (mean row L1 ≤ `max_distance`).

    Only heads that differ from uniform attention (row L1 deviation ≥ `min_deviation`) count:
    near-uniform maps of untrained models are all alike and say nothing about duplication. Heads
    of different layers see different inputs, so their maps are not compared.
    """
    pairs = []
    T = weights.shape[-1]
    for la, n in enumerate(heads):
        keep = [h for h in range(n) if float(deviation[la, h]) >= min_deviation]
        if len(keep) < 2:
            continue
        flat = weights[la, keep].float().reshape(len(keep), -1)  # (N, T*T)
        dist = torch.cdist(flat, flat, p=1) / T  # mean over rows of the row L1 distance
        for i, j in (dist <= max_distance).triu(diagonal=1).nonzero().tolist():
            pairs.append(((la, keep[i]), (la, keep[j]), float(dist[i, j])))
    return pairs
