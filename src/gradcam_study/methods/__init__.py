"""The Grad-CAM family and two pixel-wise weightings, as pure functions of ``(A, g)``, and heatmaps.

The paper's three methods are functions ``(activations, gradients) -> weights`` (one weight per map);
HiResCAM and LayerCAM weight every unit and are functions ``(activations, gradients) -> heatmap``. One
capture (one forward, one backward) serves all five; :mod:`.pairs` names the pairs the study compares. Labels
for display live in :mod:`gradcam_study.presentation`; this package is arithmetic only.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor

from .pairs import METHOD_PAIRS, PAPER_PAIR_IDS, PIXEL_WISE_PAIRS, PLUS_PAIR, PLUS_PAIR_ID, pair_id, pair_methods
from .heatmap import class_activation_map, min_max_normalise, upsample
from .pixelwise import hires_cam, layer_cam
from .weights import (
    CONSTANT_WITHIN_MAPS_RTOL,
    SPATIAL_AXES,
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
    safe_ratio,
    within_map_spread,
)

WeightFunction = Callable[[Tensor, Tensor], Tensor]
HeatmapFunction = Callable[[Tensor, Tensor], Tensor]

#: The three methods the paper compares, by short name, in its order: one weight per feature map.
CHANNEL_WEIGHTS: dict[str, WeightFunction] = {
    "grad_cam": grad_cam_weights,
    "grad_cam_plus": grad_cam_plus_weights,
    "grad_cam_plus_plus": grad_cam_plus_plus_weights,
}

#: The pixel-wise weightings of the literature: a weight per unit, the heatmap directly.
PIXEL_WISE: dict[str, HeatmapFunction] = {"hires_cam": hires_cam, "layer_cam": layer_cam}

#: The paper's methods, then the pixel-wise ones: every method the study explains with.
PAPER_METHODS: tuple[str, ...] = tuple(CHANNEL_WEIGHTS)
METHODS: tuple[str, ...] = (*PAPER_METHODS, *PIXEL_WISE)


def heatmaps(activations: Tensor, gradients: Tensor, method: str) -> Tensor:
    """The heatmap of ``method`` (any of :data:`METHODS`) at feature-map resolution, ``B x H x W``, before
    normalisation: eq. (2) with the method's weights, or the pixel-wise map itself."""
    if method in CHANNEL_WEIGHTS:
        return class_activation_map(activations, CHANNEL_WEIGHTS[method](activations, gradients))
    if method in PIXEL_WISE:
        return PIXEL_WISE[method](activations, gradients)
    raise ValueError(f"Unknown method {method!r}; known: {', '.join(METHODS)}.")


def normalised_heatmaps(activations: Tensor, gradients: Tensor, method: str) -> Tensor:
    """Min-max normalised heatmap of ``method`` at feature-map resolution, ``B x H x W``."""
    return min_max_normalise(heatmaps(activations, gradients, method))


__all__ = [
    "CHANNEL_WEIGHTS",
    "METHOD_PAIRS",
    "PAPER_PAIR_IDS",
    "PIXEL_WISE_PAIRS",
    "PLUS_PAIR",
    "PLUS_PAIR_ID",
    "pair_id",
    "pair_methods",
    "CONSTANT_WITHIN_MAPS_RTOL",
    "SPATIAL_AXES",
    "safe_ratio",
    "HeatmapFunction",
    "METHODS",
    "PAPER_METHODS",
    "PIXEL_WISE",
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
    "heatmaps",
    "hires_cam",
    "layer_cam",
    "min_max_normalise",
    "nonzero_alphas",
    "normalised_heatmaps",
    "upsample",
    "within_map_spread",
]
