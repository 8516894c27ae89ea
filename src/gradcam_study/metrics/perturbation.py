"""Deletion and insertion (Petsiuk et al. 2018, "RISE"), batched, in pixel space.

Pixels are ranked by a method's upsampled heatmap, most salient first. **Deletion** sets the top-ranked
pixels of the image to black, step by step; **insertion** reveals them, step by step, on a blurred copy
of the image. Each gives a curve of the true class's post-softmax probability against the fraction of
pixels deleted or inserted, and its area by the trapezoid rule (deletion: lower is better; insertion:
higher is better). Pixels are in [0, 1] before the model's normalisation, as in eq. (15).

Definitions, chosen to match torchcam's ``DeletionInsertionMetric`` so that the two can be checked against
each other: the mask is shared by the three colour channels; ``steps`` intervals of
``ceil(pixels / steps)`` pixels each (the last one shorter when ``steps`` does not divide the pixel count),
plus both ends, and the area is over the actual fractions; ties (an all-zero heatmap ties every pixel)
are broken by raster order, top-left first, so every heatmap gives a defined ranking and a finite area.
The blur is RISE's Gaussian of kernel 11 and sigma 5, with the border replicated (RISE's code pads with
zeros, which darkens a band along the border; replicating keeps a constant image constant).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

#: Intervals of a deletion or insertion curve (it has ``steps + 1`` points).
DEFAULT_STEPS = 16
#: RISE's blur of the insertion's starting image.
BLUR_KERNEL, BLUR_SIGMA = 11, 5.0

#: ``probability(pixels, labels)``: the post-softmax probability of each label on ``B x 3 x H x W`` pixels in [0, 1].
ProbabilityFunction = Callable[[Tensor, Tensor], Tensor]


def perturbation_counts(pixels: int, steps: int = DEFAULT_STEPS) -> list[int]:
    """How many pixels are deleted (or inserted) at each point of a curve: 0, then every ``ceil(pixels / steps)``,
    then all of them.

    >>> perturbation_counts(10, 4)
    [0, 3, 6, 9, 10]
    """
    if steps < 1:
        raise ValueError(f"The number of deletion/insertion steps must be at least 1, got {steps}.")
    if pixels < 1:
        raise ValueError(f"An image needs at least one pixel, got {pixels}.")
    step = -(-pixels // steps)
    return [*range(0, pixels, step), pixels]


def pixel_ranks(saliency: Tensor) -> Tensor:
    """Each pixel's rank in its map (0 = most salient), for maps ``... x H x W``; ties in raster order.

    >>> pixel_ranks(torch.tensor([[[0.2, 0.9], [0.2, 0.0]]])).tolist()
    [[[1, 0], [2, 3]]]
    >>> pixel_ranks(torch.zeros(1, 2, 2)).tolist()        # every pixel tied: raster order
    [[[0, 1], [2, 3]]]
    """
    flat = saliency.flatten(start_dim=-2)
    order = torch.argsort(flat, dim=-1, descending=True, stable=True)
    positions = torch.arange(flat.shape[-1], device=flat.device).expand_as(order)
    return torch.empty_like(order).scatter_(-1, order, positions).view(saliency.shape)


def blurred(pixels: Tensor) -> Tensor:
    """The insertion's starting image: RISE's Gaussian blur of ``B x C x H x W`` pixels, border replicated.

    >>> constant = torch.full((1, 3, 4, 5), 0.25)
    >>> torch.allclose(blurred(constant), constant)      # a constant image stays constant
    True
    """
    offsets = torch.arange(BLUR_KERNEL, dtype=pixels.dtype, device=pixels.device) - BLUR_KERNEL // 2
    weights = torch.exp(-0.5 * (offsets / BLUR_SIGMA) ** 2)
    weights = weights / weights.sum()
    channels = pixels.shape[1]
    padded = F.pad(pixels, [BLUR_KERNEL // 2] * 4, mode="replicate")
    # Separable: a row pass, then a column pass, each channel on its own.
    rows = F.conv2d(padded, weights.view(1, 1, 1, -1).expand(channels, 1, 1, BLUR_KERNEL), groups=channels)
    return F.conv2d(rows, weights.view(1, 1, -1, 1).expand(channels, 1, BLUR_KERNEL, 1), groups=channels)


@dataclass(frozen=True)
class DeletionInsertion:
    """Curves of ``B`` images for ``M`` heatmaps each: ``deletion`` and ``insertion`` are ``B x M x P`` probabilities
    at the ``P`` ``fractions`` of pixels deleted / inserted."""

    fractions: Tensor
    deletion: Tensor
    insertion: Tensor

    @property
    def deletion_auc(self) -> Tensor:
        """Area under each deletion curve, ``B x M`` (lower is better)."""
        return torch.trapezoid(self.deletion, self.fractions, dim=-1)

    @property
    def insertion_auc(self) -> Tensor:
        """Area under each insertion curve, ``B x M`` (higher is better)."""
        return torch.trapezoid(self.insertion, self.fractions, dim=-1)


def _first_equal(maps: Tensor, index: int) -> int:
    """The first of ``maps`` (``M x ...``) exactly equal to ``maps[index]``: ``index`` itself when none before is."""
    return next(m for m in range(index + 1) if torch.equal(maps[m], maps[index]))


@torch.no_grad()
def deletion_insertion(
    probability: ProbabilityFunction,
    pixels: Tensor,
    saliency: Tensor,
    labels: Tensor,
    steps: int = DEFAULT_STEPS,
    batch_size: int = 32,
) -> DeletionInsertion:
    r"""Deletion and insertion curves of ``B`` images (``pixels``, ``B x 3 x H x W`` in [0, 1]) for ``M`` heatmaps
    each (``saliency``, ``B x M x H x W``, upsampled to the image), towards ``labels``.

    The points every heatmap of an image shares are evaluated once per image: the image itself (deletion's
    start, insertion's end), the black image (deletion's end) and the blurred one (insertion's start). The
    other :math:`2 (P - 2)` inputs per heatmap are built and evaluated ``batch_size`` at a time, once per
    distinct ranking: heatmaps of an image that rank its pixels in the same order share their curves.

    >>> probability = lambda x, y: x.mean(dim=(1, 2, 3))            # a "classifier": mean brightness
    >>> curves = deletion_insertion(probability, torch.ones(1, 3, 2, 2), torch.rand(1, 1, 2, 2), torch.zeros(1), 4)
    >>> curves.deletion.tolist(), round(curves.deletion_auc.item(), 6)
    ([[[1.0, 0.75, 0.5, 0.25, 0.0]]], 0.5)
    """
    if saliency.dim() != 4 or saliency.shape[0] != pixels.shape[0] or saliency.shape[-2:] != pixels.shape[-2:]:
        raise ValueError(f"Saliency maps must be B x M x H x W matching the pixels {tuple(pixels.shape)}, "
                         f"got {tuple(saliency.shape)}.")
    count, maps = saliency.shape[:2]
    height, width = pixels.shape[-2:]
    counts = perturbation_counts(height * width, steps)
    points = len(counts)
    ranks = pixel_ranks(saliency).view(count, maps, 1, height, width)
    base = blurred(pixels)
    shared = probability(torch.cat([pixels, torch.zeros_like(pixels), base]), labels.repeat(3)).view(3, count)
    deletion = torch.empty(count, maps, points, device=pixels.device)
    insertion = torch.empty_like(deletion)
    deletion[..., 0] = insertion[..., -1] = shared[0].unsqueeze(1)
    deletion[..., -1] = shared[1].unsqueeze(1)
    insertion[..., 0] = shared[2].unsqueeze(1)
    # One job per perturbed input: (image, heatmap, point, insertion?). The curves depend on a heatmap only through
    # its ranking, so a heatmap that ranks the pixels as an earlier one of the same image does (HiResCAM and
    # Grad-CAM where the gradient is constant within maps, up to rounding) shares its curves.
    same_as = [[_first_equal(ranks[b], m) for m in range(maps)] for b in range(count)]
    jobs = [(b, m, p, inserting) for b in range(count) for m in range(maps) if same_as[b][m] == m
            for p in range(1, points - 1) for inserting in (False, True)]
    for start in range(0, len(jobs), batch_size):
        chunk = torch.tensor(jobs[start:start + batch_size], device=pixels.device)
        image, heatmap, point, inserting = chunk.unbind(dim=1)
        limits = torch.tensor(counts, device=pixels.device)[point].view(-1, 1, 1, 1)
        revealed = ranks[image, heatmap] < limits  # the top-ranked pixels, deleted or inserted
        originals = pixels[image]
        inputs = torch.where(
            inserting.view(-1, 1, 1, 1).bool(),
            torch.where(revealed, originals, base[image]),
            torch.where(revealed, torch.zeros_like(originals), originals),
        )
        scores = probability(inputs, labels[image]).to(deletion.dtype)
        deleting = ~inserting.bool()
        deletion[image[deleting], heatmap[deleting], point[deleting]] = scores[deleting]
        insertion[image[~deleting], heatmap[~deleting], point[~deleting]] = scores[~deleting]
    for b in range(count):
        for m, original in enumerate(same_as[b]):
            deletion[b, m], insertion[b, m] = deletion[b, original], insertion[b, original]
    fractions = torch.tensor(counts, dtype=deletion.dtype, device=pixels.device) / (height * width)
    return DeletionInsertion(fractions=fractions, deletion=deletion, insertion=insertion)
