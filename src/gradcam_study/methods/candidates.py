r"""Formula candidates that vary Grad-CAM++'s eq. (9): what a library's Grad-CAM++ may compute instead.

Each candidate is a pure function of ``(A, g)`` (``B x K x H x W``) giving channel weights ``B x K``, formed in
float64. With :math:`g_{ij} = \partial Y / \partial A^k_{ij}` and :math:`w_k = \sum_{ij} \alpha^k_{ij}\,
\mathrm{ReLU}(g_{ij})` for the Grad-CAM++ variants (:data:`CANDIDATES`):

* eq. (9): :math:`\alpha_{ij} = g_{ij}^2 / (2 g_{ij}^2 + \sum_{ab} A_{ab}\, g_{ij}^3)`, and the same with an
  :math:`\epsilon` added to the denominator (:math:`10^{-8}, 10^{-7}, 10^{-6}`);
* the "sum" denominator: :math:`\alpha_{ij} = g_{ij}^2 / (2 g_{ij}^2 + \sum_{ab} A_{ab}\, g_{ab}^3)` (the cube of
  the gradient inside the sum), with and without :math:`\epsilon`;
* the squared gradients left undivided: :math:`\alpha_{ij} = g_{ij}^2`, i.e. :math:`w_k = \sum_{ij} \mathrm{ReLU}(g_{ij})^3`;
* Grad-CAM, eq. (1), :math:`w_k = \frac{1}{Z}\sum_{ij} g_{ij}`, and Grad-CAM+, eq. (3),
  :math:`w_k = \frac{1}{Z}\sum_{ij}\mathrm{ReLU}(g_{ij})`.

Where the gradient is constant within each map (a layer that feeds global average pooling and a linear head),
eq. (9) and the "sum" denominator coincide exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import pandas as pd
import torch
from torch import Tensor

from .weights import (
    SPATIAL_AXES,
    grad_cam_plus_plus_weights,
    grad_cam_plus_weights,
    grad_cam_weights,
    safe_ratio,
)


def sum_denominator_weights(
    activations: Tensor, gradients: Tensor, epsilon: float = 0.0, dtype: torch.dtype = torch.float64
) -> Tensor:
    r"""Grad-CAM++ weights with the cube of the gradient inside the denominator's sum, formed in ``dtype``
    (float32 reproduces a float32 library's rounding), returned in float64.

    .. math::
        w_k = \sum_{ij} \frac{g_{ij}^2}{2 g_{ij}^2 + \sum_{ab} A^k_{ab}\, g_{ab}^3 + \epsilon}\,\mathrm{ReLU}(g_{ij})

    (eq. (9) has :math:`(\sum_{ab} A^k_{ab})\, g_{ij}^3` instead; the two coincide where :math:`g` is constant
    within the map). :math:`\alpha = 0` where :math:`g = 0` or the denominator vanishes.

    >>> import torch
    >>> A, g = torch.ones(1, 1, 1, 2), torch.tensor([[[[1.0, 0.0]]]])   # sum_ab A g^3 = 1: alpha = 1 / (2 + 1)
    >>> round(sum_denominator_weights(A, g).item(), 4)
    0.3333
    """
    activations, gradients = activations.to(dtype), gradients.to(dtype)
    squared = gradients.pow(2)
    denominator = 2 * squared + (activations * gradients.pow(3)).sum(dim=SPATIAL_AXES, keepdim=True) + epsilon
    alphas = safe_ratio(squared, denominator, gradients != 0)
    return (alphas * gradients.clamp(min=0)).sum(dim=SPATIAL_AXES).double()


def undivided_weights(activations: Tensor, gradients: Tensor, dtype: torch.dtype = torch.float64) -> Tensor:
    r"""Grad-CAM++ weights whose "alphas" are the squared gradients, never divided (formed in ``dtype``, returned
    in float64).

    .. math::
        w_k = \sum_{ij} g_{ij}^2\,\mathrm{ReLU}(g_{ij}) = \sum_{ij} \mathrm{ReLU}(g_{ij})^3

    >>> import torch
    >>> undivided_weights(torch.ones(1, 1, 1, 2), torch.tensor([[[[2.0, -1.0]]]])).item()
    8.0
    """
    del activations
    return gradients.to(dtype).clamp(min=0).pow(3).sum(dim=SPATIAL_AXES).double()


def _eq9(activations: Tensor, gradients: Tensor, epsilon: float = 0.0) -> Tensor:
    return grad_cam_plus_plus_weights(activations.double(), gradients.double(), epsilon)


def _double(function: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    return lambda activations, gradients: function(activations.double(), gradients.double())


@dataclass(frozen=True)
class Candidate:
    """A formula a library may compute: identifier, printed label, LaTeX formula and its weights ``(A, g) -> w``."""

    name: str
    label: str
    formula: str
    weights: Callable[[Tensor, Tensor], Tensor] = field(repr=False)
    #: The same formula evaluated in float32 arithmetic (as a float32 library does), where one is defined.
    float32_weights: Callable[[Tensor, Tensor], Tensor] | None = field(default=None, repr=False)


_EPSILONS = (1e-8, 1e-7, 1e-6)
_EQ9 = r"w_k = \sum_{ij} \frac{g_{ij}^2}{2 g_{ij}^2 + (\sum_{ab} A_{ab})\, g_{ij}^3%s}\,\mathrm{ReLU}(g_{ij})"
_SUM = r"w_k = \sum_{ij} \frac{g_{ij}^2}{2 g_{ij}^2 + \sum_{ab} A_{ab}\, g_{ab}^3%s}\,\mathrm{ReLU}(g_{ij})"


def _epsilon_label(epsilon: float) -> str:
    return f"1e-{round(-math.log10(epsilon))}"


#: The candidate formulas, by identifier, in the order ties are listed.
CANDIDATES: dict[str, Candidate] = {
    candidate.name: candidate
    for candidate in (
        Candidate("eq9", "eq. 9", _EQ9 % "", _eq9),
        *(
            Candidate(f"eq9_eps{_epsilon_label(e)}", f"eq. 9 + ε={_epsilon_label(e)}", _EQ9 % rf" + 10^{{{round(math.log10(e))}}}",
                      partial(_eq9, epsilon=e))
            for e in _EPSILONS
        ),
        Candidate("sum_denominator", "ΣAg³ denominator", _SUM % "", sum_denominator_weights,
                  partial(sum_denominator_weights, dtype=torch.float32)),
        *(
            Candidate(f"sum_denominator_eps{_epsilon_label(e)}", f"ΣAg³ denominator + ε={_epsilon_label(e)}",
                      _SUM % rf" + 10^{{{round(math.log10(e))}}}", partial(sum_denominator_weights, epsilon=e),
                      partial(sum_denominator_weights, epsilon=e, dtype=torch.float32))
            for e in _EPSILONS
        ),
        Candidate("undivided", "the undivided squared gradients, w = Σ ReLU(g)³", r"w_k = \sum_{ij} \mathrm{ReLU}(g_{ij})^3",
                  undivided_weights, partial(undivided_weights, dtype=torch.float32)),
        Candidate("grad_cam", "Grad-CAM, eq. 1", r"w_k = \frac{1}{Z}\sum_{ij} g_{ij}", _double(grad_cam_weights)),
        Candidate("grad_cam_plus", "Grad-CAM+, eq. 3", r"w_k = \frac{1}{Z}\sum_{ij} \mathrm{ReLU}(g_{ij})",
                  _double(grad_cam_plus_weights)),
    )
}

#: The candidate each method of the package computes (eq. (9) for Grad-CAM++, eq. (1) for Grad-CAM): what a
#: library's method of the same name is compared with.
REFERENCE_FORMULA = {"grad_cam_plus_plus": "eq9", "grad_cam": "grad_cam"}


def is_eq9(candidate: str) -> bool:
    """Whether the candidate identifier names eq. (9), with or without an epsilon.

    >>> is_eq9("eq9_eps1e-6"), is_eq9("sum_denominator")
    (True, False)
    """
    return candidate == "eq9" or candidate.startswith("eq9_eps")


def candidate_table() -> pd.DataFrame:
    """The candidates as a table: identifier (index), label and LaTeX formula."""
    return pd.DataFrame(
        {"label": [c.label for c in CANDIDATES.values()], "formula": [f"${c.formula}$" for c in CANDIDATES.values()]},
        index=pd.Index(list(CANDIDATES), name="candidate"),
    )


__all__ = [
    "CANDIDATES",
    "REFERENCE_FORMULA",
    "Candidate",
    "candidate_table",
    "is_eq9",
    "sum_denominator_weights",
    "undivided_weights",
]
