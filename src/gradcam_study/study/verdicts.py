"""The book's declared criteria, in one place: every verdict word the book prints, what decides it, and from how
many images.

Every verdict a chapter prints is one of these functions applied to computed numbers, so that a criterion is
stated once, printed beside its verdicts (the book's section "How verdicts are decided" pastes :func:`criteria`),
and can be varied (see :meth:`~gradcam_study.study.results.LayerResults.equivalence_sweep`). A verdict is a
:class:`Verdict`; :func:`verdict_words` is the one place that turns it into words.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np
import numpy.typing as npt

from ..metrics import TOP_SHARE

#: Sanity checks, "depends on the model": median rank correlation (absolute values) after the full cascade of
#: randomised layers below this.
DEPENDENCE_CRITERION = 0.5
#: Choice of score, "identical" heatmaps: no normalised value differs by more than this. Float32 rounding stays below
#: it even where the logit shift adds a few hundred to every logit (the largest gap seen between heatmaps equal in
#: exact arithmetic was about 2e-4).
IDENTICAL_TOLERANCE = 1e-3
#: Section 3.3's "near 1/2": an alpha within this distance of 1/2 (a definition of the study, printed in labels).
NEAR_HALF = 0.03
#: "Alphas about 1/2": more than this share of the non-zero alphas lie within NEAR_HALF (0.03) of 1/2.
ABOUT_HALF_SHARE = 0.5
#: Level of every test and interval (95% intervals, p < 0.05).
SIGNIFICANCE_LEVEL = 0.05
#: "Perform alike": equivalence shown by two one-sided tests that the relative performance lies within
#: [1/(1 + margin), 1 + margin]. A declared margin, not a measured one; :data:`EQUIVALENCE_MARGINS` varies it.
EQUIVALENCE_MARGIN = 0.05
#: The stricter margin every verdict table shows beside :data:`EQUIVALENCE_MARGIN`: a pair alike within 5% but
#: not within 1% differs by a few percent, which the 5% margin alone would hide.
STRICT_EQUIVALENCE_MARGIN = 0.01
#: The margins of the verdict columns, strict first.
SHOWN_MARGINS = (STRICT_EQUIVALENCE_MARGIN, EQUIVALENCE_MARGIN)
EQUIVALENCE_MARGINS = (0.005, 0.01, 0.02, 0.05, 0.10)
#: "Heatmaps nearly equal" by correlation: the median per-image Pearson correlation of the two normalised heatmaps
#: is at least this (an absolute criterion, stated before looking at the numbers). Shown beside the overlap
#: criterion, which decides: the correlation is dominated by the many low pixels and rarely separates pairs.
NEARLY_EQUAL_CORRELATION = 0.99
#: "Heatmaps nearly equal" (the deciding criterion): the median per-image Jaccard overlap of the two heatmaps' top
#: :data:`TOP_SHARE` of pixels (:func:`~gradcam_study.metrics.top_share_overlap`) is at least this.
NEARLY_EQUAL_OVERLAP = 0.9
#: "Identical heatmaps": every image's correlation of the two min-max normalised heatmaps is at least this. Two
#: maps that share their minimum (0) and maximum (1) and correlate perfectly are equal, so a correlation this close
#: to 1 leaves only float rounding between them.
IDENTICAL_CORRELATION = 1 - 1e-6
#: No verdict word from fewer images than this (the number is still shown): below it the percentile bootstrap and
#: the tests' normal approximations are too rough to decide anything.
MIN_IMAGES_FOR_VERDICT = 20
#: "Rare": fewer than this share (1%) of the non-zero alphas.
RARE = 0.01
#: A unit "stands out" in an image when it is among the largest 1% of the image's units.
STANDS_OUT = 0.01
#: How Wilcoxon's signed-rank test treats images on which the two methods score the same (a zero log ratio, or
#: one within float rounding, :data:`ROUNDING_LOG_RATIO`): scipy's ``zero_method="zsplit"`` ranks them and
#: splits their ranks evenly between the positive and negative sums, so that ties count against a systematic
#: difference rather than being dropped (``"wilcox"``, scipy's default, drops them).
WILCOXON_ZERO_METHOD = "zsplit"
#: A per-image log ratio at most this far from 0 is a tie (float rounding of the explanation maps' scores).
ROUNDING_LOG_RATIO = 1e-5
#: Practical-equivalence bounds of the paired difference of each yardstick, in its own units: a difference whose
#: 95% interval lies within [-bound, bound] reads "alike". Average Drop, Increase in Confidence and Win %
#: (head-to-head) are in percentage points; the deletion and insertion AUCs (areas under a probability against
#: the fraction of pixels, in [0, 1]) in absolute units.
PRACTICAL_BOUNDS: dict[str, float] = {
    "average_drop": 1.0,
    "increase_in_confidence": 2.0,
    "win_percent": 2.0,
    "deletion_auc": 0.01,
    "insertion_auc": 0.01,
}
#: p-values are printed no smaller than this ("p < 1e-12"): below it the normal approximations of the tests are no
#: longer meaningful, and a smaller number says nothing more to a reader.
P_VALUE_FLOOR = 1e-12


class Verdict(str, Enum):
    """Every verdict the book prints about two methods (first against second); :func:`verdict_words` says it."""

    #: Equal up to float rounding (identical heatmaps): never "ahead", whatever the rounding makes of the scores.
    IDENTICAL = "identical"
    #: The difference is shown to lie within the declared margin or practical bound.
    ALIKE = "alike"
    #: Heatmaps: not identical, but the median top-pixel overlap reaches :data:`NEARLY_EQUAL_OVERLAP`.
    NEARLY_EQUAL = "nearly_equal"
    #: Heatmaps: the median top-pixel overlap stays below :data:`NEARLY_EQUAL_OVERLAP`.
    DIFFERENT = "different"
    FIRST_AHEAD = "first_ahead"
    SECOND_AHEAD = "second_ahead"
    #: Neither shown alike nor shown apart.
    NOT_SEPARATED = "not_separated"
    #: Fewer than :data:`MIN_IMAGES_FOR_VERDICT` images: the numbers are shown without a verdict.
    TOO_FEW_IMAGES = "too_few_images"


def verdict_words(verdict: Verdict | str, first: str = "the first", second: str = "the second") -> str:
    """The verdict in words, with the methods' labels where it names one.

    >>> verdict_words(Verdict.FIRST_AHEAD, "Grad-CAM++", "Grad-CAM+"), verdict_words("identical")
    ('Grad-CAM++ ahead', 'identical')
    """
    verdict = Verdict(verdict)
    return {
        Verdict.IDENTICAL: "identical",
        Verdict.ALIKE: "alike",
        Verdict.NEARLY_EQUAL: "nearly equal",
        Verdict.DIFFERENT: "different",
        Verdict.FIRST_AHEAD: f"{first} ahead",
        Verdict.SECOND_AHEAD: f"{second} ahead",
        Verdict.NOT_SEPARATED: "not separated",
        Verdict.TOO_FEW_IMAGES: f"no verdict (fewer than {MIN_IMAGES_FOR_VERDICT} images)",
    }[verdict]


def shown_alike(verdict: Verdict | str) -> bool:
    """Whether a performance verdict shows the pair alike: "alike" within the margin, or identical heatmaps.

    >>> shown_alike("identical"), shown_alike(Verdict.ALIKE), shown_alike("not_separated")
    (True, True, False)
    """
    return Verdict(verdict) in (Verdict.ALIKE, Verdict.IDENTICAL)


def shown_nearly_equal(verdict: Verdict | str) -> bool:
    """Whether a heatmap verdict shows the pair's heatmaps nearly equal (or identical)."""
    return Verdict(verdict) in (Verdict.NEARLY_EQUAL, Verdict.IDENTICAL)


