"""The Grad-CAM family: channel weights as pure functions of ``(A, g)``, and heatmaps.

Every method is a function ``(activations, gradients) -> weights``, so that one
capture (one forward, one backward) serves all of them.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor

from .heatmap import class_activation_map, min_max_normalise, upsample
from .weights import (
    alpha_denominator_terms,
    general_base_alphas,
    grad_cam_plus_plus_alphas,
    grad_cam_plus_plus_alphas_divided,
    grad_cam_plus_plus_weights,
    grad_cam_plus_weights,
    grad_cam_weights,
)

WeightFunction = Callable[[Tensor, Tensor], Tensor]

#: The three methods compared, by short name, in the paper's order.
METHODS: dict[str, WeightFunction] = {
    "grad_cam": grad_cam_weights,
    "grad_cam_plus": grad_cam_plus_weights,
    "grad_cam_plus_plus": grad_cam_plus_plus_weights,
}

#: How the book and the tables print each method.
METHOD_LABELS: dict[str, str] = {
    "grad_cam": "Grad-CAM",
    "grad_cam_plus": "Grad-CAM+",
    "grad_cam_plus_plus": "Grad-CAM++",
}

#: The pairs of Table 1 and Table 2, "first vs second".
METHOD_PAIRS: tuple[tuple[str, str], ...] = (
    ("grad_cam_plus_plus", "grad_cam"),
    ("grad_cam_plus", "grad_cam"),
    ("grad_cam_plus_plus", "grad_cam_plus"),
)


def pair_label(first: str, second: str) -> str:
    """``"Grad-CAM++ vs Grad-CAM"`` for ``("grad_cam_plus_plus", "grad_cam")``."""
    return f"{METHOD_LABELS[first]} vs {METHOD_LABELS[second]}"


def normalised_heatmaps(activations: Tensor, gradients: Tensor, method: str) -> Tensor:
    """Min-max normalised heatmap (eq. (2)) of ``method`` at feature-map resolution, ``B x H x W``."""
    weights = METHODS[method](activations, gradients)
    return min_max_normalise(class_activation_map(activations, weights))


__all__ = [
    "METHODS",
    "METHOD_LABELS",
    "METHOD_PAIRS",
    "WeightFunction",
    "alpha_denominator_terms",
    "class_activation_map",
    "general_base_alphas",
    "grad_cam_plus_plus_alphas",
    "grad_cam_plus_plus_alphas_divided",
    "grad_cam_plus_plus_weights",
    "grad_cam_plus_weights",
    "grad_cam_weights",
    "min_max_normalise",
    "normalised_heatmaps",
    "pair_label",
    "upsample",
]
