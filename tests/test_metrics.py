"""Explanation maps, relative performance (eqs. 15-17) and the statistics beyond the paper."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradcam_study.metrics import (
    bootstrap_relative_performance,
    explanation_maps,
    log_relative_performance,
    pearson_per_image,
    relative_performance,
    summarise_log_relative_performance,
    wilcoxon_signed_rank,
)


def test_explanation_map_multiplies_pixels_then_normalises() -> None:
    pixels = torch.full((1, 3, 2, 2), 0.8)
    heatmaps = torch.tensor([[[[1.0, 0.5], [0.0, 0.25]]]])
    maps = explanation_maps(pixels, heatmaps, lambda x: (x - 0.5) / 0.25)
    torch.testing.assert_close(maps[0, 0], (torch.tensor([[0.8, 0.4], [0.0, 0.2]]) - 0.5) / 0.25)


def test_relative_performance_is_the_geometric_mean_of_ratios() -> None:
    p_a, p_b = np.array([0.8, 0.1, 0.5]), np.array([0.4, 0.2, 0.5])
    ratios = p_a / p_b
    expected = ratios.prod() ** (1 / 3)
    assert relative_performance(np.log(p_a), np.log(p_b)) == pytest.approx(expected)
    assert relative_performance(np.log(p_b), np.log(p_a)) == pytest.approx(1 / expected)
    np.testing.assert_allclose(log_relative_performance(np.log(p_a), np.log(p_b)), np.log(ratios))


def test_relative_performance_survives_probabilities_that_underflow() -> None:
    # exp(-200) is 0 in float32; in logs the ratio is still exp(10).
    assert relative_performance([-190.0], [-200.0]) == pytest.approx(math.exp(10))
    assert math.isnan(relative_performance([], []))


def test_log_relative_performance_summary_is_mean_and_sample_std() -> None:
    summary = summarise_log_relative_performance([0.0, 1.0, 2.0])
    assert (summary.mean, summary.std, summary.count) == (1.0, 1.0, 3)


def test_bootstrap_interval_contains_the_estimate_and_is_seeded() -> None:
    rng = np.random.default_rng(3)
    log_rp = rng.normal(0.2, 0.5, size=400)
    interval = bootstrap_relative_performance(log_rp, seed=1)
    assert interval.low < math.exp(log_rp.mean()) < interval.high
    assert interval == bootstrap_relative_performance(log_rp, seed=1)
    assert interval.low > 1.0  # a mean of 0.2 with 400 images is clearly above 0


def test_wilcoxon_detects_a_shift_and_not_its_absence() -> None:
    rng = np.random.default_rng(0)
    assert wilcoxon_signed_rank(rng.normal(0.3, 0.5, 300)).p_value < 1e-6
    assert wilcoxon_signed_rank(rng.normal(0.0, 0.5, 300)).p_value > 0.01
    assert wilcoxon_signed_rank(np.zeros(10)).p_value == 1.0


def test_pearson_per_image() -> None:
    a = torch.rand(3, 5, 5)
    b = torch.stack([a[0] * 2 + 1, -a[1], torch.ones(5, 5)])
    r = pearson_per_image(a, b)
    assert r[0].item() == pytest.approx(1.0)
    assert r[1].item() == pytest.approx(-1.0)
    assert math.isnan(r[2].item())


def test_equivalence_test_shows_equivalence_only_within_the_margin() -> None:
    from gradcam_study.metrics import equivalence_test

    rng = np.random.default_rng(0)
    close = rng.normal(0.001, 0.01, 500)
    assert equivalence_test(close, 0.05).equivalent
    assert not equivalence_test(close + 0.2, 0.05).equivalent  # centred at exp(0.2) = 1.22: outside
    noisy = rng.normal(0.0, 2.0, 20)
    assert not equivalence_test(noisy, 0.05).equivalent  # too uncertain to show anything
    assert equivalence_test(noisy, 5.0).p_value < equivalence_test(noisy, 0.05).p_value
    assert equivalence_test([0.0, 0.0, 0.0], 0.01).equivalent  # identical methods
    with pytest.raises(ValueError, match="margin"):
        equivalence_test(close, 0.0)


def test_median_log_ratio_gives_the_direction_most_images_favour() -> None:
    from gradcam_study.metrics import median_log_ratio
    from gradcam_study.study.verdicts import favoured, interval_verdict

    # One image hugely in favour of A, most slightly in favour of B: the mean says A, the median says B.
    values = np.array([5.0, -0.1, -0.1, -0.1, -0.1])
    assert values.mean() > 0 and median_log_ratio(values) < 0
    assert favoured("a", "b", median_log_ratio(values)) == "b"
    assert interval_verdict(0.95, 0.99) == "worse" and interval_verdict(0.99, 1.01) == "not distinguishable"