def swapped(verdict: Verdict | str) -> Verdict:
    """The same verdict with the two methods' roles exchanged."""
    verdict = Verdict(verdict)
    return {Verdict.FIRST_AHEAD: Verdict.SECOND_AHEAD, Verdict.SECOND_AHEAD: Verdict.FIRST_AHEAD}.get(verdict, verdict)


def identical_maps(correlations: npt.ArrayLike, first_constant: npt.ArrayLike, second_constant: npt.ArrayLike) -> bool:
    """Whether two methods drew the same heatmap on every image, up to float rounding: per image, a correlation
    of at least :data:`IDENTICAL_CORRELATION`, or both maps constant (all zero once normalised, where the
    correlation is undefined). False for no image.

    >>> identical_maps([1.0, 0.9999999999], [0, 0], [0, 0]), identical_maps([1.0, 0.99], [0, 0], [0, 0])
    (True, False)
    """
    r = np.asarray(correlations, dtype=float)
    both_constant = np.asarray(first_constant, dtype=bool) & np.asarray(second_constant, dtype=bool)
    if r.size == 0:
        return False
    return bool(np.all(np.where(np.isnan(r), both_constant, r >= IDENTICAL_CORRELATION)))


def ties_to_zero(log_ratios: npt.ArrayLike) -> np.ndarray:
    """The per-image log ratios with those within :data:`ROUNDING_LOG_RATIO` of 0 set to exactly 0 (ties)."""
    values = np.asarray(log_ratios, dtype=float)
    return np.where(np.abs(values) <= ROUNDING_LOG_RATIO, 0.0, values)


