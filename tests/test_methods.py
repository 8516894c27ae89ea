"""The Grad-CAM family's arithmetic against closed forms, each other and edge cases."""

from __future__ import annotations

import math

import pytest
import torch

from gradcam_study.methods import (
    METHODS,
    PAPER_METHODS,
    alpha_denominator_terms,
    class_activation_map,
    general_base_alphas,
    grad_cam_plus_plus_alphas,
    grad_cam_plus_plus_alphas_divided,
    grad_cam_plus_plus_weights,
    grad_cam_plus_weights,
    grad_cam_weights,
    heatmaps,
    hires_cam,
    layer_cam,
    min_max_normalise,
    normalised_heatmaps,
    upsample,
)


@pytest.fixture
def maps() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    activations = torch.rand(3, 4, 5, 6, generator=generator, dtype=torch.float64) * 2
    gradients = torch.randn(3, 4, 5, 6, generator=generator, dtype=torch.float64) * 0.1
    gradients[0, 0, 0, :3] = 0.0  # some exact zeros, as ReLU networks give
    return activations, gradients


def test_grad_cam_weights_are_spatial_means_of_gradients() -> None:
    gradients = torch.tensor([[[[1.0, -3.0], [2.0, 4.0]]]])
    assert grad_cam_weights(torch.ones_like(gradients), gradients).item() == pytest.approx(1.0)


def test_grad_cam_plus_weights_average_positive_gradients_only() -> None:
    gradients = torch.tensor([[[[1.0, -3.0], [2.0, 4.0]]]])
    assert grad_cam_plus_weights(torch.ones_like(gradients), gradients).item() == pytest.approx(7.0 / 4)


def test_grad_cam_plus_equals_grad_cam_when_every_gradient_is_positive(maps) -> None:
    activations, gradients = maps
    positive = gradients.abs() + 1e-3
    torch.testing.assert_close(grad_cam_plus_weights(activations, positive), grad_cam_weights(activations, positive))
    assert not torch.allclose(grad_cam_plus_weights(activations, gradients), grad_cam_weights(activations, gradients))


def test_alphas_closed_form_on_a_single_map() -> None:
    activations = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)  # sum 10
    gradients = torch.tensor([[[[0.1, -0.1], [0.0, 0.05]]]], dtype=torch.float64)
    expected = torch.tensor([[[[1 / 3.0, 1 / 1.0], [0.0, 1 / 2.5]]]], dtype=torch.float64)
    torch.testing.assert_close(grad_cam_plus_plus_alphas(activations, gradients), expected)
    # eq. (4): only the positive gradients count, each weighted by its alpha.
    assert grad_cam_plus_plus_weights(activations, gradients).item() == pytest.approx(0.1 / 3 + 0.05 / 2.5)


def test_eq9_equals_eq13_wherever_both_are_defined(maps) -> None:
    activations, gradients = maps
    nine = grad_cam_plus_plus_alphas(activations, gradients)
    thirteen = grad_cam_plus_plus_alphas_divided(activations, gradients)
    torch.testing.assert_close(nine, thirteen)
    assert (nine[gradients == 0] == 0).all()


def test_general_base_e_is_eq9_and_other_bases_differ(maps) -> None:
    activations, gradients = maps
    torch.testing.assert_close(general_base_alphas(activations, gradients, math.e), grad_cam_plus_plus_alphas(activations, gradients))
    assert not torch.allclose(general_base_alphas(activations, gradients, 10.0), grad_cam_plus_plus_alphas(activations, gradients))
    with pytest.raises(ValueError, match="base"):
        general_base_alphas(activations, gradients, 1.0)


def test_zero_denominator_gives_zero_alpha_and_finite_weights() -> None:
    # sum A = 4 and g = -0.5: 2 g^2 + 4 g^3 = 0.5 - 0.5 = 0, and 2 + 4 g = 0.
    activations = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    gradients = torch.full((1, 1, 2, 2), -0.5, dtype=torch.float64)
    for alphas in (
        grad_cam_plus_plus_alphas(activations, gradients),
        grad_cam_plus_plus_alphas_divided(activations, gradients),
        general_base_alphas(activations, gradients),
    ):
        assert torch.equal(alphas, torch.zeros_like(alphas))
    assert torch.isfinite(grad_cam_plus_plus_weights(activations, gradients)).all()


