"""Agreement with pytorch-grad-cam's GradCAM and GradCAMPlusPlus on the same model, layer, images and targets.

Compared at feature-map resolution (the libraries upsample differently), before and after
min-max normalisation; pytorch-grad-cam adds 1e-6 to the Grad-CAM++ denominator, so the
same epsilon is passed here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("pytorch_grad_cam")
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus  # noqa: E402
from pytorch_grad_cam.utils.image import scale_cam_image  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

from gradcam_study.capture import capture  # noqa: E402
from gradcam_study.explain import load_pixels  # noqa: E402
from gradcam_study.data import list_images  # noqa: E402
from gradcam_study.methods import (  # noqa: E402
    class_activation_map,
    grad_cam_plus_plus_weights,
    grad_cam_weights,
    min_max_normalise,
)
from gradcam_study.models import load_classifier  # noqa: E402

PYTORCH_GRAD_CAM_EPSILON = 1e-6


def their_maps(cam_class, network, layer, inputs, targets):
    """pytorch-grad-cam's maps at feature-map resolution: raw (after its ReLU) and min-max scaled."""
    cam = cam_class(model=network, target_layers=[layer])
    outputs = cam.activations_and_grads(inputs)
    network.zero_grad()
    sum(ClassifierOutputTarget(t)(o) for t, o in zip(targets, outputs)).backward()
    activations = cam.activations_and_grads.activations[0].cpu().numpy()
    gradients = cam.activations_and_grads.gradients[0].cpu().numpy()
    targets_objects = [ClassifierOutputTarget(t) for t in targets]
    raw = np.maximum(cam.get_cam_image(inputs, layer, targets_objects, activations, gradients), 0)
    cam.activations_and_grads.release()
    return raw, scale_cam_image(raw)


def our_maps(weight_function, network, layer, inputs, targets, **kwargs):
    captured = capture(network, layer, inputs, torch.tensor(targets), ("pre_softmax",))
    weights = weight_function(captured.activations, captured.gradients["pre_softmax"], **kwargs)
    raw = class_activation_map(captured.activations, weights)
    return raw.numpy(), min_max_normalise(raw).numpy()


def assert_agree(network, layer, inputs, targets) -> None:
    for cam_class, weight_function, kwargs in (
        (GradCAM, grad_cam_weights, {}),
        (GradCAMPlusPlus, grad_cam_plus_plus_weights, {"epsilon": PYTORCH_GRAD_CAM_EPSILON}),
    ):
        their_raw, their_scaled = their_maps(cam_class, network, layer, inputs, targets)
        our_raw, our_scaled = our_maps(weight_function, network, layer, inputs, targets, **kwargs)
        assert our_raw.max() > 0, "a degenerate test: every map is zero"
        np.testing.assert_allclose(our_raw, their_raw, rtol=1e-5, atol=1e-5 * their_raw.max())
        np.testing.assert_allclose(our_scaled, their_scaled, atol=1e-5)


def test_agreement_on_resnet50_with_random_weights() -> None:
    torch.manual_seed(0)
    classifier = load_classifier("resnet50", pretrained=False)
    network = classifier.network.float()
    network.requires_grad_(True)  # pytorch-grad-cam's backward hooks need a graph through the layer
    inputs = classifier.normalise(torch.rand(2, 3, 224, 224))
    # Random weights: the top class is one whose Grad-CAM map is not all clipped by the ReLU.
    targets = network(inputs).argmax(dim=1).tolist()
    assert_agree(network, network.layer4, inputs, targets)


def test_agreement_on_efficientnet_lite0_with_sample_images(imagenet_sample) -> None:
    classifier = load_classifier("efficientnet_lite0")
    network = classifier.network
    network.requires_grad_(True)
    images = list_images(imagenet_sample)[::250]
    inputs = classifier.normalise(load_pixels(classifier, [i.path for i in images]))
    # The batch-normalised head output: a module output used once, which both libraries can hook.
    assert_agree(network, network._bn1, inputs, [i.label for i in images])
