r"""Matching a library's weights or heatmaps against the candidate formulas of :mod:`gradcam_study.methods.candidates`.

A library's weights (``B x K``) are compared with each candidate up to a positive factor per image (which leaves a
normalised heatmap unchanged), fitted by :func:`fitted_factors`; its min-max normalised heatmaps (``B x H x W``),
where it exposes no weights, directly. :func:`best_match` and :func:`best_heatmap_match` rank the candidates by
residual; a :class:`MatchReport` says which are within the tolerance and which one is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..methods import class_activation_map, min_max_normalise
from ..methods.candidates import CANDIDATES, Candidate
from ..methods.weights import safe_ratio

#: A candidate "matches" a library's weights when its residual (see :func:`best_match`) is at most this: float32
#: libraries against float64 formulas of the same float32 capture differ by rounding, a few 1e-7 of the largest weight.
MATCH_TOLERANCE = 1e-5
#: The same for min-max normalised heatmaps (:func:`best_heatmap_match`): a float32 normalisation loses more where a
#: map's range is small next to its values (measured up to about 1e-5 on EfficientNet-Lite0; distinct candidates
#: differ by 1e-3 or more).
HEATMAP_TOLERANCE = 1e-4

def normalised_heatmaps_of(activations: Tensor, weights: Tensor) -> Tensor:
    """Eq. (2) then per-image min-max normalisation, in float64: the heatmap a method's ``weights`` give."""
    return min_max_normalise(class_activation_map(activations.double(), weights.double()))


def fitted_factors(observed: Tensor, expected: Tensor) -> Tensor:
    r"""Per image, the positive factor :math:`c \ge 0` minimising :math:`\|w_{obs} - c\, w_{exp}\|_2` (float64, ``B``).

    :math:`c = \max(0, \langle w_{obs}, w_{exp}\rangle / \|w_{exp}\|^2)`; 0 where :math:`w_{exp} = 0`.
    """
    observed, expected = observed.double().flatten(1), expected.double().flatten(1)
    norm = (expected * expected).sum(dim=1)
    return safe_ratio((observed * expected).sum(dim=1), norm, norm > 0).clamp(min=0)


def weight_residuals(observed: Tensor, expected: Tensor, factors: Tensor | None = None) -> Tensor:
    r"""Per image (``B``), the largest deviation of ``observed`` weights from ``factors`` times ``expected``
    (``B x K``), relative to the image's largest observed weight:

    .. math::
        r_b = \frac{\max_k |w^{obs}_{bk} - c_b\, w^{exp}_{bk}|}{\max_k |w^{obs}_{bk}|}

    (near-zero weights would make a per-weight ratio meaningless). ``factors`` default to 1. An image whose weights
    are all 0 gives 0 when the expected ones are 0 too, else 1.
    """
    observed, expected = observed.double(), expected.double()
    if factors is not None:
        expected = expected * factors.double().view(-1, 1)
    scale = observed.abs().amax(dim=1)
    deviation = (observed - expected).abs().amax(dim=1)
    relative = safe_ratio(deviation, scale, scale > 0)
    return torch.where((scale == 0) & (deviation > 0), torch.ones_like(relative), relative)


def weight_residual(observed: Tensor, expected: Tensor, factors: Tensor | None = None) -> float:
    r"""The largest relative deviation over the batch, :math:`\max_b r_b` of :func:`weight_residuals`."""
    residuals = weight_residuals(observed, expected, factors)
    return float(residuals.max()) if residuals.numel() else float("nan")


def heatmap_residuals(observed: Tensor, expected: Tensor) -> Tensor:
    """Per image, the largest absolute difference of two min-max normalised heatmaps (values in [0, 1])."""
    return (observed.double() - expected.double()).abs().flatten(start_dim=1).amax(dim=1)


def heatmap_residual(observed: Tensor, expected: Tensor) -> float:
    """The largest absolute difference of two batches of min-max normalised heatmaps (values in [0, 1])."""
    residuals = heatmap_residuals(observed, expected)
    return float(residuals.max()) if residuals.numel() else float("nan")


@dataclass(frozen=True)
class Match:
    """One candidate against the observation: its residual (the largest over the images), on how many of the
    ``images`` the per-image residual is within the report's tolerance, and for weights the fitted factors'
    median and range."""

    candidate: str
    residual: float
    images_matched: int = 0
    images: int = 0
    factor: float | None = None
    factor_low: float | None = None
    factor_high: float | None = None
    #: The residual of each image (float64, ``B``).
    per_image: Tensor | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return CANDIDATES[self.candidate].label


