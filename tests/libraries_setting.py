"""The setting the tests of :mod:`gradcam_study.libraries` and :mod:`gradcam_study.methods.candidates` share.

A random-weight network whose inner layer ``features.3`` has gradients that vary within the maps, at a scale
(|g| ~ 1e-3) where every candidate differs from every other by more than 10 x MATCH_TOLERANCE; at ``pool:input``
(the map that feeds global average pooling and the linear head) the gradient is constant within each map, so eq. 9
and the "sum" denominator coincide there. Test modules import the fixtures by name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision import transforms

from gradcam_study import libraries as L
from gradcam_study.capture import capture_layers
from gradcam_study.models import Classifier, ModelSpec
from gradcam_study.study import LayerResults, StudyConfig, analyse_batch
from gradcam_study.study.provenance import Provenance

INNER, LAST = "features.3", "pool:input"


class SmallNet(nn.Module):
    """conv-ReLU-conv-ReLU (``features.3``), a 1x1 convolution and batch norm, ReLU6 applied functionally (as
    EfficientNet-Lite does: its output is only the input of ``pool``), global average pooling, a linear head."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(8, 6, 1), nn.BatchNorm2d(6))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(nn.functional.relu6(self.head(self.features(x)))).flatten(1))


@pytest.fixture(scope="module")
def setting():
    """``(network, inputs, targets, reference)``: ``reference[layer]`` is the package's float64 ``(A, g)``."""
    network = SmallNet().eval()
    network.requires_grad_(False)  # as the study's classifiers: libraries must not need parameter gradients
    torch.manual_seed(1)
    inputs, targets = torch.randn(3, 3, 8, 8), torch.tensor([1, 2, 3])
    captured = capture_layers(network, [INNER, LAST], inputs, targets, ("pre_softmax",))
    reference = {
        layer: (captured.activations[layer].double(), captured.gradients[layer]["pre_softmax"].double())
        for layer in (INNER, LAST)
    }
    return network, inputs, targets, reference


def audited(setting, library: str, method: str, layer: str) -> L.MatchReport:
    """The match report of ``library``'s ``method`` at ``layer`` of the setting; the run must succeed."""
    network, inputs, targets, reference = setting
    run = L.compare(L.run_library(L.LIBRARIES[library], method, network, layer, inputs, targets), *reference[layer])
    assert run.status == "ok", run.status
    return run.match


def require(module: str, pip: str) -> None:
    pytest.importorskip(module, reason=f"{module} is not installed: pip install {pip}")


def _failing(method: str) -> L.Adapter:
    def adapter(network, layer, inputs, targets):
        raise RuntimeError(f"cannot hook {layer}\nsecond line")

    return adapter


#: A library that is not installed, and one whose adapters raise (with a two-line message).
ABSENT = L.Library("absent", "no-such-distribution-xyz", "no_such_module_xyz", "9.9", {"grad_cam_plus_plus": "Absent"},
                   {"grad_cam_plus_plus": _failing("grad_cam_plus_plus")})
RAISING = L.Library("raising", "torch", "torch", None, {"grad_cam_plus_plus": "Raising", "grad_cam": "Raising"},
                    {"grad_cam_plus_plus": _failing("grad_cam_plus_plus"), "grad_cam": _failing("grad_cam")})


@pytest.fixture(scope="module")
def synthetic_results(tmp_path_factory, setting):
    """A LayerResults of four images at features.3 of SmallNet, its per-image rows computed by the study's own
    ``analyse_batch``, and the classifier: the audit end to end without a study cache."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(folder / f"image{i}.png")
    network = setting[0]
    spec = ModelSpec(name="small", architecture=SmallNet, load_weights=lambda _n: None, layer=LAST,
                     mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), resize=8, crop=8)
    classifier = Classifier(spec, network, transforms.ToTensor(), transforms.Normalize(spec.mean, spec.std))
    pixels = torch.stack([transforms.ToTensor()(Image.open(folder / f"image{i}.png").convert("RGB")) for i in range(4)])
    labels = torch.tensor([1, 2, 3, 4])
    batch = analyse_batch(classifier, [INNER], pixels, labels, torch.arange(4), ("pre_softmax",), 8)
    images = pd.DataFrame(batch.rows).set_index("image").join(
        pd.DataFrame.from_dict({i: row for (i, _), row in batch.layer_rows.items()}, orient="index"))
    images["path"] = [f"image{i}.png" for i in range(4)]
    images["probability"] = 0.9  # every image kept
    provenance = Provenance("test", "small", "features.3", "synthetic", 4, "cpu")
    config = StudyConfig(score_kinds=("pre_softmax",))
    results = LayerResults("key", config, INNER, provenance, images, pd.DataFrame(), Path("unused"), folder)
    return results, classifier


@pytest.fixture(scope="module")
def small_audit(synthetic_results):
    """The audit of the synthetic results with the package (control), ABSENT and RAISING, on three images."""
    results, classifier = synthetic_results
    libraries = {"gradcam_study": L.LIBRARIES["gradcam_study"], "absent": ABSENT, "raising": RAISING}
    return L.audit_layer(results, classifier, L.audit_images(results, limit=3), libraries, resamples=50)
