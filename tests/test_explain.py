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


def test_explain_image_explains_the_top_class_with_its_alpha_summary(imagenet_sample) -> None:
    from gradcam_study.explain import explain_image
    from gradcam_study.presentation.plots import image_explanation_figure

    classifier = load_classifier("torchvision:resnet18", pretrained=False)
    path = sorted(imagenet_sample.glob("n*_*.JPEG"))[0]
    found = explain_image(classifier, path)
    logits = found.explanation.captured.logits
    assert found.target == int(logits.argmax()) and 0 < found.probability <= 1
    assert found.explanation.layer == "layer4" and set(found.explanation.upsampled) == set(METHODS)
    # ResNet's last map feeds average pooling and a linear layer: one gradient, hence one alpha, per map.
    assert found.alphas["gradient_constant"] == 1.0 and found.alphas["alpha_count"] > 0
    chosen = explain_image(classifier, path, "post_softmax", "layer3", target=7)
    assert chosen.target == 7 and chosen.explanation.heatmaps["grad_cam"].shape == (1, 14, 14)
    figure = image_explanation_figure(found, "a title", "a heading")
    assert len(figure.axes) == 1 + len(METHODS) and any("non-zero" in t.get_text() for t in figure.texts)
