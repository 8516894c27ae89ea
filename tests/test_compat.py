"""gradcam_study.compat.GradCAMPlus: pytorch-grad-cam's interface, the package's Grad-CAM+ (eq. 3)."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
import torch
from torch import nn

from gradcam_study.capture import capture
from gradcam_study.methods import class_activation_map, grad_cam_plus_weights, min_max_normalise


class SmallNet(nn.Module):
    """Two convolutions (gradients vary within the maps at ``features.3``), ReLU6, pooling and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(8, 6, 1), nn.BatchNorm2d(6), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.head(self.features(x))).flatten(1))


def test_import_error_names_the_missing_package(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pytorch_grad_cam", None)
    monkeypatch.setitem(sys.modules, "pytorch_grad_cam.base_cam", None)
    monkeypatch.delitem(sys.modules, "gradcam_study.compat", raising=False)
    with pytest.raises(ImportError, match=r"needs pytorch-grad-cam.*pip install grad-cam"):
        importlib.import_module("gradcam_study.compat")
    monkeypatch.delitem(sys.modules, "gradcam_study.compat", raising=False)


def our_grad_cam_plus(network, layer, inputs, targets):
    captured = capture(network, layer, inputs, torch.tensor(targets), ("pre_softmax",))
    raw = class_activation_map(captured.activations, grad_cam_plus_weights(captured.activations, captured.gradients["pre_softmax"]))
    return raw.numpy(), min_max_normalise(raw).numpy()


@pytest.mark.parametrize("layer", ["features.3", "head.2"])
def test_heatmap_equals_the_package_grad_cam_plus(layer) -> None:
    """At feature-map resolution, raw (after ReLU) and min-max scaled: GradCAMPlus == eq. 3 of the package."""
    pytest.importorskip("pytorch_grad_cam", reason="pytorch-grad-cam is not installed: pip install grad-cam==1.5.7")
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from gradcam_study.compat import GradCAMPlus

    network = SmallNet().eval()
    inputs = torch.randn(3, 3, 8, 8)
    targets = [1, 2, 3]
    module = network.get_submodule(layer)
    with GradCAMPlus(model=network, target_layers=[module]) as cam:
        outputs = cam.activations_and_grads(inputs)
        network.zero_grad()
        objectives = [ClassifierOutputTarget(t) for t in targets]
        sum(o(out) for o, out in zip(objectives, outputs)).backward()
        activations = cam.activations_and_grads.activations[0].numpy()
        gradients = cam.activations_and_grads.gradients[0].numpy()
        their_raw = np.maximum(cam.get_cam_image(inputs, module, objectives, activations, gradients), 0)
    our_raw, our_scaled = our_grad_cam_plus(network, layer, inputs, targets)
    assert our_raw.max() > 0, "a degenerate test: every map is zero"
    np.testing.assert_allclose(their_raw, our_raw, rtol=1e-5, atol=1e-5 * our_raw.max())
    # Min-max normalised as the study does (pytorch-grad-cam's own scaling adds 1e-7 to the maximum).
    np.testing.assert_allclose(min_max_normalise(torch.from_numpy(their_raw)).numpy(), our_scaled, atol=1e-5)


def test_call_gives_the_package_heatmap_upsampled_by_pytorch_grad_cam() -> None:
    """The public call (forward, backward, weights, ReLU, cv2 upsampling, scaling) on the package's raw map."""
    pytest.importorskip("pytorch_grad_cam", reason="pytorch-grad-cam is not installed: pip install grad-cam==1.5.7")
    from pytorch_grad_cam.utils.image import scale_cam_image
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from gradcam_study.compat import GradCAMPlus

    network = SmallNet().eval()
    inputs = torch.randn(2, 3, 8, 8)
    targets = [0, 4]
    with GradCAMPlus(model=network, target_layers=[network.features[3]]) as cam:
        theirs = cam(input_tensor=inputs, targets=[ClassifierOutputTarget(t) for t in targets])
    our_raw, _ = our_grad_cam_plus(network, "features.3", inputs, targets)
    expected = scale_cam_image(scale_cam_image(our_raw, (8, 8)))
    assert theirs.shape == (2, 8, 8)
    np.testing.assert_allclose(theirs, expected, atol=1e-5)


def test_weights_of_3d_maps_are_the_mean_of_positive_gradients() -> None:
    pytest.importorskip("pytorch_grad_cam", reason="pytorch-grad-cam is not installed: pip install grad-cam==1.5.7")
    from gradcam_study.compat import GradCAMPlus

    gradients = np.random.default_rng(0).normal(size=(2, 3, 4, 5, 6)).astype(np.float32)
    weights = GradCAMPlus.get_cam_weights(None, None, None, None, None, gradients)  # type: ignore[arg-type]
    np.testing.assert_allclose(weights, np.maximum(gradients, 0).mean(axis=(2, 3, 4)), rtol=1e-6)