def floor_p(p_value: float) -> float:
    """A p-value as it may be printed: no smaller than :data:`P_VALUE_FLOOR` (NaN stays NaN)."""
    return p_value if np.isnan(p_value) else max(float(p_value), P_VALUE_FLOOR)


def paired_verdict(
    images: int, low: float, high: float, bound: float, higher_is_better: bool = True, identical: bool = False,
) -> Verdict:
    """The verdict on a paired difference (first minus second) under a yardstick, from its 95% interval
    ``[low, high]`` over ``images`` images and the yardstick's practical bound (:data:`PRACTICAL_BOUNDS`):

    - fewer than :data:`MIN_IMAGES_FOR_VERDICT` images: no verdict;
    - identical heatmaps (``identical``, :func:`identical_maps`): ``IDENTICAL``, whatever rounding makes of the
      difference;
    - the interval inside ``[-bound, bound]``: ``ALIKE``, even where it excludes 0 (a real but negligible gap);
    - the interval wholly on one side of 0: the better side is ahead (``higher_is_better`` says which);
    - otherwise ``NOT_SEPARATED``.

    >>> paired_verdict(100, 0.0054, 0.0186, bound=1.0, higher_is_better=False).value
    'alike'
    >>> paired_verdict(100, 1.5, 3.0, bound=1.0, higher_is_better=False).value
    'second_ahead'
    """
    if images < MIN_IMAGES_FOR_VERDICT:
        return Verdict.TOO_FEW_IMAGES
    if identical:
        return Verdict.IDENTICAL
    if -bound <= low and high <= bound:
        return Verdict.ALIKE
    if low > 0 or high < 0:
        return Verdict.FIRST_AHEAD if (low > 0) == higher_is_better else Verdict.SECOND_AHEAD
    return Verdict.NOT_SEPARATED


