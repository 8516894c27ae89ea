"""The Grad-CAM family: channel weights as pure functions of ``(A, g)``, and heatmaps.

Every method is a function ``(activations, gradients) -> weights``, so that one
capture (one forward, one backward) serves all of them. Labels for display live in
:mod:`gradcam_study.display`; this package is arithmetic only.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor

from .heatmap import class_activation_map, min_max_normalise, upsample
from .weights import (
    CONSTANT_WITHIN_MAPS_RTOL,
    NonZeroAlphas,
    alpha_denominator_terms,
    constant_within_maps,
    general_base_alphas,
    grad_cam_plus_plus_alphas,
    grad_cam_plus_plus_alphas_divided,
    grad_cam_plus_plus_weights,
    grad_cam_plus_weights,
    grad_cam_weights,
    nonzero_alphas,
    within_map_spread,
)

WeightFunction = Callable[[Tensor, Tensor], Tensor]

#: The three methods compared, by short name, in the paper's order.
METHODS: dict[str, WeightFunction] = {
    "grad_cam": grad_cam_weights,
    "grad_cam_plus": grad_cam_plus_weights,
    "grad_cam_plus_plus": grad_cam_plus_plus_weights,
}


def normalised_heatmaps(activations: Tensor, gradients: Tensor, method: str) -> Tensor:
    """Min-max normalised heatmap (eq. (2)) of ``method`` at feature-map resolution, ``B x H x W``."""
    weights = METHODS[method](activations, gradients)
    return min_max_normalise(class_activation_map(activations, weights))


__all__ = [
    "CONSTANT_WITHIN_MAPS_RTOL",
    "METHODS",
    "NonZeroAlphas",
    "WeightFunction",
    "alpha_denominator_terms",
    "class_activation_map",
    "constant_within_maps",
    "general_base_alphas",
    "grad_cam_plus_plus_alphas",
    "grad_cam_plus_plus_alphas_divided",
    "grad_cam_plus_plus_weights",
    "grad_cam_plus_weights",
    "grad_cam_weights",
    "min_max_normalise",
    "nonzero_alphas",
    "normalised_heatmaps",
    "upsample",
    "within_map_spread",
]
