"""Explanation maps, the relative performance of two attribution methods (section 4), and other yardsticks.

Probabilities on explanation maps can underflow to 0 in float32; the study therefore
keeps log-probabilities (``log_softmax``), and every function here works in logs.
:mod:`~gradcam_study.metrics.confidence` holds the Grad-CAM++ paper's Average Drop, Increase in Confidence
and Win %; :mod:`~gradcam_study.metrics.perturbation` deletion and insertion.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats
from torch import Tensor

from .confidence import (
    average_drop,
    confidence_drops,
    confidence_increases,
    increase_in_confidence,
    win_percent,
    wins,
)
from .perturbation import (
    DEFAULT_STEPS,
    DeletionInsertion,
    blurred,
    deletion_insertion,
    perturbation_counts,
    pixel_ranks,
)

FloatArray = npt.NDArray[np.float64]


def explanation_maps(pixels: Tensor, heatmaps: Tensor, normalise: Callable[[Tensor], Tensor]) -> Tensor:
    r"""Explanation maps, eq. (15): :math:`E = I \odot H`, then the model's input normalisation.

    ``pixels`` is ``B x 3 x H x W`` in [0, 1]; ``heatmaps`` is ``B x 1 x H x W``, min-max
    normalised and upsampled to the image size.
    """
    return normalise(pixels * heatmaps)


def log_relative_performance(log_p_a: npt.ArrayLike, log_p_b: npt.ArrayLike) -> FloatArray:
    r"""Per-image log relative performance :math:`\log(p_A / p_B) = \log p_A - \log p_B`."""
    return np.asarray(log_p_a, dtype=np.float64) - np.asarray(log_p_b, dtype=np.float64)


def relative_performance(log_p_a: npt.ArrayLike, log_p_b: npt.ArrayLike) -> float:
    r"""Relative performance of A vs B over a data set, eqs. (16)-(17).

    .. math::
        RP_{A,B} = \Big(\prod_i \frac{p_A^i}{p_B^i}\Big)^{1/N}
                 = \exp\Big(\frac{1}{N}\sum_i \log\frac{p_A^i}{p_B^i}\Big)
    """
    log_rp = log_relative_performance(log_p_a, log_p_b)
    if log_rp.size == 0:
        return float("nan")
    return float(np.exp(log_rp.mean()))


@dataclass(frozen=True)
class LogRelativePerformanceSummary:
    """Table 2's form: mean and standard deviation of the per-image log relative performance."""

    mean: float
    std: float
    count: int


def summarise_log_relative_performance(log_rp: npt.ArrayLike) -> LogRelativePerformanceSummary:
    """Mean and (sample, ``ddof=1``) standard deviation of per-image log relative performances."""
    values = np.asarray(log_rp, dtype=np.float64)
    std = float(values.std(ddof=1)) if values.size > 1 else float("nan")
    mean = float(values.mean()) if values.size else float("nan")
    return LogRelativePerformanceSummary(mean=mean, std=std, count=int(values.size))


@dataclass(frozen=True)
class ConfidenceInterval:
    low: float
    high: float
    level: float
    resamples: int


