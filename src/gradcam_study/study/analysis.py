"""One batch through the whole study: one capture of every layer, then per layer the heatmaps of every method,
alpha statistics, explanation maps and their scores, and for the images of the curve subset deletion and
insertion curves. The pipeline streams batches through this."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..capture import ScoreKind, capture_layers
from ..methods import METHOD_PAIRS, PIXEL_WISE_PAIRS
from .verdicts import NEAR_HALF
from ..methods import (
    METHODS,
    PAPER_METHODS,
    constant_within_maps,
    grad_cam_plus_plus_alphas,
    nonzero_alphas,
    normalised_heatmaps,
    upsample,
)
from ..metrics import DEFAULT_STEPS, deletion_insertion, explanation_maps, pearson_per_image, top_share_overlap
from ..metrics import TOP_SHARE
from ..metrics.perturbation import ProbabilityFunction
from ..models import Classifier
from ..models.inference import Inference, inference

#: Bins of the histogram of tanh(alpha - 1/2) over [-1, 1] (Figure 4, right).
SQUEEZED_ALPHA_BINS = 200
#: The per-image quantiles of the non-zero alphas the study stores (columns ``<kind>_alpha_q01`` ...).
ALPHA_QUANTILES = (0.01, 0.25, 0.5, 0.75, 0.99)


def log_prob_column(kind: ScoreKind, method: str) -> str:
    """Column of the log-probability of the true class on ``method``'s explanation map."""
    return f"logp_{kind}_{method}"


def correlation_column(kind: ScoreKind, first: str, second: str) -> str:
    """Column of the Pearson correlation of two methods' normalised heatmaps."""
    return f"corr_{kind}_{first}_{second}"


def top_overlap_column(kind: ScoreKind, first: str, second: str) -> str:
    """Column of the overlap of two methods' top pixels (:func:`~gradcam_study.metrics.top_share_overlap` of the
    upsampled heatmaps, top :data:`~gradcam_study.metrics.TOP_SHARE` of the pixels)."""
    return f"top_overlap_{kind}_{first}_{second}"


def auc_column(curve: str, kind: ScoreKind, method: str) -> str:
    """Column of the area under ``method``'s ``"deletion"`` or ``"insertion"`` curve (images of the curve subset)."""
    return f"{curve}_auc_{kind}_{method}"


def constant_map_column(kind: ScoreKind, method: str) -> str:
    """Column saying (1/0) whether ``method``'s heatmap is constant, hence all zero after normalisation."""
    return f"constant_{kind}_{method}"


def alpha_column(kind: ScoreKind, statistic: str) -> str:
    """Column of a per-image alpha statistic: ``alpha_count``, ``alpha_q01`` ... ``alpha_min``, ``alpha_max``,
    ``alpha_far_from_half``, ``alpha_near_half``, ``denominator_term_min``/``max``,
    ``denominator_closest_to_pole`` (smallest ``|2 + t|``), ``gradient_constant``, and those of
    :func:`sign_statistics`: ``positive_gradient_units``, ``positive_outside``, ``outside_weight_share``."""
    return f"{kind}_{statistic}"


#: Per-image, per-layer columns that do not depend on the score kind (see :func:`activation_statistics`).
UNITS_COLUMN = "units"
NEGATIVE_SHARE_COLUMN = "negative_activation_share"


def activation_statistics(activations: Tensor) -> dict[str, Tensor]:
    """Per image of a ``B x K x H x W`` batch: its number of units ``K H W`` (:data:`UNITS_COLUMN`) and the share of
    them whose activation is negative (:data:`NEGATIVE_SHARE_COLUMN`), 0 after a ReLU, about 1/2 on a linear
    bottleneck.

    >>> import torch
    >>> activation_statistics(torch.tensor([[[[-1.0, 0.0], [2.0, -3.0]]]]))["negative_activation_share"].tolist()
    [0.5]
    """
    flat = activations.flatten(start_dim=1)
    return {
        UNITS_COLUMN: torch.full((flat.shape[0],), float(flat.shape[1]), device=flat.device),
        NEGATIVE_SHARE_COLUMN: (flat < 0).float().mean(dim=1),
    }


