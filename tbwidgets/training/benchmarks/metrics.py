"""GLUE's official metrics in NumPy (no scikit-learn or scipy needed at run time).

Each follows the reference definition the GLUE leaderboard uses (scikit-learn / scipy): Matthews
correlation for CoLA, accuracy, binary F1 of the positive class (label 1) for MRPC and QQP, Pearson
and Spearman correlation (ties get their average rank) for STS-B. Degenerate inputs give what those
references give: MCC 0 when a row or column of the confusion matrix is empty, F1 0 without positives,
NaN correlation for a constant vector (the mean predictor of STS-B has no correlation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Values = Sequence[Any] | np.ndarray  # labels or scores


def _arrays(y_true: Values, y_pred: Values) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"Metrics need two 1-D sequences of one length, got {t.shape} and {p.shape}.")
    return t, p


def accuracy(y_true: Values, y_pred: Values) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.mean(t == p)) if t.size else math.nan


def f1(y_true: Values, y_pred: Values, positive: int = 1) -> float:
    t, p = _arrays(y_true, y_pred)
    tp = int(np.sum((t == positive) & (p == positive)))
    fp = int(np.sum((t != positive) & (p == positive)))
    fn = int(np.sum((t == positive) & (p != positive)))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def mcc(y_true: Values, y_pred: Values) -> float:
    """Matthews correlation, multiclass form (Gorodkin 2004), which is the usual one for two classes."""
    t, p = _arrays(y_true, y_pred)
    classes = np.union1d(t, p)
    ti, pi = np.searchsorted(classes, t), np.searchsorted(classes, p)
    c = np.zeros((classes.size, classes.size), dtype=np.float64)
    np.add.at(c, (ti, pi), 1)
    t_sum, p_sum = c.sum(axis=1), c.sum(axis=0)
    n, correct = c.sum(), np.trace(c)
    cov_tp = correct * n - t_sum @ p_sum
    cov_pp, cov_tt = n * n - p_sum @ p_sum, n * n - t_sum @ t_sum
    denom = math.sqrt(cov_tt * cov_pp)
    return float(cov_tp / denom) if denom else 0.0


def pearson(x: Values, y: Values) -> float:
    a, b = _arrays(x, y)
    a, b = a.astype(np.float64) - np.mean(a), b.astype(np.float64) - np.mean(b)
    denom = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b / denom) if denom else math.nan


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of their ranks (scipy.stats.rankdata's 'average')."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    starts = np.r_[True, sorted_x[1:] != sorted_x[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], x.size] - 1
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = (first[group] + last[group]) / 2 + 1
    return ranks


def spearman(x: Values, y: Values) -> float:
    a, b = _arrays(x, y)
    return pearson(average_ranks(a.astype(np.float64)), average_ranks(b.astype(np.float64)))


METRICS: dict[str, Callable[..., float]] = {
    "mcc": mcc,
    "accuracy": accuracy,
    "f1": f1,
    "pearson": pearson,
    "spearman": spearman,
}
