"""The book's declared criteria, in one place: what "better", "equivalent" and "nearly equal" mean.

Every verdict a chapter prints is one of these functions applied to computed numbers, so that
a criterion is stated once, printed beside its verdicts, and can be varied (see
:meth:`~gradcam_study.study.results.LayerResults.equivalence_sweep`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: "Alphas about 1/2": more than this share of the non-zero alphas lie within NEAR_HALF (0.03) of 1/2.
ABOUT_HALF_SHARE = 0.5
#: Level of every test and interval (95% intervals, p < 0.05).
SIGNIFICANCE_LEVEL = 0.05
#: "Perform alike": equivalence shown by two one-sided tests that the relative performance lies within
#: [1/(1 + margin), 1 + margin]. A declared margin, not a measured one; :data:`EQUIVALENCE_MARGINS` varies it.
EQUIVALENCE_MARGIN = 0.05
EQUIVALENCE_MARGINS = (0.005, 0.01, 0.02, 0.05, 0.10)
#: "Heatmaps nearly equal": the median per-image Pearson correlation of the two normalised heatmaps is at
#: least this (an absolute criterion, stated before looking at the numbers).
NEARLY_EQUAL_CORRELATION = 0.99


#: p-values are printed no smaller than this ("p < 1e-12"): below it the normal approximations of the tests are no
#: longer meaningful, and a smaller number says nothing more to a reader.
P_VALUE_FLOOR = 1e-12


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (Holm 1979), for the tests of one table of several
    layers or pairs: reject where the adjusted value is below :data:`SIGNIFICANCE_LEVEL`.

    ``p_(i)`` sorted ascending becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``; NaN stays NaN and does not
    count in ``m``.

    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    values = np.asarray(p_values, dtype=float)
    adjusted = np.full(values.shape, np.nan)
    present = np.flatnonzero(~np.isnan(values))
    order = present[np.argsort(values[present], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted


def interval_verdict(low: float, high: float) -> str:
    """``"better"`` when a relative performance's interval lies above 1, ``"worse"`` below, else
    ``"not distinguishable"``.

    >>> interval_verdict(1.01, 1.2), interval_verdict(0.9, 1.1)
    ('better', 'not distinguishable')
    """
    if low > 1:
        return "better"
    if high < 1:
        return "worse"
    return "not distinguishable"


def favoured(first: str, second: str, median_log_ratio: float) -> str:
    """The method most images favour: ``first`` when the median log ratio log(p_first / p_second) is positive,
    ``second`` when negative, ``"neither"`` at 0 (the direction of a signed-rank test, read from its median)."""
    if median_log_ratio > 0:
        return first
    if median_log_ratio < 0:
        return second
    return "neither"


def wilcoxon_reading(first: str, second: str, p_value: float, median_log_ratio: float, still: bool = False) -> str:
    """What a Wilcoxon signed-rank test of log(p_first / p_second) says, its direction read from the median log ratio
    (not from the geometric mean), as a clause to follow "the Wilcoxon signed-rank test": ``still`` adds "still"
    before a detected difference (beside an equivalence that was shown).

    >>> wilcoxon_reading("Grad-CAM++", "Grad-CAM", 0.11, 0.01)
    'finds no systematic difference (p = 0.11)'
    """
    from ..display import p_equals, significant

    if p_value >= SIGNIFICANCE_LEVEL:
        return f"finds no systematic difference (p {p_equals(p_value)})"
    detected = f"{'still ' if still else ''}detects a systematic difference (p {p_equals(p_value)})"
    direction = favoured(first, second, median_log_ratio)
    if direction == "neither":
        return f"{detected}, though the median per-image log ratio is exactly 0"
    return (f"{detected} in favour of {direction}, which most images favour (median per-image log ratio "
            f"{significant(median_log_ratio, 2)})")


def nearly_equal(median_correlation: float, criterion: float = NEARLY_EQUAL_CORRELATION) -> bool:
    """Whether two methods' heatmaps are "nearly equal": median per-image correlation at least ``criterion``."""
    return median_correlation >= criterion


__all__ = [
    "ABOUT_HALF_SHARE",
    "EQUIVALENCE_MARGIN",
    "EQUIVALENCE_MARGINS",
    "NEARLY_EQUAL_CORRELATION",
    "P_VALUE_FLOOR",
    "SIGNIFICANCE_LEVEL",
    "holm",
    "favoured",
    "interval_verdict",
    "nearly_equal",
    "wilcoxon_reading",
]