def sign_statistics(activations: Tensor, gradients: Tensor) -> dict[str, Tensor]:
    r"""Per image of a ``B x K x H x W`` batch, how much of Grad-CAM++'s weights (eq. (4)) the alphas outside
    [0, 1] carry, the alphas the pole of eq. (13) makes:

    - ``positive_gradient_units``: the units with :math:`g > 0` (the only ones whose alpha reaches the weights);
    - ``positive_outside``: those whose alpha lies outside [0, 1] (:math:`|lpha - 1/2| > 1/2`, i.e. :math:`t < -1`,
      which at :math:`g > 0` needs a map with :math:`\sum_{ab} A_{ab} < 0`: never after a ReLU);
    - ``outside_weight_share``: their share of the weight mass
      :math:`\sum_{k,ij} |lpha^k_{ij}\, \mathrm{ReLU}(g^k_{ij})|` over all maps (absolute values, because beyond
      the pole the alphas are negative); 0 where no gradient is positive.

    >>> import torch
    >>> A = torch.tensor([[[[1.0, -3.0]]]])          # sum A = -2: t = -2 g
    >>> g = torch.tensor([[[[0.6, 0.1]]]])           # t = -1.2 (alpha = 1.25, outside) and -0.2 (alpha = 0.556)
    >>> found = sign_statistics(A, g)
    >>> found["positive_outside"].tolist(), round(found["outside_weight_share"].item(), 3)
    ([1.0], 0.931)
    """
    alphas = grad_cam_plus_plus_alphas(activations, gradients).double()
    positive = gradients > 0
    outside = positive & ((alphas - 0.5).abs() > 0.5)
    mass = (alphas * gradients.double().clamp(min=0)).abs().flatten(start_dim=1)
    total = mass.sum(dim=1)
    carried = torch.where(outside.flatten(start_dim=1), mass, torch.zeros_like(mass)).sum(dim=1)
    return {
        "positive_gradient_units": positive.flatten(start_dim=1).sum(dim=1).double(),
        "positive_outside": outside.flatten(start_dim=1).sum(dim=1).double(),
        "outside_weight_share": torch.where(total > 0, carried / torch.where(total > 0, total, 1.0), 0.0),
    }


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
    it plays no role). ``activations``/``gradients`` are ``K x H x W`` of one image. The sample
    has ``sample_size`` draws with replacement (none when there is no non-zero alpha), so every
    image weighs the same in a pooled sample.
    """
    found = nonzero_alphas(activations, gradients)
    values, denominators = found.alphas, found.terms
    count = values.numel()
    generator = torch.Generator().manual_seed(image_seed)
    chosen = torch.randint(count, (sample_size if count else 0,), generator=generator).to(values.device)
    histogram = torch.histc(torch.tanh(values - 0.5), bins=SQUEEZED_ALPHA_BINS, min=-1.0, max=1.0)
    summary: dict[str, float] = {
        "alpha_count": float(count),
        "gradient_constant": float(constant_within_maps(gradients.unsqueeze(0)).item()),
    }
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
            denominator_closest_to_pole=float((2 + denominators).abs().min()),
        )
    return AlphaSummary(
        values=summary,
        alpha_sample=values[chosen].float().cpu().numpy(),
        denominator_sample=denominators[chosen].float().cpu().numpy(),
        squeezed_histogram=histogram.cpu().numpy().astype(np.int64),
    )


@dataclass(frozen=True)
class BatchResult:
    """A batch's results: one row per image (whole-image scores), one row per image and layer, and the alpha
    summaries by ``(image, layer, kind)``."""

    rows: list[dict[str, float | int]]
    layer_rows: dict[tuple[int, str], dict[str, float]]
    alphas: dict[tuple[int, str, ScoreKind], AlphaSummary]
    #: Deletion and insertion curves (probabilities) by ``(image, layer, kind, method)``, for the curve subset.
    curves: dict[tuple[int, str, ScoreKind, str], tuple[np.ndarray, np.ndarray]]


def true_class_log_probs(
    model: Classifier | Inference, inputs: Tensor, labels: Tensor, chunk: int | None = None
) -> Tensor:
    """Log-probability of each image's label: through ``model``'s :class:`~gradcam_study.models.inference.Inference`,
    or a classifier's eager network ``chunk`` images per forward pass."""
    forward = model if isinstance(model, Inference) else inference(model.network, chunk or len(inputs), optimise=False)
    return forward.log_softmax(inputs).gather(1, labels.view(-1, 1)).squeeze(1)


def pixel_probability(classifier: Classifier, forward: Inference | int) -> ProbabilityFunction:
    """``probability(pixels, labels)`` of :func:`~gradcam_study.metrics.deletion_insertion` for ``classifier``:
    pixels in [0, 1], normalised here, through ``forward`` (or the eager network, that many images per pass)."""
    model: Classifier | Inference = forward if isinstance(forward, Inference) else classifier
    chunk = None if isinstance(forward, Inference) else forward
    return lambda pixels, labels: true_class_log_probs(model, classifier.normalise(pixels), labels, chunk).exp()


