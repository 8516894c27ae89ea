"""Matching observed weights and heatmaps against the candidates (:mod:`gradcam_study.libraries.matching`)."""

from __future__ import annotations

import libraries_setting
import pytest
import torch
from libraries_setting import INNER, LAST

from gradcam_study import libraries as L
from gradcam_study.methods import (
    grad_cam_plus_plus_weights,
    grad_cam_plus_weights,
    grad_cam_weights,
)

# The shared fixtures, by assignment (pytest finds fixtures among a module's names).
setting = libraries_setting.setting


def test_best_match_fits_a_positive_factor_per_image(setting) -> None:
    activations, gradients = setting[3][INNER]
    factors = torch.tensor([2.0, 0.5, 3.0], dtype=torch.float64).view(-1, 1)
    report = L.best_match(factors * L.undivided_weights(activations, gradients), activations, gradients)
    assert report.best.candidate == "undivided" and report.matches == ("undivided",)
    assert (report.best.factor_low, report.best.factor, report.best.factor_high) == pytest.approx((0.5, 2.0, 3.0))
    assert report.best.residual < 1e-12 and report.matched and report.compared == "weights"


def test_a_negative_factor_is_not_a_match(setting) -> None:
    activations, gradients = setting[3][INNER]
    report = L.best_match(-grad_cam_weights(activations, gradients), activations, gradients, {"grad_cam": L.CANDIDATES["grad_cam"]})
    assert report.best.factor == 0 and report.best.residual == pytest.approx(1.0) and not report.matched


def test_ties_report_every_candidate_and_prefer_the_reference(setting) -> None:
    activations, gradients = setting[3][LAST]
    report = L.best_match(grad_cam_plus_plus_weights(activations, gradients), activations, gradients, prefer="eq9")
    assert {"eq9", "sum_denominator"} <= set(report.matches) and report.best.candidate == "eq9"


def test_without_a_full_match_the_best_is_the_one_matching_most_images() -> None:
    """No candidate within the tolerance on every image: the report names the one within it on the most images."""
    per_image = torch.tensor([0.0, 0.0, 1.0])
    report = L.MatchReport((L.Match("grad_cam", 0.5, 1, 3, per_image=per_image), L.Match("undivided", 1.0, 2, 3)),
                           "weights")
    assert report.matches == () and report.best.candidate == "undivided" and not report.matched


def test_weight_residual_is_relative_to_each_image_largest_weight() -> None:
    observed = torch.tensor([[1.0, 0.0], [100.0, 50.0]])
    expected = torch.tensor([[0.9, 0.0], [100.0, 49.0]])
    assert L.weight_residual(observed, expected) == pytest.approx(0.1)
    torch.testing.assert_close(L.weight_residuals(observed, expected), torch.tensor([0.1, 0.01], dtype=torch.float64))


def test_all_zero_weights_match_only_all_zero_expectations() -> None:
    zeros = torch.zeros(1, 3)
    assert L.weight_residual(zeros, zeros) == 0
    assert L.weight_residual(zeros, torch.tensor([[0.0, 1.0, 0.0]])) == 1


def test_fitted_factors_are_least_squares_and_never_negative() -> None:
    expected = torch.tensor([[1.0, 2.0], [1.0, 0.0], [0.0, 0.0]])
    observed = torch.tensor([[2.0, 4.0], [-3.0, 0.0], [1.0, 1.0]])
    assert L.fitted_factors(observed, expected).tolist() == [2.0, 0.0, 0.0]


def test_an_empty_batch_has_a_nan_residual_not_an_error() -> None:
    assert torch.isnan(torch.tensor(L.weight_residual(torch.zeros(0, 2), torch.zeros(0, 2))))
    assert torch.isnan(torch.tensor(L.heatmap_residual(torch.zeros(0, 2, 2), torch.zeros(0, 2, 2))))


def test_heatmap_match_ignores_positive_factors(setting) -> None:
    activations, gradients = setting[3][INNER]
    observed = L.normalised_heatmaps_of(activations, 7.0 * grad_cam_plus_weights(activations, gradients))
    report = L.best_heatmap_match(observed, activations, gradients)
    assert report.best.candidate == "grad_cam_plus" and report.best.factor is None and report.best.residual < 1e-12
    assert report.compared == "heatmaps" and report.tolerance == L.HEATMAP_TOLERANCE