def test_all_zero_gradients_give_zero_weights_and_zero_heatmaps() -> None:
    activations = torch.rand(2, 3, 4, 4)
    gradients = torch.zeros_like(activations)
    for method in METHODS:
        heatmaps = normalised_heatmaps(activations, gradients, method)
        assert torch.equal(heatmaps, torch.zeros_like(heatmaps)), method
        assert torch.isfinite(heatmaps).all()


def test_epsilon_is_added_to_the_denominator() -> None:
    activations = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    gradients = torch.full((1, 1, 1, 1), 0.5, dtype=torch.float64)  # g^2 = .25, denominator .5 + .125
    assert grad_cam_plus_plus_alphas(activations, gradients).item() == pytest.approx(0.25 / 0.625)
    assert grad_cam_plus_plus_alphas(activations, gradients, epsilon=0.375).item() == pytest.approx(0.25)


def test_denominator_terms_are_map_sums_times_gradients() -> None:
    activations = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    gradients = torch.tensor([[[[0.1, -0.2], [0.0, 1.0]]]])
    torch.testing.assert_close(alpha_denominator_terms(activations, gradients), 10 * gradients)


def test_heatmap_is_relu_of_weighted_sum() -> None:
    activations = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])  # 1 x 2 x 1 x 2
    weights = torch.tensor([[2.0, -1.0]])
    torch.testing.assert_close(class_activation_map(activations, weights), torch.tensor([[[2.0, 0.0]]]))


def test_min_max_normalisation_per_image_and_constant_maps() -> None:
    heatmaps = torch.stack([torch.tensor([[1.0, 3.0], [2.0, 5.0]]), torch.full((2, 2), 7.0)])
    normalised = min_max_normalise(heatmaps)
    torch.testing.assert_close(normalised[0], torch.tensor([[0.0, 0.5], [0.25, 1.0]]))
    assert torch.equal(normalised[1], torch.zeros(2, 2))


def test_upsample_is_bilinear_and_keeps_the_range() -> None:
    heatmaps = min_max_normalise(torch.rand(2, 7, 7))
    upsampled = upsample(heatmaps, (224, 224))
    assert upsampled.shape == (2, 1, 224, 224)
    assert upsampled.min() >= 0 and upsampled.max() <= 1
    constant = upsample(torch.full((1, 3, 3), 0.5), (9, 9))
    torch.testing.assert_close(constant, torch.full((1, 1, 9, 9), 0.5))


def test_batched_methods_equal_per_image_methods(maps) -> None:
    activations, gradients = maps
    for method in METHODS:
        batched = normalised_heatmaps(activations, gradients, method)
        for i in range(activations.shape[0]):
            single = normalised_heatmaps(activations[i : i + 1], gradients[i : i + 1], method)
            torch.testing.assert_close(batched[i : i + 1], single)


def test_grad_cam_plus_plus_with_half_alphas_is_a_multiple_of_grad_cam_plus(maps) -> None:
    # eq. (14): alpha = 1/2 everywhere makes the weights (Z/2) times Grad-CAM+'s.
    activations, gradients = maps
    zero_sum = torch.zeros_like(activations)  # sum_ab A = 0 makes every defined alpha exactly 1/2
    positive = gradients.clamp(min=0)
    half_weights = (0.5 * positive).sum(dim=(-2, -1))
    area = activations.shape[-1] * activations.shape[-2]
    torch.testing.assert_close(half_weights, area / 2 * grad_cam_plus_weights(zero_sum, gradients))
    torch.testing.assert_close(grad_cam_plus_plus_weights(zero_sum, gradients), half_weights)


