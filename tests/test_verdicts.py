"""The declared criteria, pinned on hand-made cases: every verdict word comes from one of them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from gradcam_study.methods import normalised_heatmaps
from gradcam_study.metrics import pearson_per_image, top_share_overlap
from gradcam_study.study import verdicts
from gradcam_study.study.verdicts import IDENTICAL_CORRELATION, MIN_IMAGES_FOR_VERDICT, PRACTICAL_BOUNDS, Verdict, heatmap_verdict, holm, identical_maps, paired_verdict, relative_performance_verdict, signed_rank_test, swapped, ties_to_zero, verdict_words

ENOUGH = MIN_IMAGES_FOR_VERDICT


def rounding_equal_heatmaps() -> tuple[torch.Tensor, torch.Tensor]:
    """Grad-CAM and HiResCAM where the gradient is constant within each map: equal in exact arithmetic, computed
    along different sums, so equal only up to float rounding."""
    generator = torch.Generator().manual_seed(0)
    activations = torch.rand(4, 8, 7, 7, generator=generator)
    gradients = torch.randn(4, 8, 1, 1, generator=generator).expand(4, 8, 7, 7).contiguous()
    return (normalised_heatmaps(activations, gradients, "grad_cam"),
            normalised_heatmaps(activations, gradients, "hires_cam"))


def test_a_rounding_equal_pair_reads_identical() -> None:
    grad_cam, hires_cam = rounding_equal_heatmaps()
    assert (grad_cam - hires_cam).abs().max() < 1e-5  # equal up to rounding, whether or not bit for bit
    r = pearson_per_image(grad_cam, hires_cam).numpy()
    constant = np.zeros(len(r), dtype=bool)
    assert identical_maps(r, constant, constant)
    # Identical heatmaps are never "ahead", whatever rounding makes of the scores' interval.
    assert paired_verdict(ENOUGH, 0.001, 0.004, bound=0.0001, identical=True) is Verdict.IDENTICAL
    assert relative_performance_verdict(ENOUGH, 1.000001, 1.000002, 0.9, 1e-9, 1e-6, identical=True) is Verdict.IDENTICAL
    assert heatmap_verdict(ENOUGH, 1.0, identical=True) is Verdict.IDENTICAL
    assert verdict_words(Verdict.IDENTICAL) == "identical"


def test_maps_that_differ_beyond_rounding_are_not_identical() -> None:
    grad_cam, _ = rounding_equal_heatmaps()
    other = grad_cam.clone()
    other[0, 0, 0] = 0.5 * other[0, 0, 0] + 0.25  # one cell of one image moved
    r = pearson_per_image(grad_cam, other).numpy()
    assert r.min() < IDENTICAL_CORRELATION
    constant = np.zeros(len(r), dtype=bool)
    assert not identical_maps(r, constant, constant)


def test_constant_maps_are_identical_only_when_both_are() -> None:
    # A constant (all-zero) map has an undefined correlation.
    assert identical_maps([np.nan, 1.0], [True, False], [True, False])
    assert not identical_maps([np.nan, 1.0], [True, False], [False, False])
    assert not identical_maps([], [], [])


def test_a_difference_inside_the_practical_bound_reads_alike() -> None:
    # The case: Average Drop lower by 0.0116 points [0.0054, 0.0186] for the first method: real, negligible.
    bound = PRACTICAL_BOUNDS["average_drop"]
    assert paired_verdict(1000, 0.0054, 0.0186, bound, higher_is_better=False) is Verdict.ALIKE
    assert paired_verdict(1000, -0.0186, -0.0054, bound, higher_is_better=False) is Verdict.ALIKE
    assert verdict_words(Verdict.ALIKE) == "alike"


def test_a_difference_beyond_the_bound_puts_the_better_side_ahead() -> None:
    bound = PRACTICAL_BOUNDS["average_drop"]
    # Lower Average Drop is better: a positive difference (first minus second) puts the second ahead.
    assert paired_verdict(1000, 1.5, 3.0, bound, higher_is_better=False) is Verdict.SECOND_AHEAD
    assert paired_verdict(1000, 1.5, 3.0, bound, higher_is_better=True) is Verdict.FIRST_AHEAD
    # An interval that crosses 0 and leaves the bound separates nothing.
    assert paired_verdict(1000, -0.5, 3.0, bound) is Verdict.NOT_SEPARATED
    # An interval that excludes 0 but reaches beyond the bound is a real, non-negligible gap.
    assert paired_verdict(1000, 0.5, 1.5, bound, higher_is_better=True) is Verdict.FIRST_AHEAD


def test_too_few_images_give_no_verdict_word() -> None:
    few = MIN_IMAGES_FOR_VERDICT - 1
    assert paired_verdict(few, 5.0, 6.0, bound=1.0) is Verdict.TOO_FEW_IMAGES
    assert paired_verdict(few, 0.0, 0.0, bound=1.0, identical=True) is Verdict.TOO_FEW_IMAGES
    assert relative_performance_verdict(few, 1.5, 2.0, 0.5, 1e-9, 0.4) is Verdict.TOO_FEW_IMAGES
    assert heatmap_verdict(few, 0.99) is Verdict.TOO_FEW_IMAGES
    assert str(MIN_IMAGES_FOR_VERDICT) in verdict_words(Verdict.TOO_FEW_IMAGES)


def test_relative_performance_verdicts() -> None:
    # Equivalence shown (Holm-adjusted TOST p below the level) reads alike, even with an interval off 1.
    assert relative_performance_verdict(500, 1.001, 1.004, 0.001, 1e-6, 0.002) is Verdict.ALIKE
    # Ahead needs the interval off 1, a significant Wilcoxon test, and its median on the same side.
    assert relative_performance_verdict(500, 0.92, 0.98, 0.4, 1e-6, -0.03) is Verdict.SECOND_AHEAD
    assert relative_performance_verdict(500, 0.92, 0.98, 0.4, 0.2, -0.03) is Verdict.NOT_SEPARATED
    assert relative_performance_verdict(500, 0.92, 0.98, 0.4, 1e-6, 0.01) is Verdict.NOT_SEPARATED
    assert relative_performance_verdict(500, 0.95, 1.05, 0.4, 0.5, 0.0) is Verdict.NOT_SEPARATED


def test_the_strict_margin_separates_what_the_wide_one_calls_alike() -> None:
    from gradcam_study.metrics import equivalence_test

    rng = np.random.default_rng(0)
    log_ratios = np.log(1.03) + 0.02 * rng.standard_normal(400)  # 3% apart, tightly
    wide = equivalence_test(log_ratios, verdicts.EQUIVALENCE_MARGIN).p_value
    strict = equivalence_test(log_ratios, verdicts.STRICT_EQUIVALENCE_MARGIN).p_value
    _, p = signed_rank_test(log_ratios)
    assert relative_performance_verdict(400, 1.028, 1.032, wide, p, 0.03) is Verdict.ALIKE
    assert relative_performance_verdict(400, 1.028, 1.032, strict, p, 0.03) is Verdict.FIRST_AHEAD


def test_heatmap_verdict_reads_the_top_pixel_overlap() -> None:
    assert heatmap_verdict(ENOUGH, verdicts.NEARLY_EQUAL_OVERLAP) is Verdict.NEARLY_EQUAL
    assert heatmap_verdict(ENOUGH, verdicts.NEARLY_EQUAL_OVERLAP - 0.01) is Verdict.DIFFERENT


def test_top_share_overlap_separates_what_correlation_does_not() -> None:
    # A smooth ramp, and the same ramp with its hottest cells moved: highly correlated, top pixels apart.
    ramp = torch.linspace(0, 1, 100).reshape(1, 10, 10)
    moved = ramp.clone().flatten()
    moved[-10:], moved[-20:-10] = ramp.flatten()[-20:-10], ramp.flatten()[-10:]
    moved = moved.reshape(1, 10, 10)
    assert pearson_per_image(ramp, moved).item() > 0.98
    assert top_share_overlap(ramp, moved, 0.1).item() == 0.0
    assert top_share_overlap(ramp, ramp, 0.1).item() == 1.0
    assert np.isnan(top_share_overlap(ramp, torch.zeros_like(ramp)).item())


def test_wilcoxon_ties_are_declared_and_split() -> None:
    values = np.array([0.3, -0.1, 0.2, 0.0, 1e-9, 0.5, 0.4, -0.2, 0.25, 0.6])
    assert verdicts.WILCOXON_ZERO_METHOD == "zsplit"
    np.testing.assert_array_equal(ties_to_zero(values)[3:5], [0.0, 0.0])
    statistic, p = signed_rank_test(values)
    expected = stats.wilcoxon(ties_to_zero(values), zero_method="zsplit")
    assert (statistic, p) == pytest.approx((expected.statistic, expected.pvalue))
    # Dropping the ties instead ("wilcox") would find more evidence: the choice matters, hence declared.
    assert stats.wilcoxon(ties_to_zero(values), zero_method="wilcox").pvalue < p
    assert signed_rank_test([0.0, 1e-8, -1e-8]) == (pytest.approx(np.nan, nan_ok=True), 1.0)


def test_holm_adjusts_within_a_family() -> None:
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    adjusted = holm([0.01, np.nan, 0.02])
    assert np.isnan(adjusted[1]) and adjusted[0] == pytest.approx(0.02)


def test_every_verdict_has_words_and_a_mirror() -> None:
    for verdict in Verdict:
        assert verdict_words(verdict, "A", "B")
        assert swapped(swapped(verdict)) is verdict
    assert verdict_words("first_ahead", "A", "B") == "A ahead" == verdict_words(swapped("second_ahead"), "A", "B")
