"""One batch through the whole study: capture, the three heatmaps, alpha statistics,
explanation maps and their scores. The pipeline streams batches through this."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..capture import ScoreKind, capture
from ..methods import (
    METHOD_PAIRS,
    METHODS,
    alpha_denominator_terms,
    grad_cam_plus_plus_alphas,
    normalised_heatmaps,
    upsample,
)
from ..metrics import explanation_maps, pearson_per_image
from ..models import Classifier

#: Bins of the histogram of tanh(alpha - 1/2) over [-1, 1] (Figure 4, right).
SQUEEZED_ALPHA_BINS = 200
ALPHA_QUANTILES = (0.01, 0.25, 0.5, 0.75, 0.99)
#: Section 3.3's "near 1/2": within this distance.
NEAR_HALF = 0.03


def log_prob_column(kind: ScoreKind, method: str) -> str:
    """Column of the log-probability of the true class on ``method``'s explanation map."""
    return f"logp_{kind}_{method}"


def correlation_column(kind: ScoreKind, first: str, second: str) -> str:
    """Column of the Pearson correlation of two methods' normalised heatmaps."""
    return f"corr_{kind}_{first}_{second}"


@dataclass(frozen=True)
class AlphaSummary:
    """Per-image statistics of the non-zero Grad-CAM++ alphas (eq. (9)) and their denominator terms."""

    values: dict[str, float]
    alpha_sample: np.ndarray
    denominator_sample: np.ndarray
    squeezed_histogram: np.ndarray


def summarise_alphas(activations: Tensor, gradients: Tensor, image_seed: int, sample_size: int) -> AlphaSummary:
    """Statistics of one image's alphas: count, quantiles, extremes, outliers, a seeded sample and a histogram.

    Only non-zero alphas count (alpha is 0 exactly where the gradient vanishes, and then
    it plays no role). ``activations``/``gradients`` are ``K x H x W`` of one image.
    """
    alphas = grad_cam_plus_plus_alphas(activations, gradients)
    terms = alpha_denominator_terms(activations, gradients)
    nonzero = alphas != 0
    values, denominators = alphas[nonzero].double(), terms[nonzero].double()
    count = values.numel()
    generator = torch.Generator().manual_seed(image_seed)
    chosen = torch.randperm(count, generator=generator)[:sample_size].to(values.device)
    histogram = torch.histc(torch.tanh(values - 0.5), bins=SQUEEZED_ALPHA_BINS, min=-1.0, max=1.0)
    summary: dict[str, float] = {"alpha_count": float(count)}
    if count:
        quantiles = torch.quantile(values, torch.tensor(ALPHA_QUANTILES, dtype=values.dtype, device=values.device))
        summary.update({f"alpha_q{round(q * 100):02d}": float(v) for q, v in zip(ALPHA_QUANTILES, quantiles)})
        summary.update(
            alpha_min=float(values.min()),
            alpha_max=float(values.max()),
            alpha_far_from_half=float(((values - 0.5).abs() > 0.5).sum()),
            alpha_near_half=float(((values - 0.5).abs() <= NEAR_HALF).sum()),
            denominator_term_min=float(denominators.min()),
            denominator_term_max=float(denominators.max()),
        )
    return AlphaSummary(
        values=summary,
        alpha_sample=values[chosen].float().cpu().numpy(),
        denominator_sample=denominators[chosen].float().cpu().numpy(),
        squeezed_histogram=histogram.cpu().numpy().astype(np.int64),
    )


@dataclass(frozen=True)
class BatchResult:
    rows: list[dict[str, float | int]]
    alphas: dict[tuple[int, ScoreKind], AlphaSummary]


@torch.no_grad()
def _true_class_log_probs(classifier: Classifier, inputs: Tensor, labels: Tensor) -> Tensor:
    logits = classifier.network(inputs.contiguous(memory_format=torch.channels_last))
    return logits.log_softmax(dim=1).gather(1, labels.view(-1, 1)).squeeze(1)


def analyse_batch(
    classifier: Classifier,
    pixels: Tensor,
    labels: Tensor,
    image_ids: Tensor,
    score_kinds: tuple[ScoreKind, ...],
    alpha_sample_size: int,
) -> BatchResult:
    """Everything the study keeps for a batch of images (``pixels`` in [0, 1], ``B x 3 x H x W``).

    One forward pass and one backward pass per score kind (the capture) serve all three
    methods; each method then costs one forward pass over its explanation maps.
    """
    device = classifier.device
    pixels = pixels.to(device, non_blocking=True)
    labels = labels.to(device, non_blocking=True)
    inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
    captured = capture(classifier.network, classifier.layer, inputs, labels, score_kinds, tap=classifier.tap)
    logits = captured.logits.float()
    true_logit = logits.gather(1, labels.view(-1, 1)).squeeze(1)
    true_log_prob = logits.log_softmax(dim=1).gather(1, labels.view(-1, 1)).squeeze(1)
    columns: dict[str, Tensor] = {
        "predicted": logits.argmax(dim=1),
        "logit": true_logit,
        "probability": true_log_prob.exp(),
        "log_probability": true_log_prob,
    }
    alphas: dict[tuple[int, ScoreKind], AlphaSummary] = {}
    size = (pixels.shape[-2], pixels.shape[-1])
    for kind in score_kinds:
        gradients = captured.gradients[kind]
        heatmaps = {m: normalised_heatmaps(captured.activations, gradients, m) for m in METHODS}
        for method, heatmap in heatmaps.items():
            maps = explanation_maps(pixels, upsample(heatmap, size), classifier.normalise)
            columns[log_prob_column(kind, method)] = _true_class_log_probs(classifier, maps, labels)
        for first, second in METHOD_PAIRS:
            columns[correlation_column(kind, first, second)] = pearson_per_image(heatmaps[first], heatmaps[second])
        for position, image_id in enumerate(image_ids.tolist()):
            alphas[(image_id, kind)] = summarise_alphas(
                captured.activations[position], gradients[position], image_id, alpha_sample_size
            )
    host = {name: values.cpu().tolist() for name, values in columns.items()}
    rows = [
        {"image": image_id, "label": int(label), **{name: values[i] for name, values in host.items()}}
        for i, (image_id, label) in enumerate(zip(image_ids.tolist(), labels.tolist()))
    ]
    for row in rows:
        for kind in score_kinds:
            row.update({f"{kind}_{k}": v for k, v in alphas[(row["image"], kind)].values.items()})
    return BatchResult(rows=rows, alphas=alphas)
