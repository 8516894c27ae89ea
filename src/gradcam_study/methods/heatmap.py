"""From channel weights to heatmaps: eq. (2), min-max normalisation and upsampling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def class_activation_map(activations: Tensor, weights: Tensor) -> Tensor:
    r"""The heatmap of eq. (2), :math:`L = \mathrm{ReLU}(\sum_k w_k A^k)`, at feature-map resolution.

    ``activations`` is ``B x K x H x W`` and ``weights`` ``B x K``; returns ``B x H x W``.
    """
    return torch.einsum("bk,bkhw->bhw", weights, activations).clamp(min=0)


def min_max_normalise(heatmaps: Tensor) -> Tensor:
    """Scale each map of ``B x ...`` to [0, 1] on its own; a constant map becomes all zeros, never NaN."""
    flat = heatmaps.flatten(start_dim=1)
    low = flat.min(dim=1, keepdim=True).values
    span = flat.max(dim=1, keepdim=True).values - low
    # A constant map carries no localisation: zeros, so that its explanation map is black.
    safe_span = torch.where(span > 0, span, torch.ones_like(span))
    scaled = torch.where(span > 0, (flat - low) / safe_span, torch.zeros_like(flat))
    return scaled.view_as(heatmaps)


def upsample(heatmaps: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear upsampling of ``B x H x W`` maps to ``B x 1 x size``, ready to multiply a ``B x 3 x size`` image."""
    return F.interpolate(heatmaps.unsqueeze(1), size=size, mode="bilinear", align_corners=False)