@dataclass(frozen=True)
class MatchReport:
    """Every candidate ranked by residual (best first), what was compared (``"weights"`` or ``"heatmaps"``), and
    the tolerance within which a candidate counts as matching."""

    ranked: tuple[Match, ...]
    compared: str
    tolerance: float = MATCH_TOLERANCE
    prefer: str | None = None

    @property
    def best(self) -> Match:
        """The formula reported: among the candidates within the tolerance, ``prefer`` (the formula the method is
        supposed to compute) when it is one of them, else the first in :data:`CANDIDATES` order (eq. (9) and its
        variants before the others: a tie is a coincidence of these inputs, e.g. alphas all at 1/2). When none is
        within the tolerance on every image, the one within it on the most images (then the smallest residual)."""
        matches = self.matches
        if not matches:
            return max(self.ranked, key=lambda m: (m.images_matched, -m.residual))
        chosen = self.prefer if self.prefer in matches else matches[0]
        return next(m for m in self.ranked if m.candidate == chosen)

    @property
    def matches(self) -> tuple[str, ...]:
        """Candidates within the tolerance, in :data:`CANDIDATES` order (indistinguishable on these inputs)."""
        within = {m.candidate for m in self.ranked if m.residual <= self.tolerance}
        return tuple(name for name in CANDIDATES if name in within)

    @property
    def matched(self) -> bool:
        return self.best.residual <= self.tolerance


def _match(name: str, residuals: Tensor, tolerance: float, factors: Tensor | None = None) -> Match:
    return Match(
        name,
        float(residuals.max()) if residuals.numel() else float("nan"),
        int((residuals <= tolerance).sum()),
        int(residuals.numel()),
        factor=float(factors.median()) if factors is not None else None,
        factor_low=float(factors.min()) if factors is not None else None,
        factor_high=float(factors.max()) if factors is not None else None,
        per_image=residuals,
    )


def best_match(
    observed_weights: Tensor,
    activations: Tensor,
    gradients: Tensor,
    candidates: Mapping[str, Candidate] | None = None,
    tolerance: float = MATCH_TOLERANCE,
    prefer: str | None = None,
) -> MatchReport:
    r"""Which candidate formula ``observed_weights`` (``B x K``) are, up to a positive factor per image.

    For each candidate :math:`F`, the factor :math:`c_b` of :func:`fitted_factors` is fitted per image and the
    residual is :func:`weight_residual` of :math:`w^{obs}` against :math:`c_b F(A, g)`: the largest deviation
    relative to each image's largest weight. Candidates are ranked by residual; :attr:`MatchReport.best` prefers
    ``prefer`` among those within ``tolerance``.

    >>> import torch
    >>> from gradcam_study.methods import grad_cam_weights
    >>> A, g = torch.rand(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    >>> report = best_match(2 * grad_cam_weights(A, g), A, g)
    >>> report.best.candidate, round(report.best.factor, 6), report.best.images_matched
    ('grad_cam', 2.0, 2)
    """
    candidates = CANDIDATES if candidates is None else candidates
    ranked = []
    for name, candidate in candidates.items():
        expected = candidate.weights(activations, gradients)
        factors = fitted_factors(observed_weights, expected)
        ranked.append(_match(name, weight_residuals(observed_weights, expected, factors), tolerance, factors))
    return MatchReport(tuple(sorted(ranked, key=lambda m: m.residual)), "weights", tolerance, prefer)


def best_heatmap_match(
    observed_heatmaps: Tensor,
    activations: Tensor,
    gradients: Tensor,
    candidates: Mapping[str, Candidate] | None = None,
    tolerance: float = HEATMAP_TOLERANCE,
    prefer: str | None = None,
) -> MatchReport:
    """Which candidate a library's min-max normalised heatmaps (``B x H x W``) come from, where it exposes no weights.

    The residual is :func:`heatmap_residual` against :func:`normalised_heatmaps_of` the candidate's weights. A
    positive factor per image does not change a normalised heatmap, so no factor is reported.
    """
    candidates = CANDIDATES if candidates is None else candidates
    ranked = [
        _match(name, heatmap_residuals(observed_heatmaps, normalised_heatmaps_of(activations, c.weights(activations, gradients))),
               tolerance)
        for name, c in candidates.items()
    ]
    return MatchReport(tuple(sorted(ranked, key=lambda m: m.residual)), "heatmaps", tolerance, prefer)


__all__ = [
    "HEATMAP_TOLERANCE",
    "MATCH_TOLERANCE",
    "Match",
    "MatchReport",
    "best_heatmap_match",
    "best_match",
    "fitted_factors",
    "heatmap_residual",
    "heatmap_residuals",
    "normalised_heatmaps_of",
    "weight_residual",
    "weight_residuals",
]
