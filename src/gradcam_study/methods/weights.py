"""Channel weights of the Grad-CAM family, as pure functions of ``(A, g)``.

Shapes throughout: activations ``A`` and gradients ``g = dY/dA`` are ``B x K x H x W``
(batch, feature maps, rows, columns); weights are ``B x K``. Equation numbers are
those of Lerma & Lucas (2022), "Grad-CAM++ is Equivalent to Grad-CAM With Positive
Gradients".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

#: The axes of a ``B x K x H x W`` tensor that run over the positions of one feature map (the sums over ``ij``).
SPATIAL_AXES = (-2, -1)


def grad_cam_weights(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""Grad-CAM weights, eq. (1): :math:`w_k = \frac{1}{Z}\sum_{ij} \partial Y / \partial A^k_{ij}`.

    ``activations`` is unused; it is taken so that every method has the same signature.
    """
    del activations
    return gradients.mean(dim=SPATIAL_AXES)


def grad_cam_plus_weights(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""Grad-CAM+ weights, eq. (3): :math:`w_k = \frac{1}{Z}\sum_{ij} \mathrm{ReLU}(\partial Y / \partial A^k_{ij})`."""
    del activations
    return gradients.clamp(min=0).mean(dim=SPATIAL_AXES)


def _activation_sums(activations: Tensor) -> Tensor:
    """``sum_ab A^k_ab`` broadcast back over the spatial grid (``B x K x 1 x 1``)."""
    return activations.sum(dim=SPATIAL_AXES, keepdim=True)


def safe_ratio(numerator: Tensor, denominator: Tensor, defined: Tensor) -> Tensor:
    r"""``numerator / denominator`` where ``defined`` and the denominator is non-zero, else 0 (elementwise,
    broadcast as torch does).

    .. math::
        r = \begin{cases} n / d & \text{defined and } d \ne 0 \\ 0 & \text{otherwise} \end{cases}

    The division happens on a denominator with the undefined entries replaced by 1, so
    neither the value nor its gradient can become NaN or Inf there.

    >>> import torch
    >>> numerator, denominator = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([2.0, 0.0, 4.0])
    >>> safe_ratio(numerator, denominator, torch.tensor([True, True, False])).tolist()   # d = 0; not defined
    [0.5, 0.0, 0.0]
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
    the formula as the paper writes it. The ratio is formed in float64 and returned in the
    gradients' dtype: in float32, :math:`g^2` underflows to 0 for :math:`|g|` below about
    1e-22 (post-softmax gradients of confident predictions), which would set every alpha to 0.

    >>> import torch
    >>> A, g = torch.ones(1, 1, 2, 2), torch.full((1, 1, 2, 2), 1e-30)
    >>> grad_cam_plus_plus_alphas(A, g)[0, 0, 0, 0].item()
    0.5
    """
    activations, gradients, dtype = activations.double(), gradients.double(), gradients.dtype
    squared = gradients.pow(2)
    denominator = 2 * squared + _activation_sums(activations) * squared * gradients + epsilon
    return safe_ratio(squared, denominator, gradients != 0).to(dtype)


def grad_cam_plus_plus_alphas_divided(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""Grad-CAM++ alphas in the divided form, eq. (13): eq. (9) divided by :math:`g_{ij}^2`.

    .. math::
        \alpha^k_{ij} = \frac{1}{2 + \sum_{ab} A^k_{ab}\, g_{ij}}

    :math:`\alpha = 0` where :math:`g = 0` (as eq. (9) gives) and where the denominator is 0.
    """
    denominator = 2 + alpha_denominator_terms(activations, gradients)
    return safe_ratio(torch.ones_like(denominator), denominator, gradients != 0)


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

    ``base = e`` gives eq. (9). :math:`\alpha = 0` where :math:`g = 0` or the denominator is 0. Formed in
    float64, as :func:`grad_cam_plus_plus_alphas`.
    """
    if base <= 0 or base == 1:
        raise ValueError(f"The base must be positive and different from 1, got {base}.")
    activations, gradients, dtype = activations.double(), gradients.double(), gradients.dtype
    squared = gradients.pow(2)
    denominator = 2 * squared + math.log(base) * _activation_sums(activations) * squared * gradients
    return safe_ratio(squared, denominator, gradients != 0).to(dtype)


def grad_cam_plus_plus_weights(activations: Tensor, gradients: Tensor, epsilon: float = 0.0) -> Tensor:
    r"""Grad-CAM++ weights, eq. (4), with the alphas of eq. (9).

    .. math::
        w_k = \sum_{ij} \alpha^k_{ij}\, \mathrm{ReLU}(\partial Y / \partial A^k_{ij})

    ``epsilon`` is passed to :func:`grad_cam_plus_plus_alphas`.
    """
    alphas = grad_cam_plus_plus_alphas(activations, gradients, epsilon)
    return (alphas * gradients.clamp(min=0)).sum(dim=SPATIAL_AXES)


@dataclass(frozen=True)
class NonZeroAlphas:
    r"""The non-zero alphas of eq. (9), flattened, with what each one is made of (float64, same order).

    ``terms`` is eq. (13)'s :math:`t = \sum_{ab} A^k_{ab} g_{ij}`, ``gradients`` the unit's :math:`g_{ij}`
    and ``activation_sums`` its map's :math:`\sum_{ab} A^k_{ab}`; ``units`` counts every unit, zero alphas included.
    """

    alphas: Tensor
    terms: Tensor
    gradients: Tensor
    activation_sums: Tensor
    units: int


def nonzero_alphas(activations: Tensor, gradients: Tensor) -> NonZeroAlphas:
    r"""The non-zero Grad-CAM++ alphas (eq. (9)) of ``activations``/``gradients`` (any leading shape).

    An alpha is 0 exactly where the gradient vanishes (or, in theory, where eq. (9)'s denominator does),
    and then it multiplies :math:`\mathrm{ReLU}(0) = 0`: only the non-zero ones say anything.

    >>> import torch
    >>> found = nonzero_alphas(torch.ones(1, 1, 1, 2), torch.tensor([[[[0.0, 0.5]]]]))
    >>> [round(a, 4) for a in found.alphas.tolist()], found.terms.tolist()   # t = (1 + 1) * 0.5, alpha = 1 / (2 + t)
    ([0.3333], [1.0])
    """
    alphas = grad_cam_plus_plus_alphas(activations, gradients)
    keep = alphas != 0
    sums = _activation_sums(activations).expand_as(activations)
    as_double = lambda values: values[keep].double()  # noqa: E731
    return NonZeroAlphas(
        alphas=as_double(alphas),
        terms=as_double(alpha_denominator_terms(activations, gradients)),
        gradients=as_double(gradients),
        activation_sums=as_double(sums),
        units=alphas.numel(),
    )


#: Relative tolerance of :func:`within_map_spread`'s "constant": the spread of a float32 gradient that
#: is mathematically constant within each map is rounding, far below this share of its largest value.
CONSTANT_WITHIN_MAPS_RTOL = 1e-6


def within_map_spread(gradients: Tensor) -> Tensor:
    """Per image (``B x K x H x W``), the largest spread max - min of the gradient within one feature map."""
    return (gradients.amax(dim=SPATIAL_AXES) - gradients.amin(dim=SPATIAL_AXES)).amax(dim=1)


def constant_within_maps(gradients: Tensor, rtol: float = CONSTANT_WITHIN_MAPS_RTOL) -> Tensor:
    """Per image, whether the gradient is the same at every position of each map (up to ``rtol`` of its largest
    absolute value). True where the layer feeds global average pooling and a linear head: then each map has a
    single alpha, and HiResCAM equals Grad-CAM."""
    largest = gradients.abs().flatten(start_dim=1).amax(dim=1)
    return within_map_spread(gradients) <= rtol * largest
