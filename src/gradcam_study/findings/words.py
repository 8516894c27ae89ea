"""Verdicts and tests in words: the clauses the chapters glue where a sentence depends on a result."""

from __future__ import annotations

from ..presentation.formats import p_equals, significant
from ..study.verdicts import SIGNIFICANCE_LEVEL, favoured


def wilcoxon_reading(first: str, second: str, p_value: float, median_log_ratio: float, still: bool = False) -> str:
    """What a Wilcoxon signed-rank test of log(p_first / p_second) says, its direction read from the median log ratio
    (not from the geometric mean), as a clause to follow "the Wilcoxon signed-rank test": ``still`` adds "still"
    before a detected difference (beside an equivalence that was shown).

    >>> wilcoxon_reading("Grad-CAM++", "Grad-CAM", 0.11, 0.01)
    'finds no systematic difference (p = 0.11)'
    """
    if p_value >= SIGNIFICANCE_LEVEL:
        return f"finds no systematic difference (p {p_equals(p_value)})"
    detected = f"{'still ' if still else ''}detects a systematic difference (p {p_equals(p_value)})"
    direction = favoured(first, second, median_log_ratio)
    if direction == "neither":
        return f"{detected}, though the median per-image log ratio is exactly 0"
    return (f"{detected} in favour of {direction}, which most images favour (median per-image log ratio "
            f"{significant(median_log_ratio, 2)})")


__all__ = ["wilcoxon_reading"]
