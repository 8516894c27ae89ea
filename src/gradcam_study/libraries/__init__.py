r"""Grad-CAM++ as the PyTorch libraries compute it: the same inputs through each library, and which formula it is.

Readers who use Grad-CAM++ get it from a library, not from eq. (9). This package puts identical inputs (same
network, layer, target classes; score = the target's pre-softmax logit) through each library's Grad-CAM++ and
Grad-CAM, takes its channel weights (or its heatmap, where the library does not expose weights), and finds which
of a set of candidate formulas it computes. Shapes: activations ``A`` and gradients ``g = dY/dA`` are
``B x K x H x W``; weights ``B x K``; heatmaps ``B x H x W``.

* the candidates (:data:`CANDIDATES`, eq. (9) and the variants the libraries may compute) live in
  :mod:`gradcam_study.methods.candidates`, next to the methods they vary;
* :mod:`.matching` fits each candidate to a library's weights up to a positive factor per image (or compares
  normalised heatmaps) and ranks them (:func:`best_match`, :func:`best_heatmap_match`);
* :mod:`.adapters` holds the registry (:data:`LIBRARIES`): per library, an adapter per method,
  ``(network, layer_name, inputs, targets) -> LibraryOutput``. Libraries hook module OUTPUTS; a layer key
  ``"<name>:input"`` is shown to them through :class:`~gradcam_study.capture.InputTap`;
* :mod:`.audit` runs the audit (:func:`audit_layer`, :func:`score_identified`). A library that is not installed,
  or that raises on a layer, gives a row that says so; it never stops the audit;
* :mod:`.report` turns audits into the chapter's tables and sentences (:func:`formula_table`,
  :func:`performance_table`, :func:`findings`, :func:`recommendations`).
"""

from __future__ import annotations

from ..capture import InputTap, hookable
from ..methods.candidates import (
    CANDIDATES,
    REFERENCE_FORMULA,
    Candidate,
    candidate_table,
    sum_denominator_weights,
    undivided_weights,
)
from .adapters import (
    LIBRARIES,
    SCORE_KIND,
    Adapter,
    Library,
    LibraryOutput,
    LibraryRun,
    run_library,
)
from .audit import (
    AUDIT_IMAGES,
    AUDITED_METHODS,
    audit_images,
    audit_layer,
    audit_limit,
    audit_provenance,
    capture_deviation,
    compare,
    explanation_log_probs,
    float32_residual,
    score_identified,
)
from .matching import (
    HEATMAP_TOLERANCE,
    MATCH_TOLERANCE,
    Match,
    MatchReport,
    best_heatmap_match,
    best_match,
    fitted_factors,
    heatmap_residual,
    heatmap_residuals,
    normalised_heatmaps_of,
    weight_residual,
    weight_residuals,
)
from .report import (
    audit_scope,
    compat_sentence,
    consistent_formula,
    findings,
    formula_table,
    pair_statistics,
    performance_table,
    recommendations,
    study_verdicts,
)

__all__ = [
    "AUDITED_METHODS",
    "AUDIT_IMAGES",
    "CANDIDATES",
    "HEATMAP_TOLERANCE",
    "LIBRARIES",
    "MATCH_TOLERANCE",
    "REFERENCE_FORMULA",
    "SCORE_KIND",
    "Adapter",
    "Candidate",
    "InputTap",
    "Library",
    "LibraryOutput",
    "LibraryRun",
    "Match",
    "MatchReport",
    "audit_images",
    "audit_layer",
    "audit_limit",
    "audit_provenance",
    "audit_scope",
    "best_heatmap_match",
    "best_match",
    "candidate_table",
    "capture_deviation",
    "compare",
    "compat_sentence",
    "consistent_formula",
    "explanation_log_probs",
    "findings",
    "fitted_factors",
    "float32_residual",
    "formula_table",
    "heatmap_residual",
    "heatmap_residuals",
    "hookable",
    "normalised_heatmaps_of",
    "pair_statistics",
    "performance_table",
    "recommendations",
    "run_library",
    "score_identified",
    "study_verdicts",
    "sum_denominator_weights",
    "undivided_weights",
    "weight_residual",
    "weight_residuals",
]