def bootstrap_mean(
    values: npt.ArrayLike, *, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> ConfidenceInterval:
    """Percentile bootstrap interval of the mean of per-image ``values``, resampling images with a seeded
    generator; NaN ends for fewer than two images.

    >>> interval = bootstrap_mean([1.0, 2.0, 3.0, 4.0])
    >>> 1.0 <= interval.low <= 2.5 <= interval.high <= 4.0
    True
    """
    data = np.asarray(values, dtype=np.float64)
    if data.size < 2:
        return ConfidenceInterval(float("nan"), float("nan"), level, resamples)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return ConfidenceInterval(float(low), float(high), level, resamples)


def bootstrap_relative_performance(
    log_rp: npt.ArrayLike, *, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> ConfidenceInterval:
    """Percentile bootstrap interval of the relative performance: :func:`bootstrap_mean` of the log ratios,
    exponentiated (the exponential is monotone, so the percentiles carry over)."""
    logs = bootstrap_mean(log_rp, level=level, resamples=resamples, seed=seed)
    return ConfidenceInterval(float(np.exp(logs.low)), float(np.exp(logs.high)), level, resamples)


@dataclass(frozen=True)
class SignedRankTest:
    statistic: float
    p_value: float


def wilcoxon_signed_rank(log_rp: npt.ArrayLike, zero_method: str = "zsplit") -> SignedRankTest:
    """Paired Wilcoxon signed-rank test of "median log relative performance = 0" (two-sided). ``zero_method`` is
    scipy's handling of zero differences, always passed explicitly: ``"zsplit"`` splits their ranks between the two
    signs (the book's choice, :data:`gradcam_study.study.verdicts.WILCOXON_ZERO_METHOD`), ``"wilcox"`` drops them."""
    values = np.asarray(log_rp, dtype=np.float64)
    if np.count_nonzero(values) == 0:
        # Identical methods: no evidence against equality, and scipy would divide by zero.
        return SignedRankTest(statistic=float("nan"), p_value=1.0)
    result = stats.wilcoxon(values, zero_method=zero_method)
    return SignedRankTest(statistic=float(result.statistic), p_value=float(result.pvalue))


@dataclass(frozen=True)
class EquivalenceTest:
    """Two one-sided tests (TOST) of "the relative performance lies within ``[1/(1 + margin), 1 + margin]``"."""

    margin: float
    p_value: float
    level: float

    @property
    def equivalent(self) -> bool:
        """Whether equivalence within the margin is shown at the test's level."""
        return self.p_value < self.level


def equivalence_test(log_rp: npt.ArrayLike, margin: float, level: float = 0.05) -> EquivalenceTest:
    r"""Two one-sided t-tests on the per-image log relative performances :math:`x_i = \log(p^A_i / p^B_i)`.

    With :math:`\delta = \log(1 + \text{margin})`, the null hypothesis is that the mean log ratio lies
    outside :math:`(-\delta, \delta)`, i.e. that the relative performance of eq. (17) lies outside
    :math:`(1/(1+\text{margin}), 1+\text{margin})`; the TOST p-value is the larger of the p-values of
    :math:`H_0: \bar x \le -\delta` and :math:`H_0: \bar x \ge \delta` (Schuirmann 1987). Equivalence is shown
    when it is below ``level``. The test is on the mean of the logs because eq. (17) is.

    >>> equivalence_test([0.001, -0.002, 0.0005, 0.001], margin=0.05).equivalent
    True
    """
    if margin <= 0:
        raise ValueError(f"The equivalence margin must be positive, got {margin}.")
    values = np.asarray(log_rp, dtype=np.float64)
    if values.size < 2:
        return EquivalenceTest(margin, 1.0, level)
    delta = float(np.log1p(margin))
    if np.ptp(values) == 0:
        # No spread: the mean is known exactly, and t-tests would divide by zero.
        return EquivalenceTest(margin, 0.0 if abs(values[0]) < delta else 1.0, level)
    lower = stats.ttest_1samp(values, -delta, alternative="greater").pvalue
    upper = stats.ttest_1samp(values, delta, alternative="less").pvalue
    return EquivalenceTest(margin, float(max(lower, upper)), level)


def median_log_ratio(log_rp: npt.ArrayLike) -> float:
    """The median of the per-image log relative performances: the direction a signed-rank test points to
    (positive: the first method ahead on most images). NaN for no image."""
    values = np.asarray(log_rp, dtype=np.float64)
    return float(np.median(values)) if values.size else float("nan")


def pearson_per_image(maps_a: Tensor, maps_b: Tensor) -> Tensor:
    """Pearson correlation between corresponding maps of two ``B x ...`` batches (NaN where a map is constant)."""
    a = maps_a.flatten(start_dim=1).double()
    b = maps_b.flatten(start_dim=1).double()
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    return (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1))


#: The share of a heatmap's pixels whose overlap :func:`top_share_overlap` measures by default (its top 10%); the
#: study stores that overlap, and :mod:`gradcam_study.study.verdicts` reads its criterion from it.
TOP_SHARE = 0.1


def top_share_overlap(maps_a: Tensor, maps_b: Tensor, share: float = TOP_SHARE) -> Tensor:
    r"""Per image, the Jaccard overlap :math:`|T_a \cap T_b| / |T_a \cup T_b|` of the two maps' top pixels, where
    :math:`T` holds the positive pixels at or above the map's :math:`\lceil share \cdot n \rceil`-th largest value
    (ties at that value all count). NaN where either map is all zero (nothing to localise). Unlike a correlation,
    which the many low pixels dominate, it asks whether two heatmaps point at the same place.

    >>> import torch
    >>> a = torch.tensor([[0.0, 0.2, 0.5, 1.0]])
    >>> top_share_overlap(a, a, 0.5).tolist(), top_share_overlap(a, a.flip(1), 0.5).tolist()
    ([1.0], [0.0])
    """
    if not 0 < share <= 1:
        raise ValueError(f"The share of top pixels must be in (0, 1], got {share}.")
    a, b = maps_a.flatten(start_dim=1), maps_b.flatten(start_dim=1)
    count = max(1, math.ceil(share * a.shape[1]))

    def top(maps: Tensor) -> Tensor:
        kth = maps.topk(count, dim=1).values[:, -1:]
        return (maps >= kth) & (maps > 0)

    top_a, top_b = top(a), top(b)
    overlap = (top_a & top_b).sum(dim=1).double() / (top_a | top_b).sum(dim=1).double()
    empty = (a.amax(dim=1) <= 0) | (b.amax(dim=1) <= 0)
    return overlap.masked_fill(empty, float("nan"))


__all__ = [
    "DEFAULT_STEPS",
    "TOP_SHARE",
    "ConfidenceInterval",
    "DeletionInsertion",
    "EquivalenceTest",
    "LogRelativePerformanceSummary",
    "SignedRankTest",
    "average_drop",
    "blurred",
    "bootstrap_mean",
    "bootstrap_relative_performance",
    "confidence_drops",
    "confidence_increases",
    "deletion_insertion",
    "equivalence_test",
    "explanation_maps",
    "increase_in_confidence",
    "log_relative_performance",
    "median_log_ratio",
    "pearson_per_image",
    "top_share_overlap",
    "perturbation_counts",
    "pixel_ranks",
    "relative_performance",
    "summarise_log_relative_performance",
    "wilcoxon_signed_rank",
    "win_percent",
    "wins",
]