def test_alphas_do_not_underflow_for_tiny_float32_gradients() -> None:
    """In float32, g**2 is 0 for |g| = 1e-30; eq. (9) must still give 1 / (2 + sum(A) g), about 1/2, not 0."""
    activations = torch.rand(2, 3, 4, 4) + 0.5
    gradients = torch.full((2, 3, 4, 4), 1e-30)
    gradients[1] = -1e-30
    assert (gradients.pow(2) == 0).all()  # the underflow the formula must survive
    alphas = grad_cam_plus_plus_alphas(activations, gradients)
    assert alphas.dtype == torch.float32
    torch.testing.assert_close(alphas, torch.full_like(alphas, 0.5))
    torch.testing.assert_close(alphas, grad_cam_plus_plus_alphas_divided(activations.double(), gradients.double()).float())
    # So the Grad-CAM++ map keeps its shape where Grad-CAM+'s does: the two normalised maps agree.
    gradients[0, 0] = 3e-30
    torch.testing.assert_close(
        normalised_heatmaps(activations, gradients, "grad_cam_plus_plus")[0],
        normalised_heatmaps(activations, gradients, "grad_cam_plus")[0],
    )
    assert normalised_heatmaps(activations, gradients, "grad_cam_plus_plus")[0].max() == 1


def test_nonzero_alphas_keep_only_units_with_a_gradient(maps) -> None:
    from gradcam_study.methods import nonzero_alphas

    activations, gradients = maps
    found = nonzero_alphas(activations, gradients)
    assert found.units == gradients.numel()
    assert found.alphas.numel() == int((gradients != 0).sum())
    torch.testing.assert_close(found.alphas, 1 / (2 + found.terms))
    torch.testing.assert_close(found.terms, found.activation_sums * found.gradients)


def test_constant_within_maps_tells_a_pooled_layer_from_an_inner_one() -> None:
    from gradcam_study.methods import constant_within_maps, within_map_spread

    per_map = torch.randn(2, 3, 1, 1).expand(2, 3, 4, 4).clone()
    varying = per_map.clone()
    varying[1, 2, 0, 0] += 0.1
    assert constant_within_maps(per_map).tolist() == [True, True]
    assert constant_within_maps(varying).tolist() == [True, False]
    assert within_map_spread(varying)[1].item() == pytest.approx(0.1, rel=1e-5)


def test_pixel_wise_methods_on_a_hand_computed_case() -> None:
    activations = torch.tensor([[[[1.0, 2.0]], [[3.0, 0.0]]]])  # 1 x 2 maps x 1 x 2
    gradients = torch.tensor([[[[1.0, -1.0]], [[-0.5, 2.0]]]])
    # HiResCAM: ReLU([1 * 1 + 3 * -0.5, 2 * -1 + 0 * 2]) = ReLU([-0.5, -2]); LayerCAM: [1 * 1 + 0, 0 + 0].
    torch.testing.assert_close(hires_cam(activations, gradients), torch.tensor([[[0.0, 0.0]]]))
    torch.testing.assert_close(layer_cam(activations, gradients), torch.tensor([[[1.0, 0.0]]]))
    torch.testing.assert_close(heatmaps(activations, gradients, "layer_cam"), layer_cam(activations, gradients))


def test_pixel_wise_methods_reduce_to_grad_cam_and_grad_cam_plus_where_gradients_are_constant_within_maps() -> None:
    generator = torch.Generator().manual_seed(3)
    activations = torch.rand(2, 4, 5, 5, generator=generator, dtype=torch.float64)
    per_map = torch.randn(2, 4, 1, 1, generator=generator, dtype=torch.float64)
    gradients = per_map.expand_as(activations)
    torch.testing.assert_close(normalised_heatmaps(activations, gradients, "hires_cam"),
                               normalised_heatmaps(activations, gradients, "grad_cam"))
    torch.testing.assert_close(normalised_heatmaps(activations, gradients, "layer_cam"),
                               normalised_heatmaps(activations, gradients, "grad_cam_plus"))
    # Gradients that vary within maps break both equalities.
    varying = gradients + 0.5 * torch.randn(2, 4, 5, 5, generator=generator, dtype=torch.float64)
    assert not torch.allclose(normalised_heatmaps(activations, varying, "hires_cam"),
                              normalised_heatmaps(activations, varying, "grad_cam"))


def test_the_study_explains_with_the_paper_methods_then_the_pixel_wise_ones() -> None:
    assert METHODS == (*PAPER_METHODS, "hires_cam", "layer_cam")
    with pytest.raises(ValueError, match="Unknown method 'score_cam'"):
        heatmaps(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2), "score_cam")
