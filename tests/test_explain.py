"""explain(): the three heatmaps of a batch at any layer, from one capture, as the study computes them."""

from __future__ import annotations

import torch

from gradcam_study.explain import explain
from gradcam_study.methods import METHODS, normalised_heatmaps
from gradcam_study.models import load_classifier


def test_explain_gives_every_method_at_the_requested_layer() -> None:
    torch.manual_seed(0)
    classifier = load_classifier("efficientnet_lite0", pretrained=False)
    pixels = torch.rand(2, 3, 224, 224)
    for layer, size in ((None, (7, 7)), ("_blocks.4", (28, 28))):
        explained = explain(classifier, pixels, [1, 2], "post_softmax", layer=layer)
        assert explained.layer == (layer or "_avg_pooling:input")
        assert set(explained.heatmaps) == set(METHODS)
        for method, heatmap in explained.heatmaps.items():
            assert heatmap.shape == (2, *size)
            assert explained.upsampled[method].shape == (2, 224, 224)
            assert 0 <= heatmap.min() and heatmap.max() <= 1
            torch.testing.assert_close(heatmap, normalised_heatmaps(explained.activations, explained.gradients, method))
        assert explained.gradients is explained.captured.gradients["post_softmax"]
