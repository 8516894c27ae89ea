"""Channel weights of the Grad-CAM family, as pure functions of ``(A, g)``.

Shapes throughout: activations ``A`` and gradients ``g = dY/dA`` are ``B x K x H x W``
(batch, feature maps, rows, columns); weights are ``B x K``. Equation numbers are
those of Lerma & Lucas (2022), "Grad-CAM++ is Equivalent to Grad-CAM With Positive
Gradients".
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_SPATIAL = (-2, -1)


def grad_cam_weights(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""Grad-CAM weights, eq. (1): :math:`w_k = \frac{1}{Z}\sum_{ij} \partial Y / \partial A^k_{ij}`.

    ``activations`` is unused; it is taken so that every method has the same signature.
    """
    del activations
    return gradients.mean(dim=_SPATIAL)


def grad_cam_plus_weights(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""Grad-CAM+ weights, eq. (3): :math:`w_k = \frac{1}{Z}\sum_{ij} \mathrm{ReLU}(\partial Y / \partial A^k_{ij})`."""
    del activations
    return gradients.clamp(min=0).mean(dim=_SPATIAL)


def _activation_sums(activations: Tensor) -> Tensor:
    """``sum_ab A^k_ab`` broadcast back over the spatial grid (``B x K x 1 x 1``)."""
    return activations.sum(dim=_SPATIAL, keepdim=True)


def _safe_ratio(numerator: Tensor, denominator: Tensor, defined: Tensor) -> Tensor:
    """``numerator / denominator`` where ``defined`` and the denominator is non-zero, else 0.

    The division happens on a denominator with the undefined entries replaced by 1, so
    neither the value nor its gradient can become NaN or Inf there.
    """
    defined = defined & (denominator != 0)
    safe_denominator = torch.where(defined, denominator, torch.ones_like(denominator))
    return torch.where(defined, numerator / safe_denominator, torch.zeros_like(numerator))


def grad_cam_plus_plus_alphas(activations: Tensor, gradients: Tensor, epsilon: float = 0.0) -> Tensor:
    r"""Grad-CAM++ alphas in the implementations' form, eq. (9).

    .. math::
        \alpha^k_{ij} = \frac{g_{ij}^2}{2 g_{ij}^2 + \sum_{ab} A^k_{ab}\, g_{ij}^3},
        \qquad g_{ij} = \partial S / \partial A^k_{ij}

    :math:`\alpha = 0` where :math:`g = 0` and where the denominator is 0. ``epsilon`` is
    added to the denominator, as pytorch-grad-cam does (``1e-6`` there); the default 0 is
    the formula as the paper writes it.
    """
    squared = gradients.pow(2)
    denominator = 2 * squared + _activation_sums(activations) * squared * gradients + epsilon
    return _safe_ratio(squared, denominator, gradients != 0)


def grad_cam_plus_plus_alphas_divided(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""Grad-CAM++ alphas in the divided form, eq. (13): eq. (9) divided by :math:`g_{ij}^2`.

    .. math::
        \alpha^k_{ij} = \frac{1}{2 + \sum_{ab} A^k_{ab}\, g_{ij}}

    :math:`\alpha = 0` where :math:`g = 0` (as eq. (9) gives) and where the denominator is 0.
    """
    denominator = 2 + alpha_denominator_terms(activations, gradients)
    return _safe_ratio(torch.ones_like(denominator), denominator, gradients != 0)


def alpha_denominator_terms(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""The second term of eq. (13)'s denominator, :math:`\sum_{ab} A^k_{ab}\, g_{ij}`, per unit.

    Alphas sit near 1/2 when it is small next to 2 (section 3.3) and blow up when it
    is near -2 (section 3.4).
    """
    return _activation_sums(activations) * gradients


def general_base_alphas(activations: Tensor, gradients: Tensor, base: float = math.e) -> Tensor:
    r"""Alphas for a score :math:`Y = a^S` of general base ``a``, eq. (12).

    .. math::
        \alpha^k_{ij} = \frac{g_{ij}^2}{2 g_{ij}^2 + \ln a \sum_{ab} A^k_{ab}\, g_{ij}^3}

    ``base = e`` gives eq. (9). :math:`\alpha = 0` where :math:`g = 0` or the denominator is 0.
    """
    if base <= 0 or base == 1:
        raise ValueError(f"The base must be positive and different from 1, got {base}.")
    squared = gradients.pow(2)
    denominator = 2 * squared + math.log(base) * _activation_sums(activations) * squared * gradients
    return _safe_ratio(squared, denominator, gradients != 0)


def grad_cam_plus_plus_weights(activations: Tensor, gradients: Tensor, epsilon: float = 0.0) -> Tensor:
    r"""Grad-CAM++ weights, eq. (4), with the alphas of eq. (9).

    .. math::
        w_k = \sum_{ij} \alpha^k_{ij}\, \mathrm{ReLU}(\partial Y / \partial A^k_{ij})

    ``epsilon`` is passed to :func:`grad_cam_plus_plus_alphas`.
    """
    alphas = grad_cam_plus_plus_alphas(activations, gradients, epsilon)
    return (alphas * gradients.clamp(min=0)).sum(dim=_SPATIAL)
