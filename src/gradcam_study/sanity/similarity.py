"""How alike two batches of heatmaps are, image by image: Spearman rank correlation and SSIM (Adebayo et al. 2018).

Both are batched torch functions of two ``B x H x W`` batches returning one value per image. Spearman's rho is the
Pearson correlation of average ranks (ties share their mean rank, as :func:`scipy.stats.spearmanr`); it is NaN where
a map is constant (no ranking). SSIM is scikit-image's ``structural_similarity`` with its defaults (a 7 x 7 uniform
window, ``K1 = 0.01``, ``K2 = 0.03``, sample covariances, the mean over the window positions that fit), computed
for a whole batch at once; ``tests/test_similarity.py`` checks it against scikit-image.

>>> import torch
>>> a = torch.tensor([[[0.0, 1.0], [2.0, 3.0]]])
>>> [round(v, 6) for v in (*spearman_per_image(a, a ** 3).tolist(), *spearman_per_image(a, -a).tolist())]
[1.0, -1.0]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: scikit-image's defaults of ``structural_similarity``.
SSIM_WINDOW = 7
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def average_ranks(values: Tensor) -> Tensor:
    """Ranks (1 to N) of each row of ``B x N`` ``values``; tied values share the mean of their ranks.

    >>> average_ranks(torch.tensor([[10.0, 30.0, 20.0, 30.0]])).tolist()
    [[1.0, 3.5, 2.0, 3.5]]
    """
    ordered, order = values.sort(dim=1)
    count = values.shape[1]
    positions = torch.arange(count, device=values.device).expand_as(ordered)
    # Each run of equal values spans [first, last]; its members get (first + last) / 2 + 1.
    starts = torch.ones_like(ordered, dtype=torch.bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = torch.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    first = torch.where(starts, positions, torch.zeros_like(positions)).cummax(dim=1).values
    last = torch.where(ends, positions, torch.full_like(positions, count - 1)).flip(1).cummin(dim=1).values.flip(1)
    mean_rank = (first + last).float() / 2 + 1
    return torch.empty_like(mean_rank).scatter_(1, order, mean_rank)


def unit_ranks(maps: Tensor, absolute: bool = False) -> Tensor:
    """The average ranks of each map of a ``B x ...`` batch (of its absolute values when ``absolute``), centred and
    scaled to unit norm, ``B x N``: the dot product of two such rows is Spearman's rho (NaN where a map is constant).
    Computed once, a reference batch's serves every comparison with it."""
    values = maps.flatten(start_dim=1)
    ranks = average_ranks(values.abs() if absolute else values)
    ranks = ranks - ranks.mean(dim=1, keepdim=True)
    # A constant map has all ranks equal: 0 / 0, NaN, which the summaries count as undefined.
    return ranks / ranks.norm(dim=1, keepdim=True)


def spearman_per_image(maps_a: Tensor, maps_b: Tensor, absolute: bool = False) -> Tensor:
    r"""Spearman's rank correlation of corresponding maps of two ``B x ...`` batches, one value per image:
    :math:`\rho = \mathrm{corr}(\mathrm{rank}\, a, \mathrm{rank}\, b)`, of :math:`|a|` and :math:`|b|` when
    ``absolute`` (Adebayo et al. report both). NaN where a map is constant.

    >>> import torch
    >>> a = torch.tensor([[1.0, -3.0, 2.0]]); b = torch.tensor([[1.0, 3.0, 2.0]])
    >>> round(spearman_per_image(a, b).item(), 6), round(spearman_per_image(a, b, absolute=True).item(), 6)
    (-0.5, 1.0)
    """
    if maps_a.flatten(start_dim=1).shape != maps_b.flatten(start_dim=1).shape:
        raise ValueError(f"The two batches of maps differ in shape: {tuple(maps_a.shape)} and {tuple(maps_b.shape)}.")
    return (unit_ranks(maps_a, absolute) * unit_ranks(maps_b, absolute)).sum(dim=1)


def ssim_per_image(maps_a: Tensor, maps_b: Tensor, data_range: float = 1.0) -> Tensor:
    r"""The structural similarity of corresponding ``B x H x W`` maps, one value per image (scikit-image's
    ``structural_similarity(a, b, data_range=data_range)`` for each pair):

    .. math:: \mathrm{SSIM} = \mathrm{mean}\,\frac{(2\mu_a\mu_b + C_1)(2\sigma_{ab} + C_2)}
              {(\mu_a^2 + \mu_b^2 + C_1)(\sigma_a^2 + \sigma_b^2 + C_2)},\quad C_i = (K_i\, L)^2

    with local means and (sample) covariances over a 7 x 7 window, averaged over the window positions inside the
    map. Maps must be at least 7 x 7.

    >>> import torch
    >>> a = torch.rand(2, 8, 8)
    >>> [round(v, 6) for v in ssim_per_image(a, a).tolist()]
    [1.0, 1.0]
    """
    if maps_a.shape != maps_b.shape or maps_a.dim() != 3:
        raise ValueError(f"SSIM compares two B x H x W batches of the same shape, got {tuple(maps_a.shape)} and "
                         f"{tuple(maps_b.shape)}.")
    if min(maps_a.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs maps of at least {SSIM_WINDOW} x {SSIM_WINDOW} pixels, "
                         f"got {tuple(maps_a.shape[-2:])}.")
    a, b = maps_a.float().unsqueeze(1), maps_b.float().unsqueeze(1)
    window = SSIM_WINDOW

    def local_mean(x: Tensor) -> Tensor:
        # A separable uniform window over the positions where it fits (scikit-image crops the rest).
        return F.avg_pool2d(F.avg_pool2d(x, (window, 1), stride=1), (1, window), stride=1)

    samples = window * window
    unbiased = samples / (samples - 1)
    mean_a, mean_b = local_mean(a), local_mean(b)
    var_a = unbiased * (local_mean(a * a) - mean_a * mean_a)
    var_b = unbiased * (local_mean(b * b) - mean_b * mean_b)
    covariance = unbiased * (local_mean(a * b) - mean_a * mean_b)
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    index = ((2 * mean_a * mean_b + c1) * (2 * covariance + c2)) / (
        (mean_a * mean_a + mean_b * mean_b + c1) * (var_a + var_b + c2)
    )
    return index.flatten(start_dim=1).mean(dim=1).float()


__all__ = ["SSIM_K1", "SSIM_K2", "SSIM_WINDOW", "average_ranks", "spearman_per_image", "ssim_per_image", "unit_ranks"]
