"""Deletion and insertion: counts, ranking, blur, curves and areas on hand-computed cases, and bad input."""

from __future__ import annotations

import pytest
import torch

from gradcam_study.metrics import DEFAULT_STEPS, blurred, deletion_insertion, perturbation_counts, pixel_ranks


def brightness(pixels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """A "classifier" whose probability is the mean brightness: each deleted white pixel lowers it by 1/pixels."""
    return pixels.mean(dim=(1, 2, 3))


def test_counts_match_torchcams_rule() -> None:
    assert perturbation_counts(224 * 224, DEFAULT_STEPS) == [3136 * k for k in range(17)]
    assert perturbation_counts(10, 3) == [0, 4, 8, 10]  # ceil(10 / 3) = 4, the last interval shorter
    assert perturbation_counts(3, 8) == [0, 1, 2, 3]  # more steps than pixels: one pixel per step


@pytest.mark.parametrize("steps", [0, -2])
def test_fewer_than_one_step_is_a_clear_error(steps: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        perturbation_counts(100, steps)
    with pytest.raises(ValueError, match="at least 1"):
        deletion_insertion(brightness, torch.ones(1, 3, 2, 2), torch.rand(1, 1, 2, 2), torch.zeros(1), steps)


def test_ranks_put_the_most_salient_first_and_break_ties_in_raster_order() -> None:
    saliency = torch.tensor([[[0.5, 0.9, 0.5], [0.1, 0.9, 0.0]]])
    assert pixel_ranks(saliency).tolist() == [[[2, 0, 3], [4, 1, 5]]]


def test_deletion_and_insertion_on_a_hand_computed_case() -> None:
    # A white 2 x 2 image: deleting k pixels leaves brightness 1 - k/4; the blur of a constant image is itself,
    # so insertion stays at 1 whatever is revealed.
    curves = deletion_insertion(brightness, torch.ones(1, 3, 2, 2), torch.rand(1, 2, 2, 2), torch.zeros(1), steps=4)
    torch.testing.assert_close(curves.fractions, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    torch.testing.assert_close(curves.deletion, torch.tensor([[[1.0, 0.75, 0.5, 0.25, 0.0]] * 2]))
    torch.testing.assert_close(curves.deletion_auc, torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(curves.insertion_auc, torch.tensor([[1.0, 1.0]]))


def test_the_ranking_decides_the_curves() -> None:
    # The probability is the top-left pixel's brightness: deleted first by a map that ranks it first (area
    # 1/2 of the first interval), last by one that ranks it last (1 until the end).
    def top_left(pixels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return pixels[:, 0, 0, 0]

    first = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    last = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    curves = deletion_insertion(top_left, torch.ones(1, 3, 2, 2), torch.stack([first, last]).unsqueeze(0),
                                torch.zeros(1), steps=4)
    torch.testing.assert_close(curves.deletion[0, 0], torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0]))
    torch.testing.assert_close(curves.deletion[0, 1], torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0]))
    torch.testing.assert_close(curves.deletion_auc[0], torch.tensor([0.125, 0.875]))


def test_an_all_zero_heatmap_gets_raster_order_and_a_finite_area() -> None:
    pixels = torch.rand(2, 3, 6, 5, generator=torch.Generator().manual_seed(0))
    curves = deletion_insertion(brightness, pixels, torch.zeros(2, 1, 6, 5), torch.zeros(2), steps=3)
    assert torch.isfinite(curves.deletion_auc).all() and torch.isfinite(curves.insertion_auc).all()
    # Raster order: the first third deleted is the first two rows.
    expected = pixels.clone()
    expected[:, :, :2] = 0
    torch.testing.assert_close(curves.deletion[:, 0, 1], brightness(expected, torch.zeros(2)))


def test_a_constant_image_gives_flat_finite_insertion_curves() -> None:
    pixels = torch.full((1, 3, 8, 8), 0.3)
    curves = deletion_insertion(brightness, pixels, torch.rand(1, 3, 8, 8), torch.zeros(1), steps=4)
    torch.testing.assert_close(curves.insertion, torch.full((1, 3, 5), 0.3))
    assert torch.isfinite(curves.deletion_auc).all()


def test_heatmaps_with_the_same_ranking_are_evaluated_once() -> None:
    calls: list[int] = []

    def counting(pixels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        calls.append(len(pixels))
        return brightness(pixels, labels)

    saliency = torch.rand(1, 1, 4, 4).expand(1, 3, 4, 4).clone()
    saliency[0, 1] = 2 * saliency[0, 1] + 1  # another heatmap, the same ranking
    saliency[0, 2] = torch.rand(4, 4)
    curves = deletion_insertion(counting, torch.rand(1, 3, 4, 4), saliency, torch.zeros(1), steps=4, batch_size=100)
    # 3 shared inputs, then 2 curves x 3 inner points for each of the 2 distinct maps.
    assert sum(calls) == 3 + 2 * 2 * 3
    torch.testing.assert_close(curves.deletion[0, 0], curves.deletion[0, 1])


def test_batches_of_images_and_chunks_give_the_same_curves() -> None:
    generator = torch.Generator().manual_seed(1)
    pixels, saliency = torch.rand(3, 3, 5, 5, generator=generator), torch.rand(3, 2, 5, 5, generator=generator)
    together = deletion_insertion(brightness, pixels, saliency, torch.zeros(3), steps=5, batch_size=7)
    for b in range(3):
        alone = deletion_insertion(brightness, pixels[b:b + 1], saliency[b:b + 1], torch.zeros(1), steps=5)
        torch.testing.assert_close(together.deletion[b], alone.deletion[0])
        torch.testing.assert_close(together.insertion[b], alone.insertion[0])


def test_blur_is_a_normalised_gaussian_that_spreads_a_point() -> None:
    point = torch.zeros(1, 1, 21, 21)
    point[0, 0, 10, 10] = 1.0
    spread = blurred(point)
    assert spread.sum().item() == pytest.approx(1.0)
    assert spread[0, 0, 10, 10] == spread.max() and spread[0, 0, 10, 5] > 0 and spread[0, 0, 10, 4] == 0  # kernel 11: 5 either side


def test_bad_saliency_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="B x M x H x W"):
        deletion_insertion(brightness, torch.ones(1, 3, 4, 4), torch.rand(1, 4, 4), torch.zeros(1))
