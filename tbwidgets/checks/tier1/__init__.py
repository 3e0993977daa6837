"""Tier 1: critical validation. Each module holds one check; `tier1_suite()` lists them in run order."""

from __future__ import annotations

from tbwidgets.checks.tier1.batch_independence import BatchIndependence
from tbwidgets.checks.tier1.causal_leakage import CausalLeakage
from tbwidgets.checks.tier1.determinism import Determinism
from tbwidgets.checks.tier1.gradient_flow import GradientFlow
from tbwidgets.checks.tier1.inference_speed import InferenceSpeed
from tbwidgets.checks.tier1.loss_at_init import LossAtInit
from tbwidgets.checks.tier1.memory_profile import MemoryProfile
from tbwidgets.checks.tier1.numerical_stability import NumericalStability
from tbwidgets.checks.tier1.overfit_batch import OverfitBatch
from tbwidgets.checks.tier1.padding_invariance import PaddingInvariance
from tbwidgets.checks.tier1.parameter_init import ParameterInit
from tbwidgets.checks.tier1.shape_robustness import ShapeRobustness
from tbwidgets.core.check import Suite

TIER1_CHECKS = (
    ShapeRobustness,
    GradientFlow,
    NumericalStability,
    ParameterInit,
    LossAtInit,
    CausalLeakage,
    BatchIndependence,
    PaddingInvariance,
    Determinism,
    MemoryProfile,
    InferenceSpeed,
    OverfitBatch,
)


def tier1_suite() -> Suite:
    """The twelve Tier 1 checks with default settings, in run order (cheap, shared forwards first)."""
    return Suite("tier1", [cls() for cls in TIER1_CHECKS])


__all__ = [c.__name__ for c in TIER1_CHECKS] + ["TIER1_CHECKS", "tier1_suite"]
