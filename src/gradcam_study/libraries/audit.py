"""The audit: identical inputs through every library at one layer, and the identified formulas scored.

:func:`audit_layer` puts the same network, layer, images and target classes through each library of
:data:`~gradcam_study.libraries.adapters.LIBRARIES`, identifies the formula each computes (:func:`compare`) and, for
Grad-CAM++, scores its heatmaps by the study's protocol; :func:`score_identified` then scores each identified formula
on every kept image from the package's own capture. Both return one row per (library, method), identifier columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ..capture import capture_layers
from ..explain import load_pixels
from ..methods import min_max_normalise, upsample
from ..methods.candidates import CANDIDATES, REFERENCE_FORMULA
from ..metrics import (
    bootstrap_relative_performance,
    explanation_maps,
    log_relative_performance,
    pearson_per_image,
    relative_performance,
)
from ..models import Classifier
from ..study.analysis import log_prob_column, true_class_log_probs
from ..study.config import DEFAULT_THRESHOLD, select_images
from ..study.provenance import Provenance
from ..study.results import LayerResults
from ..study.verdicts import SIGNIFICANCE_LEVEL
from .adapters import (
    LIBRARIES,
    SCORE_KIND,
    Library,
    LibraryOutput,
    LibraryRun,
    run_library,
)
from .matching import (
    best_heatmap_match,
    best_match,
    fitted_factors,
    heatmap_residual,
    normalised_heatmaps_of,
    weight_residual,
)

#: The methods audited, in the order of the tables.
AUDITED_METHODS = ("grad_cam_plus_plus", "grad_cam")
#: The images of the chapter's audit in the quick profile: an evenly spread subset of the kept images (on the CPU
#: every library runs its own forward and backward passes, medcam one image at a time).
AUDIT_IMAGES = 48


def audit_limit(profile_name: str) -> int:
    """How many kept images the chapter audits: :data:`AUDIT_IMAGES` in the quick profile, ten times as many in the
    others (which run on a GPU where there is one).

    >>> audit_limit("quick"), audit_limit("paper")
    (48, 480)
    """
    return AUDIT_IMAGES if profile_name == "quick" else 10 * AUDIT_IMAGES


def compare(run: LibraryRun, activations: Tensor, gradients: Tensor) -> LibraryRun:
    """``run`` with its :class:`MatchReport` against the candidates (on weights where exposed, else on heatmaps),
    evaluated on the library's own activations and gradients where it exposes them, else on ``activations`` and
    ``gradients`` (the package's capture of the same batch)."""
    if run.output is None:
        return run
    if run.output.activations is not None and run.output.gradients is not None:
        activations, gradients = run.output.activations, run.output.gradients
    prefer = REFERENCE_FORMULA.get(run.method)
    if run.output.weights is not None:
        report = best_match(run.output.weights, activations, gradients, prefer=prefer)
    else:
        report = best_heatmap_match(run.output.heatmaps, activations, gradients, prefer=prefer)
    return replace(run, match=report)


def explanation_log_probs(
    classifier: Classifier, pixels: Tensor, heatmaps: Tensor, targets: Tensor, batch_size: int = 16
) -> Tensor:
    """The study's protocol on given heatmaps (``B x h x w``): min-max normalise, upsample to the image, explanation
    maps (eq. (15)), and the log-probability of each target class on them (``batch_size`` maps per forward pass)."""
    device = classifier.device
    pixels = pixels.to(device)
    normalised = min_max_normalise(heatmaps.float().to(device))
    maps = explanation_maps(pixels, upsample(normalised, (pixels.shape[-2], pixels.shape[-1])), classifier.normalise)
    return true_class_log_probs(classifier, maps, targets.to(device), chunk=batch_size).double().cpu()


def audit_images(results: LayerResults, limit: int | None = AUDIT_IMAGES, threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """The images of the audit: ``limit`` of the kept images, evenly spread (:func:`select_images`); all when None."""
    return [int(i) for i in select_images(list(results.require_kept(threshold).index), limit)]


def audit_provenance(
    results: LayerResults, images: Sequence[int], threshold: float = DEFAULT_THRESHOLD, subset: str | None = None
) -> Provenance:
    """The layer's provenance with its data set naming the audit's subset of the kept images (``subset`` describes
    it instead of "an evenly spread subset of N", e.g. for a single image)."""
    kept = len(results.kept(threshold))
    if subset is None:
        subset = "all" if len(images) == kept else f"an evenly spread subset of {len(images)}"
    return replace(
        results.provenance,
        dataset=f"{results.provenance.dataset}, {subset} of the {kept} images kept at threshold {threshold}",
        images=len(images),
        total=None,
    )


def float32_residual(run: LibraryRun) -> float:
    """Where the best match of ``run`` misses some images: the residual of the same candidate evaluated in float32
    arithmetic on the library's own activations and gradients (what a float32 library computes). Near a pole of a
    Grad-CAM++ denominator, float32 rounding is amplified into the alphas, so a formula can match in float32 where
    its float64 value does not. NaN where every image matched, or the candidate has no float32 form, or the library
    exposes no activations and gradients."""
    if (run.output is None or run.match is None or run.match.matched or run.output.activations is None
            or run.output.gradients is None):
        return float("nan")
    candidate = CANDIDATES[run.match.best.candidate]
    if candidate.float32_weights is None:
        return float("nan")
    activations, gradients = run.output.activations, run.output.gradients
    weights = candidate.float32_weights(activations.float(), gradients.float())
    if run.match.compared == "heatmaps":
        return heatmap_residual(run.output.heatmaps, normalised_heatmaps_of(activations, weights))
    if run.output.weights is None:
        return float("nan")
    return weight_residual(run.output.weights, weights, fitted_factors(run.output.weights, weights))


def capture_deviation(output: LibraryOutput, activations: Tensor, gradients: Tensor) -> float:
    """How far the activations and gradients a library recorded are from the package's capture of the same batch:
    the larger of :func:`weight_residual` applied to each (flattened per image; relative to each image's largest
    value). NaN where the library does not expose them."""
    if output.activations is None or output.gradients is None:
        return float("nan")
    return max(
        weight_residual(output.activations.flatten(1), activations.flatten(1)),
        weight_residual(output.gradients.flatten(1), gradients.flatten(1)),
    )


def _reference_heatmaps(activations: Tensor, gradients: Tensor, method: str) -> Tensor:
    return normalised_heatmaps_of(activations, CANDIDATES[REFERENCE_FORMULA[method]].weights(activations, gradients))


def audit_layer(
    results: LayerResults,
    classifier: Classifier,
    images: Sequence[int],
    libraries: Mapping[str, Library] | None = None,
    methods: Sequence[str] = AUDITED_METHODS,
    scored_methods: Sequence[str] = ("grad_cam_plus_plus",),
    resamples: int = 2000,
    batch_size: int = 16,
) -> pd.DataFrame:
    """Every library's ``methods`` on the ``images`` (ids of ``results.images``) at ``results.layer``, targets =
    their labels, score = the pre-softmax logit; one row per (library, method), columns are identifiers.

    ``formula`` / ``residual`` / ``images_matched`` / ``matches`` / ``factor``: the best candidate (:func:`best_match`
    on the weights, :func:`best_heatmap_match` where only heatmaps are exposed; both on the library's own activations
    and gradients where it exposes them), its residual, on how many images it is within the tolerance, every
    candidate within the tolerance on all images, the fitted factor (median over images); ``residuals`` maps every
    candidate to its residual; ``float32_residual`` is :func:`float32_residual`; ``capture_deviation`` is
    :func:`capture_deviation` (the library's A and g against the package's). ``deviation``: the largest relative deviation of the
    weights from the package's formula (eq. (9) for Grad-CAM++, eq. (1) for Grad-CAM; :func:`weight_residual`, no
    factor); ``deviation_up_to_factor`` the same after fitting a positive factor per image (what a normalised heatmap
    sees). ``heatmap_deviation``: the largest difference of the normalised heatmaps from that formula's.
    ``median_correlation``: the median per-image Pearson correlation of the two normalised heatmaps. For
    ``scored_methods``, the study's protocol (eq. (16)) on these images: ``relative_performance`` against the
    study's stored eq. (9) Grad-CAM++ scores and ``relative_performance_vs_grad_cam_plus`` against its Grad-CAM+
    scores, each with a percentile bootstrap 95% interval (``ci_low``, ``ci_high``, ``..._vs_grad_cam_plus``).
    ``status`` is ``"ok"``, ``"not installed (...)"`` or ``"error: ..."``. Libraries and the reference capture get
    ``batch_size`` images per call.
    """
    libraries = LIBRARIES if libraries is None else libraries
    images = list(images)
    frame = results.images.loc[images]
    pixels = load_pixels(classifier, [results.image_path(i) for i in images])
    targets = torch.tensor(frame["label"].tolist(), dtype=torch.long)
    inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last).to(classifier.device)
    targets = targets.to(classifier.device)
    activation_parts, gradient_parts = [], []
    for start in range(0, len(images), batch_size):
        part = slice(start, start + batch_size)
        captured = capture_layers(classifier.network, [results.layer], inputs[part], targets[part], (SCORE_KIND,))
        activation_parts.append(captured.activations[results.layer].double().cpu())
        gradient_parts.append(captured.gradients[results.layer][SCORE_KIND].double().cpu())
    activations, gradients = torch.cat(activation_parts), torch.cat(gradient_parts)
    stored = {m: frame[log_prob_column(SCORE_KIND, m)].to_numpy() for m in ("grad_cam_plus_plus", "grad_cam_plus")}
    records = []
    for library in libraries.values():
        for method in methods:
            run = run_library(library, method, classifier.network, results.layer, inputs, targets, batch_size)
            run = compare(run, activations, gradients)
            record: dict[str, object] = {
                "library": library.name, "method": method, "class": library.classes.get(method, "–"),
                "version": run.version, "status": run.status, "images": len(images),
            }
            if run.output is not None and run.match is not None:
                output, reference = run.output, CANDIDATES[REFERENCE_FORMULA[method]]
                expected = reference.weights(activations, gradients)
                heatmaps = output.heatmaps
                normalised = heatmaps if output.normalised else min_max_normalise(heatmaps)
                reference_heatmaps = _reference_heatmaps(activations, gradients, method)
                record.update(
                    float32_residual=float32_residual(run),
                    capture_deviation=capture_deviation(output, activations, gradients),
                    formula=run.match.best.candidate,
                    residuals={m.candidate: m.residual for m in run.match.ranked},
                    residual=run.match.best.residual,
                    images_matched=run.match.best.images_matched,
                    matches=", ".join(run.match.matches),
                    compared=run.match.compared,
                    factor=run.match.best.factor,
                    deviation=(weight_residual(output.weights, expected) if output.weights is not None else float("nan")),
                    deviation_up_to_factor=(weight_residual(output.weights, expected, fitted_factors(output.weights, expected))
                                            if output.weights is not None else float("nan")),
                    heatmap_deviation=heatmap_residual(normalised, reference_heatmaps),
                    median_correlation=float(np.nanmedian(pearson_per_image(normalised, reference_heatmaps).numpy())),
                )
                if method in scored_methods:
                    log_probs = explanation_log_probs(classifier, pixels, heatmaps, targets, batch_size).numpy()
                    for suffix, against in (("", "grad_cam_plus_plus"), ("_vs_grad_cam_plus", "grad_cam_plus")):
                        log_rp = log_relative_performance(log_probs, stored[against])
                        interval = bootstrap_relative_performance(log_rp, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples)
                        record[f"relative_performance{suffix}"] = relative_performance(log_probs, stored[against])
                        record[f"ci_low{suffix}"] = interval.low
                        record[f"ci_high{suffix}"] = interval.high
            records.append(record)
    audit = pd.DataFrame.from_records(records).set_index(["library", "method"])
    audit.attrs["layer"] = results.layer
    return audit


def score_identified(
    audit: pd.DataFrame,
    results: LayerResults,
    classifier: Classifier,
    threshold: float = DEFAULT_THRESHOLD,
    method: str = "grad_cam_plus_plus",
    batch_size: int = 16,
    resamples: int = 2000,
) -> pd.DataFrame:
    """The audit with each library's ``method`` scored on EVERY image kept at ``threshold``, not only on the audit's
    subset: the formula :func:`audit_layer` identified for it (its best candidate; a positive factor per image does
    not change a normalised heatmap) is a weighting of the study's own capture, so the package computes its heatmaps
    from one capture per batch and scores them by the study's protocol (eq. (15), (16)) against the stored eq. (9)
    Grad-CAM++ and Grad-CAM+ scores. Replaces ``relative_performance``, ``ci_low``, ``ci_high`` (and their
    ``_vs_grad_cam_plus`` twins) of those rows and sets ``scored_images``; candidates whose heatmaps of a batch are
    equal share their forward passes.

    >>> scored = score_identified(audit, results, classifier)      # doctest: +SKIP
    >>> int(scored.loc[("torchcam", "grad_cam_plus_plus"), "scored_images"]) == len(results.kept())  # doctest: +SKIP
    True
    """
    scored = audit.copy()
    rows = [key for key, row in audit.iterrows() if key[1] == method and row["status"] == "ok"
            and isinstance(row.get("formula"), str)]
    formulas = list(dict.fromkeys(audit.loc[key, "formula"] for key in rows))
    if not formulas:
        return scored
    kept = results.require_kept(threshold)
    ids = list(kept.index)
    device = classifier.device
    log_probs: dict[str, list[Tensor]] = {formula: [] for formula in formulas}
    for start in range(0, len(ids), batch_size):
        part = ids[start:start + batch_size]
        pixels = load_pixels(classifier, [results.image_path(i) for i in part]).to(device)
        targets = torch.tensor(kept.loc[part, "label"].tolist(), dtype=torch.long, device=device)
        inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
        captured = capture_layers(classifier.network, [results.layer], inputs, targets, (SCORE_KIND,))
        activations = captured.activations[results.layer].double()
        gradients = captured.gradients[results.layer][SCORE_KIND].double()
        done: list[tuple[Tensor, Tensor]] = []
        for formula in formulas:
            heatmaps = normalised_heatmaps_of(activations, CANDIDATES[formula].weights(activations, gradients))
            same = next((scores for earlier, scores in done if torch.equal(earlier, heatmaps)), None)
            if same is None:
                same = explanation_log_probs(classifier, pixels, heatmaps, targets, batch_size)
                done.append((heatmaps, same))
            log_probs[formula].append(same)
    stored = {m: kept[log_prob_column(SCORE_KIND, m)].to_numpy() for m in ("grad_cam_plus_plus", "grad_cam_plus")}
    for key in rows:
        found = torch.cat(log_probs[audit.loc[key, "formula"]]).numpy()
        for suffix, against in (("", "grad_cam_plus_plus"), ("_vs_grad_cam_plus", "grad_cam_plus")):
            log_rp = log_relative_performance(found, stored[against])
            bounds = bootstrap_relative_performance(log_rp, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples)
            scored.loc[key, f"relative_performance{suffix}"] = relative_performance(found, stored[against])
            scored.loc[key, f"ci_low{suffix}"] = bounds.low
            scored.loc[key, f"ci_high{suffix}"] = bounds.high
        scored.loc[key, "scored_images"] = len(ids)
    return scored


__all__ = [
    "AUDITED_METHODS",
    "AUDIT_IMAGES",
    "audit_images",
    "audit_layer",
    "audit_limit",
    "audit_provenance",
    "capture_deviation",
    "compare",
    "explanation_log_probs",
    "float32_residual",
    "score_identified",
]