def relative_performance_verdict(
    images: int, low: float, high: float, tost_p_value: float, wilcoxon_p_value: float, median_log_ratio: float,
    identical: bool = False,
) -> Verdict:
    """The verdict on a relative performance (eq. (17)) of first against second, from its bootstrap 95% interval
    ``[low, high]``, the TOST p-value of equivalence within a margin and the Wilcoxon p-value (both Holm-adjusted
    within their table, :func:`holm`), and the median per-image log ratio:

    - fewer than :data:`MIN_IMAGES_FOR_VERDICT` images: no verdict; identical heatmaps: ``IDENTICAL``;
    - equivalence shown within the margin (TOST p below :data:`SIGNIFICANCE_LEVEL`): ``ALIKE``;
    - the interval wholly above (below) 1, the Wilcoxon test significant and its median on the same side: the
      first (second) ahead;
    - otherwise ``NOT_SEPARATED``.

    >>> relative_performance_verdict(500, 1.02, 1.08, tost_p_value=0.3, wilcoxon_p_value=1e-6,
    ...                              median_log_ratio=0.04).value
    'first_ahead'
    """
    if images < MIN_IMAGES_FOR_VERDICT:
        return Verdict.TOO_FEW_IMAGES
    if identical:
        return Verdict.IDENTICAL
    if tost_p_value < SIGNIFICANCE_LEVEL:
        return Verdict.ALIKE
    if wilcoxon_p_value < SIGNIFICANCE_LEVEL:
        if low > 1 and median_log_ratio > 0:
            return Verdict.FIRST_AHEAD
        if high < 1 and median_log_ratio < 0:
            return Verdict.SECOND_AHEAD
    return Verdict.NOT_SEPARATED


def heatmap_verdict(images: int, median_overlap: float, identical: bool = False) -> Verdict:
    """Whether two methods' heatmaps are ``IDENTICAL`` (:func:`identical_maps`), ``NEARLY_EQUAL`` (median top-pixel
    overlap at least :data:`NEARLY_EQUAL_OVERLAP`) or ``DIFFERENT``; no verdict from too few images.

    >>> heatmap_verdict(100, 0.93).value, heatmap_verdict(100, 0.6).value
    ('nearly_equal', 'different')
    """
    if images < MIN_IMAGES_FOR_VERDICT:
        return Verdict.TOO_FEW_IMAGES
    if identical:
        return Verdict.IDENTICAL
    return Verdict.NEARLY_EQUAL if median_overlap >= NEARLY_EQUAL_OVERLAP else Verdict.DIFFERENT


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




def nearly_equal(median_correlation: float, criterion: float = NEARLY_EQUAL_CORRELATION) -> bool:
    """Whether two methods' heatmaps are "nearly equal": median per-image correlation at least ``criterion``."""
    return median_correlation >= criterion


def signed_rank_test(log_ratios: npt.ArrayLike) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank test of "the per-image log ratios are centred on 0": ``(statistic,
    p_value)``. Log ratios within :data:`ROUNDING_LOG_RATIO` of 0 are ties (:func:`ties_to_zero`), handled by
    :data:`WILCOXON_ZERO_METHOD`; no non-zero log ratio (identical scores): ``(nan, 1.0)``, no evidence against
    equality.

    >>> signed_rank_test([0.0, 1e-7, -1e-7])
    (nan, 1.0)
    """
    from ..metrics import wilcoxon_signed_rank

    result = wilcoxon_signed_rank(ties_to_zero(log_ratios), zero_method=WILCOXON_ZERO_METHOD)
    return result.statistic, result.p_value




__all__ = [
    "IDENTICAL_CORRELATION",
    "MIN_IMAGES_FOR_VERDICT",
    "NEAR_HALF",
    "DEPENDENCE_CRITERION",
    "IDENTICAL_TOLERANCE",
    "NEARLY_EQUAL_OVERLAP",
    "PRACTICAL_BOUNDS",
    "RARE",
    "ROUNDING_LOG_RATIO",
    "SHOWN_MARGINS",
    "STANDS_OUT",
    "STRICT_EQUIVALENCE_MARGIN",
    "TOP_SHARE",
    "Verdict",
    "WILCOXON_ZERO_METHOD",

    "floor_p",
    "heatmap_verdict",
    "identical_maps",
    "paired_verdict",
    "relative_performance_verdict",
    "signed_rank_test",
    "shown_alike",
    "shown_nearly_equal",
    "swapped",
    "ties_to_zero",
    "verdict_words",
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

]
