"""Spearman and SSIM per image, on hand-made maps and against SciPy and scikit-image."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gradcam_study.sanity.similarity import average_ranks, spearman_per_image, ssim_per_image


def test_average_ranks_match_scipy_with_ties() -> None:
    values = torch.tensor([[3.0, 1.0, 3.0, 0.0, 1.0, 1.0], [5.0, 5.0, 5.0, 5.0, 5.0, 2.0]])
    expected = np.stack([stats.rankdata(row) for row in values.numpy()])
    assert np.array_equal(average_ranks(values).numpy(), expected)


def test_spearman_on_hand_made_maps() -> None:
    a = torch.arange(16.0).view(1, 4, 4)
    assert spearman_per_image(a, a.exp()).item() == pytest.approx(1.0)
    assert spearman_per_image(a, -a).item() == pytest.approx(-1.0)
    signed = a - 7.5
    # The absolute values of a symmetric ramp fold it: rank correlation with |ramp| differs from the signed one.
    assert spearman_per_image(signed, signed.abs()).item() < 0.1
    assert spearman_per_image(signed, -signed, absolute=True).item() == pytest.approx(1.0)


def test_spearman_matches_scipy_image_by_image() -> None:
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(4, 9, 9, generator=generator)
    b = a + torch.randn(4, 9, 9, generator=generator)
    b[1] = b[1].round()  # ties
    for absolute in (False, True):
        found = spearman_per_image(a, b, absolute=absolute)
        transform = np.abs if absolute else (lambda x: x)
        for i in range(4):
            expected = stats.spearmanr(transform(a[i].flatten().numpy()), transform(b[i].flatten().numpy())).statistic
            assert found[i].item() == pytest.approx(expected, abs=1e-5)


def test_a_constant_map_has_no_rank_correlation() -> None:
    found = spearman_per_image(torch.zeros(1, 3, 3), torch.rand(1, 3, 3))
    assert math.isnan(found.item())


def test_mismatched_batches_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        spearman_per_image(torch.rand(2, 3, 3), torch.rand(2, 4, 4))
    with pytest.raises(ValueError, match="same shape"):
        ssim_per_image(torch.rand(2, 8, 8), torch.rand(1, 8, 8))
    with pytest.raises(ValueError, match="at least 7"):
        ssim_per_image(torch.rand(1, 5, 5), torch.rand(1, 5, 5))


def test_ssim_of_hand_made_maps() -> None:
    a = torch.rand(2, 16, 16, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ssim_per_image(a, a), torch.ones(2), atol=1e-6)
    # An inverted map is structurally opposite: SSIM well below 0.
    assert (ssim_per_image(a, 1 - a) < 0).all()


def test_ssim_matches_scikit_image() -> None:
    metrics = pytest.importorskip("skimage.metrics")
    generator = torch.Generator().manual_seed(2)
    a = torch.rand(3, 20, 24, generator=generator)
    b = (a + 0.3 * torch.rand(3, 20, 24, generator=generator)).clamp(0, 1)
    b[2] = torch.zeros(20, 24)
    found = ssim_per_image(a, b)
    for i in range(3):
        expected = metrics.structural_similarity(a[i].double().numpy(), b[i].double().numpy(), data_range=1.0)
        assert found[i].item() == pytest.approx(expected, abs=1e-5)
