"""Each GLUE metric equals scikit-learn / scipy (dev-only test dependencies)."""

from __future__ import annotations

import numpy as np
import pytest

from tbwidgets.training.benchmarks.metrics import accuracy, average_ranks, f1, mcc, pearson, spearman

sklearn_metrics = pytest.importorskip("sklearn.metrics")
stats = pytest.importorskip("scipy.stats")


def _labels(seed: int, n: int, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, n)
    p = np.where(rng.random(n) < 0.7, t, rng.integers(0, classes, n))
    return t, p


@pytest.mark.parametrize("seed", range(5))
def test_classification_metrics_equal_sklearn(seed: int) -> None:
    t, p = _labels(seed, 1000)
    assert mcc(t, p) == pytest.approx(sklearn_metrics.matthews_corrcoef(t, p), abs=1e-12)
    assert accuracy(t, p) == pytest.approx(sklearn_metrics.accuracy_score(t, p), abs=1e-12)
    assert f1(t, p) == pytest.approx(sklearn_metrics.f1_score(t, p), abs=1e-12)
    t3, p3 = _labels(seed, 500, classes=3)  # MNLI: three classes
    assert accuracy(t3, p3) == pytest.approx(sklearn_metrics.accuracy_score(t3, p3), abs=1e-12)
    assert mcc(t3, p3) == pytest.approx(sklearn_metrics.matthews_corrcoef(t3, p3), abs=1e-12)


def test_degenerate_classification_matches_sklearn() -> None:
    t, constant = np.array([0, 1, 1, 0]), np.array([1, 1, 1, 1])
    assert mcc(t, constant) == sklearn_metrics.matthews_corrcoef(t, constant) == 0.0
    none = np.zeros(4, dtype=int)
    assert f1(none, none) == sklearn_metrics.f1_score(none, none, zero_division=0) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_correlations_equal_scipy_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    gold = np.round(rng.uniform(0, 5, 800), 1)  # STS-B scores: many ties
    pred = np.round(gold + rng.normal(0, 1.2, 800), 1)
    assert pearson(gold, pred) == pytest.approx(stats.pearsonr(gold, pred)[0], abs=1e-12)
    assert spearman(gold, pred) == pytest.approx(stats.spearmanr(gold, pred)[0], abs=1e-12)
    assert np.array_equal(average_ranks(gold), stats.rankdata(gold))


def test_constant_prediction_has_no_correlation() -> None:
    assert np.isnan(pearson([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]))
    with pytest.raises(ValueError, match="one length"):
        accuracy([1, 0], [1])
