"""Agreement of Average Drop, Increase in Confidence, deletion and insertion with torchcam's metrics.

torchcam feeds its model the perturbed images as they are, so the classifier is wrapped to take pixels
in [0, 1] and normalise inside: both sides then work in pixel space, as eq. (15) does. Both are given
the same heatmaps (our Grad-CAM++ maps at feature-map resolution, through a stand-in for torchcam's CAM
extractor), so what is compared is the metrics alone. Pinned differences of definition:

- torchcam divides the drop by ``Y + 1e-7``; ours divides by ``Y``. On images whose true class has probability
  of at least 0.01 this moves a drop by at most 1e-5 relative, inside the tolerance.
- torchcam's insertion starts from the same baseline as its deletion (black by default); RISE's, and ours,
  from a blurred copy. Insertion is therefore compared with torchcam given our blur as its baseline.

The tolerance, 1e-4, covers float32 differences between batches of different composition. Curves have 8
steps rather than the default 16, to keep the test short; the step rule is the same for any count.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial

import pytest
import torch
from torch import nn

pytest.importorskip("torchcam")
from torchcam.metrics import ClassificationMetric, DeletionInsertionMetric  # noqa: E402

from gradcam_study.data import list_images  # noqa: E402
from gradcam_study.explain import explain, load_pixels  # noqa: E402
from gradcam_study.metrics import (  # noqa: E402
    average_drop,
    blurred,
    deletion_insertion,
    explanation_maps,
    increase_in_confidence,
)
from gradcam_study.models import load_classifier  # noqa: E402
from gradcam_study.study.analysis import pixel_probability, true_class_log_probs  # noqa: E402

TOLERANCE = 1e-4
STEPS = 8
METHOD = "grad_cam_plus_plus"


class PixelClassifier(nn.Module):
    """The classifier on pixels in [0, 1]: its normalisation inside, so torchcam perturbs pixels."""

    def __init__(self, classifier):
        super().__init__()
        self.network, self.normalise = classifier.network, classifier.normalise

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.network(self.normalise(pixels))


class GivenMaps:
    """torchcam's CAM-extractor protocol, answering with given heatmaps (``B x h x w``)."""

    def __init__(self, model: nn.Module, maps: torch.Tensor):
        self.model, self.maps = model, maps

    def __call__(self, class_idx=None, scores=None, normalized=True, **kwargs):
        return [self.maps]

    def fuse_cams(self, cams):
        return cams[0]

    @contextmanager
    def _hooks_off(self):
        yield


@pytest.fixture(scope="module")
def explained(imagenet_sample):
    classifier = load_classifier("efficientnet_lite0", pretrained=True, device="cpu")
    images = list_images(imagenet_sample)[::334][:3]
    pixels = load_pixels(classifier, [image.path for image in images])
    labels = torch.tensor([image.label for image in images])
    explanation = explain(classifier, pixels, labels, layer=classifier.spec.inner_layer)
    return classifier, pixels, labels, explanation


def test_average_drop_and_increase_in_confidence_agree(explained) -> None:
    classifier, pixels, labels, explanation = explained
    log_y = true_class_log_probs(classifier, classifier.normalise(pixels), labels, len(labels))
    assert log_y.exp().min() >= 0.01  # the images of the epsilon argument above
    maps = explanation_maps(pixels, explanation.upsampled[METHOD].unsqueeze(1), classifier.normalise)
    log_o = true_class_log_probs(classifier, maps, labels, len(labels))
    metric = ClassificationMetric(GivenMaps(PixelClassifier(classifier), explanation.heatmaps[METHOD]),
                                  partial(torch.softmax, dim=-1))
    metric.update(pixels, class_idx=labels.tolist())
    theirs = metric.summary()
    assert average_drop(log_y, log_o) / 100 == pytest.approx(theirs["avg_drop"], abs=TOLERANCE)
    assert increase_in_confidence(log_y, log_o) / 100 == pytest.approx(theirs["conf_increase"], abs=TOLERANCE)


@pytest.mark.parametrize("curve", ["deletion", "insertion"])
def test_deletion_and_insertion_areas_agree_image_by_image(explained, curve: str) -> None:
    classifier, pixels, labels, explanation = explained
    ours = deletion_insertion(pixel_probability(classifier, 16), pixels, explanation.upsampled[METHOD].unsqueeze(1),
                              labels, STEPS)
    our_areas = getattr(ours, f"{curve}_auc")[:, 0]
    baseline = None if curve == "deletion" else blurred
    for image in range(len(labels)):
        metric = DeletionInsertionMetric(
            GivenMaps(PixelClassifier(classifier), explanation.heatmaps[METHOD][image:image + 1]),
            partial(torch.softmax, dim=-1), steps=STEPS, baseline=baseline,
        )
        metric.update(pixels[image:image + 1], class_idx=[int(labels[image])])
        assert our_areas[image].item() == pytest.approx(metric.summary()[f"{curve}_auc"], abs=TOLERANCE), image
