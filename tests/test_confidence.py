"""The Grad-CAM++ paper's Average Drop, Increase in Confidence and Win %, on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradcam_study.metrics import (
    average_drop,
    bootstrap_mean,
    confidence_drops,
    increase_in_confidence,
    win_percent,
    wins,
)

Y = np.array([0.8, 0.5, 0.4, 0.9])  # on the images
O = np.array([0.2, 0.6, 0.4, 0.45])  # on the explanation maps  # noqa: E741 (the Grad-CAM++ paper's O^c_i)


def test_average_drop_is_the_mean_clipped_relative_drop_in_percent() -> None:
    # Drops: (0.8 - 0.2) / 0.8 = 0.75; an increase counts 0; no change 0; (0.9 - 0.45) / 0.9 = 0.5.
    np.testing.assert_allclose(confidence_drops(np.log(Y), np.log(O)), [0.75, 0.0, 0.0, 0.5], atol=1e-12)
    assert average_drop(np.log(Y), np.log(O)) == pytest.approx(100 * 1.25 / 4)


def test_increase_in_confidence_counts_strict_increases_only() -> None:
    assert increase_in_confidence(np.log(Y), np.log(O)) == pytest.approx(25.0)  # only 0.5 -> 0.6; 0.4 -> 0.4 is no increase


def test_drops_stay_exact_where_probabilities_underflow() -> None:
    # log-probabilities far below float64's smallest probability: the ratio O / Y = e^-1 is still exact.
    assert confidence_drops([-2000.0], [-2001.0])[0] == pytest.approx(1 - math.exp(-1))


def test_win_percent_compares_drops_and_ties_count_for_neither() -> None:
    first = np.array([0.4, 0.7, 0.4, 0.3])  # drops 0.5, 0 (increase), 0, 2/3
    second = np.array([0.2, 0.6, 0.2, 0.6])  # drops 0.75, 0 (increase), 0.5, 1/3
    np.testing.assert_array_equal(wins(np.log(Y), np.log(first), np.log(second)), [1, 0, 1, 0])
    assert win_percent(np.log(Y), np.log(first), np.log(second)) == pytest.approx(50.0)
    assert win_percent(np.log(Y), np.log(second), np.log(first)) == pytest.approx(25.0)  # the tie on image 2: neither


def test_no_image_gives_nan_for_the_caller_to_print_as_a_dash() -> None:
    assert math.isnan(average_drop([], [])) and math.isnan(increase_in_confidence([], []))
    assert math.isnan(win_percent([], [], []))


def test_bootstrap_mean_brackets_the_mean_and_is_seeded() -> None:
    values = np.random.default_rng(0).normal(3.0, 1.0, 200)
    interval = bootstrap_mean(values, resamples=500)
    assert interval.low < values.mean() < interval.high
    assert bootstrap_mean(values, resamples=500) == interval
    assert math.isnan(bootstrap_mean([1.0]).low)
