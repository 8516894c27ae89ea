"""Heatmaps of every method for a few images, from one capture: what the book's figures draw.

>>> from gradcam_study.models import load_classifier
>>> classifier = load_classifier("efficientnet_lite0", pretrained=False)   # doctest: +SKIP
>>> explained = explain(classifier, pixels, [281], layer="_blocks.15")       # doctest: +SKIP
>>> explained.upsampled["grad_cam_plus"].shape                               # doctest: +SKIP
torch.Size([1, 224, 224])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from pathlib import Path

import torch
from torch import Tensor

from .capture import Capture, ScoreKind, capture_layers
from .data import load_rgb
from .methods import METHODS, normalised_heatmaps, upsample
from .models import Classifier

if TYPE_CHECKING:
    from .study.results import LayerResults


@dataclass(frozen=True)
class Explanation:
    """A batch explained at one layer: ``pixels`` (``B x 3 x H x W`` in [0, 1]), the capture, and per method
    the min-max normalised heatmaps at feature-map resolution (``B x h x w``) and upsampled
    to the image (``B x H x W``)."""

    pixels: Tensor
    targets: Tensor
    score_kind: ScoreKind
    layer: str
    captured: Capture
    heatmaps: dict[str, Tensor]
    upsampled: dict[str, Tensor]

    @property
    def activations(self) -> Tensor:
        return self.captured.activations

    @property
    def gradients(self) -> Tensor:
        return self.captured.gradients[self.score_kind]


def load_pixels(classifier: Classifier, paths: Sequence[str | Path]) -> Tensor:
    """Images at ``paths`` as the classifier's ``B x 3 x H x W`` pixels in [0, 1]."""
    return torch.stack([classifier.to_pixels(load_rgb(path)) for path in paths])


def explain(
    classifier: Classifier,
    pixels: Tensor,
    targets: Sequence[int] | Tensor,
    score_kind: ScoreKind = "pre_softmax",
    layer: str | None = None,
) -> Explanation:
    """The heatmaps of every method (:data:`~gradcam_study.methods.METHODS`: the paper's three, HiResCAM and
    LayerCAM) of ``targets`` (one class per image) at ``layer`` (a layer key; default: the model's last map), from
    one capture."""
    layer = layer or classifier.spec.layer
    device = classifier.device
    pixels = pixels.to(device)
    targets = torch.as_tensor(targets, dtype=torch.long, device=device)
    inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
    captured = capture_layers(classifier.network, [layer], inputs, targets, (score_kind,)).layer(layer)
    heatmaps = {m: normalised_heatmaps(captured.activations, captured.gradients[score_kind], m) for m in METHODS}
    size = (pixels.shape[-2], pixels.shape[-1])
    upsampled = {m: upsample(h, size).squeeze(1) for m, h in heatmaps.items()}
    return Explanation(pixels.cpu(), targets.cpu(), score_kind, layer, captured, heatmaps, upsampled)


def explain_study_image(
    results: LayerResults,
    image: int,
    score_kind: ScoreKind = "pre_softmax",
    classifier: Classifier | None = None,
    target: int | None = None,
) -> Explanation:
    """One image of a study explained live, as the study explained it: at the study's layer, for the image's true
    class (or ``target``), every method's heatmap from one capture. The chapters' live examples use it.

    >>> results = book.study("main").at()                                   # doctest: +SKIP
    >>> explained = explain_study_image(results, results.typical_image())   # doctest: +SKIP
    >>> nonzero_alphas(explained.activations, explained.gradients).alphas   # doctest: +SKIP
    """
    return explain_study_images(results, [image], score_kind, classifier, None if target is None else [target])


def explain_study_images(
    results: LayerResults,
    images: Sequence[int],
    score_kind: ScoreKind = "pre_softmax",
    classifier: Classifier | None = None,
    targets: Sequence[int] | None = None,
) -> Explanation:
    """Several images of a study (indices of ``results.images``) explained live in one batch, as
    :func:`explain_study_image` explains one: at the study's layer, for each image's true class (or ``targets``).

    >>> explained = explain_study_images(results, [3, 8])                  # doctest: +SKIP
    >>> explained.heatmaps["grad_cam"].shape[0]                             # doctest: +SKIP
    2
    """
    classifier = classifier or results.load_classifier()
    pixels = load_pixels(classifier, [results.image_path(image) for image in images])
    labels = [int(results.images.loc[image, "label"]) for image in images] if targets is None else list(targets)
    return explain(classifier, pixels, labels, score_kind=score_kind, layer=results.layer)


@dataclass(frozen=True)
class ImageExplanation:
    """One image explained: its :class:`Explanation` (a batch of one), the class explained (the network's top
    class unless one was asked for) and its probability, and the alpha statistics of the image
    (:func:`~gradcam_study.study.analysis.summarise_alphas`' values: ``alpha_count``, quantiles, extremes)."""

    path: Path
    explanation: Explanation
    target: int
    probability: float
    alphas: dict[str, float]


def explain_image(
    classifier: Classifier,
    path: str | Path,
    score_kind: ScoreKind = "pre_softmax",
    layer: str | None = None,
    target: int | None = None,
) -> ImageExplanation:
    """Explain the image at ``path``: every method's heatmap of ``target`` (default: the top class) at ``layer``,
    and the image's alpha summary. Raises :class:`OSError` for an unreadable image.

    >>> found = explain_image(load_classifier("vgg16", pretrained=False), "dog.jpg")   # doctest: +SKIP
    >>> found.alphas["alpha_count"], found.explanation.upsampled["grad_cam"].shape       # doctest: +SKIP
    """
    from .study.analysis import summarise_alphas

    pixels = load_pixels(classifier, [path])
    if target is None:
        with torch.no_grad():
            logits = classifier.network(classifier.normalise(pixels.to(classifier.device)))
        target = int(logits.argmax(dim=1).item())
    explained = explain(classifier, pixels, [target], score_kind, layer)
    probability = float(explained.captured.probabilities[0, target])
    summary = summarise_alphas(explained.activations[0], explained.gradients[0], image_seed=0, sample_size=1)
    return ImageExplanation(Path(path), explained, target, probability, summary.values)
