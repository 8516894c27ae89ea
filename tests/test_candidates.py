"""The formula candidates of :mod:`gradcam_study.methods.candidates`: what each computes, and that the setting of
the library tests tells them apart."""

from __future__ import annotations

import itertools

import libraries_setting
import pytest
import torch
from libraries_setting import INNER, LAST

from gradcam_study.libraries import MATCH_TOLERANCE, best_match
from gradcam_study.methods import constant_within_maps, grad_cam_plus_plus_weights
from gradcam_study.methods.candidates import (
    CANDIDATES,
    REFERENCE_FORMULA,
    candidate_table,
    is_eq9,
    sum_denominator_weights,
    undivided_weights,
)

GRAD_CAM_PLUS_PLUS_CANDIDATES = [name for name in CANDIDATES if name not in ("grad_cam", "grad_cam_plus")]

# The shared fixtures, by assignment (pytest finds fixtures among a module's names).
setting = libraries_setting.setting


def test_candidates_differ_at_the_inner_layer(setting) -> None:
    """Every pair of Grad-CAM++ candidates differs by more than 10 x MATCH_TOLERANCE (relative, after fitting a factor) at
    features.3, so that a match within 1e-5 identifies one formula."""
    activations, gradients = setting[3][INNER]
    assert 1e-4 < gradients.abs().max() < 1e-1
    for first, second in itertools.combinations(GRAD_CAM_PLUS_PLUS_CANDIDATES, 2):
        observed = CANDIDATES[first].weights(activations, gradients)
        report = best_match(observed, activations, gradients, {second: CANDIDATES[second]})
        assert report.best.residual > 10 * MATCH_TOLERANCE, (first, second, report.best.residual)


def test_gradient_is_constant_within_maps_at_the_last_map_only(setting) -> None:
    assert not constant_within_maps(setting[3][INNER][1]).any()
    assert constant_within_maps(setting[3][LAST][1]).all()


def test_sum_denominator_equals_eq9_where_the_gradient_is_constant_within_maps(setting) -> None:
    r"""With g_ab = g for all ab, sum_ab A_ab g_ab^3 = (sum_ab A_ab) g^3: the two denominators coincide."""
    activations, gradients = setting[3][LAST]
    torch.testing.assert_close(sum_denominator_weights(activations, gradients),
                               grad_cam_plus_plus_weights(activations, gradients), rtol=1e-12, atol=0)


def test_sum_denominator_differs_from_eq9_where_the_gradient_varies(setting) -> None:
    activations, gradients = setting[3][INNER]
    assert not torch.allclose(sum_denominator_weights(activations, gradients),
                              grad_cam_plus_plus_weights(activations, gradients), rtol=1e-3, atol=0)


def test_undivided_is_the_sum_of_cubed_positive_gradients() -> None:
    g = torch.tensor([[[[-1.0, 2.0], [0.5, 0.0]]]])
    assert undivided_weights(torch.ones_like(g), g).item() == pytest.approx(8 + 0.125)


def test_a_vanishing_sum_denominator_gives_zero_alphas_not_nan() -> None:
    """2 g^2 + sum A g^3 = 0 at g = 1, A summing to -2: the alpha is 0, as eq. 9's is at its pole."""
    activations, gradients = torch.tensor([[[[-2.0, 0.0]]]]), torch.tensor([[[[1.0, 0.0]]]])
    assert sum_denominator_weights(activations, gradients).item() == 0


def test_float32_forms_are_evaluated_in_float32_and_returned_in_float64(setting) -> None:
    activations, gradients = setting[3][INNER]
    for candidate in CANDIDATES.values():
        if candidate.float32_weights is not None:
            weights = candidate.float32_weights(activations.float(), gradients.float())
            assert weights.dtype == torch.float64
            torch.testing.assert_close(weights, candidate.weights(activations, gradients), rtol=1e-3, atol=1e-12)


def test_epsilon_candidates_are_named_by_their_epsilon() -> None:
    assert {"eq9_eps1e-6", "eq9_eps1e-7", "eq9_eps1e-8", "sum_denominator_eps1e-7"} <= set(CANDIDATES)
    assert CANDIDATES["eq9_eps1e-6"].label == "eq. 9 + ε=1e-6"
    assert "10^{-6}" in CANDIDATES["eq9_eps1e-6"].formula


def test_reference_formulas_are_candidates_and_is_eq9_knows_eq9() -> None:
    assert set(REFERENCE_FORMULA.values()) <= set(CANDIDATES)
    assert [name for name in CANDIDATES if is_eq9(name)] == ["eq9", "eq9_eps1e-8", "eq9_eps1e-7", "eq9_eps1e-6"]


def test_candidate_table_lists_every_candidate_with_its_formula() -> None:
    table = candidate_table()
    assert list(table.index) == list(CANDIDATES) and table.index.name == "candidate"
    assert table["formula"].str.startswith("$").all() and table.loc["undivided", "label"].startswith("the undivided")
