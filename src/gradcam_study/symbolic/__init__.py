"""Symbolic checks of the derivation of the Grad-CAM++ alphas (Lerma & Lucas 2022, §2.2, §3.1, §3.3, Appendix A).

Each function builds one statement of the paper on a small concrete layer and returns the SymPy expressions
being compared with their simplified difference; chapter 3 of the book displays them (:mod:`.reading` reads them
in words and lays out their displays) and ``tests/test_symbolic.py`` asserts them.
"""

from gradcam_study.symbolic.objections import (
    AlphaSolution,
    BaseChangesAlphas,
    ConstantTreatedAsConstantAnalogue,
    LinearTermInvariance,
    UnderdeterminedSystem,
    base_changes_alphas,
    constant_treated_as_constant_analogue,
    linear_term_invariance,
    underdetermined_system,
)
from gradcam_study.symbolic.statements import (
    SMALL_LAYER,
    AlphasFromExponentialScore,
    Comparison,
    DerivativeOfEq6,
    DerivativeOfEq6VaryingAlphas,
    HalfAlphasMakeGcPlus,
    Layer,
    ScoreThroughAlphas,
    Unit,
    Witness,
    alphas_from_exponential_score,
    compare,
    derivative_of_eq6,
    derivative_of_eq6_varying_alphas,
    half_alphas_make_gc_plus,
    latex,
    min_max_normalise,
    relu,
    score_through_alphas,
)

__all__ = [
    "SMALL_LAYER",
    "AlphaSolution",
    "AlphasFromExponentialScore",
    "BaseChangesAlphas",
    "Comparison",
    "ConstantTreatedAsConstantAnalogue",
    "DerivativeOfEq6",
    "DerivativeOfEq6VaryingAlphas",
    "HalfAlphasMakeGcPlus",
    "Layer",
    "LinearTermInvariance",
    "ScoreThroughAlphas",
    "UnderdeterminedSystem",
    "Unit",
    "Witness",
    "alphas_from_exponential_score",
    "base_changes_alphas",
    "compare",
    "constant_treated_as_constant_analogue",
    "derivative_of_eq6",
    "derivative_of_eq6_varying_alphas",
    "half_alphas_make_gc_plus",
    "latex",
    "linear_term_invariance",
    "min_max_normalise",
    "relu",
    "score_through_alphas",
    "underdetermined_system",
]