def analyse_batch(
    classifier: Classifier,
    layers: Sequence[str],
    pixels: Tensor,
    labels: Tensor,
    image_ids: Tensor,
    score_kinds: tuple[ScoreKind, ...],
    alpha_sample_size: int,
    curve_images: Collection[int] = (),
    curve_steps: int = DEFAULT_STEPS,
    methods: Sequence[str] = METHODS,
    sweep_layers: Collection[str] = (),
    forward: Inference | None = None,
) -> BatchResult:
    """Everything the study keeps for a batch of images (``pixels`` in [0, 1], ``B x 3 x H x W``).

    One forward pass and one backward pass per score kind capture every layer in ``layers``; per
    layer and score kind the explanation maps of all methods then go through the network together
    (on a GPU in one call; on the CPU in chunks of the batch size, which measured faster there than
    larger calls). The images whose ids are in ``curve_images`` also get deletion and insertion curves of
    ``curve_steps`` intervals for every method, from the same heatmaps. ``methods`` are the methods explained
    with (all by default); heatmap correlations are kept for the pairs whose methods are both among them.
    The layers of ``sweep_layers`` are explained with the paper's three methods only and get no curves.
    ``forward`` is the forward pass of the explanation maps and curves (:func:`~gradcam_study.models.inference.
    inference`; by default the eager network, one batch per pass).
    """
    device = classifier.device
    pixels = pixels.to(device, non_blocking=True)
    labels = labels.to(device, non_blocking=True)
    inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
    captured = capture_layers(classifier.network, layers, inputs, labels, score_kinds)
    logits = captured.logits.float()
    true_log_prob = logits.log_softmax(dim=1).gather(1, labels.view(-1, 1)).squeeze(1)
    base: dict[str, Tensor] = {
        "predicted": logits.argmax(dim=1),
        "logit": logits.gather(1, labels.view(-1, 1)).squeeze(1),
        "probability": true_log_prob.exp(),
        "log_probability": true_log_prob,
    }
    ids = image_ids.tolist()
    size = (pixels.shape[-2], pixels.shape[-1])
    batch = len(ids)
    chunk = batch if device.type == "cpu" else batch * len(methods)
    forward = forward if forward is not None else inference(classifier.network, chunk, optimise=False)
    layer_rows: dict[tuple[int, str], dict[str, float]] = {}
    alphas: dict[tuple[int, str, ScoreKind], AlphaSummary] = {}
    curves: dict[tuple[int, str, ScoreKind, str], tuple[np.ndarray, np.ndarray]] = {}
    main_curve_positions = [position for position, image_id in enumerate(ids) if image_id in curve_images]
    for layer in layers:
        activations = captured.activations[layer]
        columns: dict[str, Tensor] = activation_statistics(activations)
        at_layer = [m for m in methods if m in PAPER_METHODS] if layer in sweep_layers else list(methods)
        pairs = [(a, b) for a, b in (*METHOD_PAIRS, *PIXEL_WISE_PAIRS) if a in at_layer and b in at_layer]
        curve_positions = [] if layer in sweep_layers else main_curve_positions
        for kind in score_kinds:
            gradients = captured.gradients[layer][kind]
            columns.update({alpha_column(kind, name): values
                            for name, values in sign_statistics(activations, gradients).items()})
            heatmaps = {m: normalised_heatmaps(activations, gradients, m) for m in at_layer}
            upsampled = {m: upsample(h, size) for m, h in heatmaps.items()}
            maps = torch.cat([explanation_maps(pixels, u, classifier.normalise) for u in upsampled.values()])
            log_probs = true_class_log_probs(forward, maps, labels.repeat(len(at_layer))).split(batch)
            for method, heatmap, log_prob in zip(heatmaps, heatmaps.values(), log_probs):
                columns[log_prob_column(kind, method)] = log_prob
                columns[constant_map_column(kind, method)] = (heatmap.flatten(1).amax(dim=1) == 0).float()
            for first, second in pairs:
                columns[correlation_column(kind, first, second)] = pearson_per_image(heatmaps[first], heatmaps[second])
                columns[top_overlap_column(kind, first, second)] = top_share_overlap(
                    upsampled[first], upsampled[second], TOP_SHARE)
            if curve_positions:
                chosen = torch.tensor(curve_positions, device=device)
                found = deletion_insertion(
                    pixel_probability(classifier, forward), pixels[chosen],
                    torch.cat([u[chosen] for u in upsampled.values()], dim=1), labels[chosen], curve_steps, chunk,
                )
                deletion, insertion = found.deletion.cpu().numpy(), found.insertion.cpu().numpy()
                deletion_auc, insertion_auc = found.deletion_auc.tolist(), found.insertion_auc.tolist()
                for row, position in enumerate(curve_positions):
                    values = layer_rows.setdefault((ids[position], layer), {})
                    for column, method in enumerate(at_layer):
                        curves[(ids[position], layer, kind, method)] = (deletion[row, column], insertion[row, column])
                        values[auc_column("deletion", kind, method)] = deletion_auc[row][column]
                        values[auc_column("insertion", kind, method)] = insertion_auc[row][column]
            for position, image_id in enumerate(ids):
                alphas[(image_id, layer, kind)] = summary = summarise_alphas(
                    activations[position], gradients[position], image_id, alpha_sample_size
                )
                layer_rows.setdefault((image_id, layer), {}).update(
                    {alpha_column(kind, name): value for name, value in summary.values.items()}
                )
        host = {name: values.cpu().tolist() for name, values in columns.items()}
        for position, image_id in enumerate(ids):
            layer_rows[(image_id, layer)].update({name: values[position] for name, values in host.items()})
    host = {name: values.cpu().tolist() for name, values in base.items()}
    rows = [
        {"image": image_id, "label": int(label), **{name: values[i] for name, values in host.items()}}
        for i, (image_id, label) in enumerate(zip(ids, labels.tolist()))
    ]
    return BatchResult(rows=rows, layer_rows=layer_rows, alphas=alphas, curves=curves)
