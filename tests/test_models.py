"""The model registry: layers, shapes, weights from disk or a (local) server, and the offline error."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
from pathlib import Path

import pytest
import torch
from torch import nn

from gradcam_study.capture import capture_layers
from gradcam_study.methods import constant_within_maps, within_map_spread
from gradcam_study.models import (
    MODELS,
    WeightsUnavailableError,
    default_layers,
    last_feature_map,
    load_classifier,
    model_spec,
    register_module,
    torchvision_weights_loader,
    weights_missing,
)


@pytest.mark.parametrize(
    ("name", "layer", "maps"),
    [("vgg16", "features.29", (512, 14, 14)), ("resnet50", "layer4", (2048, 7, 7)),
     ("efficientnet_lite0", "_avg_pooling:input", (1280, 7, 7))],
)
def test_default_layers_give_the_last_feature_maps(name: str, layer: str, maps: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    classifier = load_classifier(name, pretrained=False)
    assert classifier.spec.layer == layer
    pixels = torch.rand(2, 3, 224, 224)
    captured = capture_layers(classifier.network, [layer], classifier.normalise(pixels), torch.tensor([1, 2])).layer(layer)
    assert captured.activations.shape == (2, *maps)
    assert captured.gradients["pre_softmax"].shape == (2, *maps)
    assert captured.logits.shape == (2, 1000)


def test_vgg16_layer_is_the_relu_after_the_last_convolution() -> None:
    network = load_classifier("vgg16", pretrained=False).network
    assert isinstance(network.get_submodule("features.28"), nn.Conv2d)
    assert isinstance(network.get_submodule("features.29"), nn.ReLU)


def test_default_layers_are_the_last_map_and_the_inner_layer() -> None:
    assert default_layers(model_spec("efficientnet_lite0")) == ("_avg_pooling:input", "_blocks.15")
    assert default_layers(model_spec("vgg16")) == ("features.29",)


@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"])
def test_efficientnet_lite_stages_end_at_the_last_block_of_each_stage(name: str) -> None:
    """A stage's blocks share their output width; each stage's last block is the one before the width changes."""
    spec = model_spec(name)
    blocks = spec.architecture()._blocks
    widths = [block._block_args.output_filters for block in blocks]
    last_of_each = [i for i in range(len(blocks)) if i == len(blocks) - 1 or widths[i + 1] != widths[i]]
    assert spec.stages == tuple(f"_blocks.{i}" for i in last_of_each)
    assert len(spec.stages) == 7 and spec.inner_layer == spec.stages[-1]


def test_vgg16_stages_are_the_relu_closing_each_block() -> None:
    network = load_classifier("vgg16", pretrained=False).network
    for stage in MODELS["vgg16"].stages:
        index = int(stage.split(".")[1])
        assert isinstance(network.features[index], nn.ReLU) and isinstance(network.features[index + 1], nn.MaxPool2d)


@pytest.mark.parametrize("name", ["efficientnet_lite1", "efficientnet_lite2"])
def test_larger_efficientnet_lites_load_their_packaged_weights_at_their_native_size(name: str) -> None:
    from PIL import Image

    classifier = load_classifier(name)
    native = {"efficientnet_lite1": 240, "efficientnet_lite2": 260}[name]
    assert classifier.to_pixels(Image.new("RGB", (500, 400))).shape == (3, native, native)
    assert weights_missing(classifier.spec) is None
    with torch.no_grad():
        logits = classifier.network(classifier.normalise(torch.rand(1, 3, native, native)))
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()


def test_missing_torchvision_weights_are_reported_without_download(tmp_path: Path) -> None:
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path))
    try:
        sentence = weights_missing(MODELS["vgg16"])
        # The file and where it goes, but not this machine's path: the book prints the sentence.
        assert "put vgg16-397923af.pth in the checkpoints folder" in sentence and str(tmp_path) not in sentence
    finally:
        torch.hub.set_dir(previous)


def test_to_pixels_resizes_crops_and_keeps_unit_range() -> None:
    from PIL import Image

    classifier = load_classifier("efficientnet_lite0", pretrained=False)
    pixels = classifier.to_pixels(Image.new("RGB", (10, 10), (255, 0, 0)))
    assert pixels.shape == (3, 224, 224)
    assert pixels.min() >= 0 and pixels.max() <= 1


def test_efficientnet_lite0_loads_its_packaged_weights() -> None:
    classifier = load_classifier("efficientnet_lite0")
    assert classifier.spec.mean == (0.498, 0.498, 0.498)
    assert not any(p.requires_grad for p in classifier.network.parameters())


def test_unknown_model() -> None:
    with pytest.raises(ValueError, match="known: efficientnet_lite0"):
        load_classifier("alexnet")


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)


def serve_bytes(payload: bytes) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


@pytest.fixture
def hub_dir(tmp_path: Path):
    """torch's hub folder moved into ``tmp_path`` for the test, and put back after."""
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path / "hub"
    torch.hub.set_dir(previous)


def test_weights_download_from_a_server_and_are_hash_checked(hub_dir: Path) -> None:
    reference = TinyNet()
    buffer = io.BytesIO()
    torch.save(reference.state_dict(), buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest()[:8]
    server, port = serve_bytes(payload)
    try:
        network = TinyNet()
        torchvision_weights_loader(f"http://127.0.0.1:{port}/tiny-{digest}.pth")(network)
        torch.testing.assert_close(network.linear.weight, reference.linear.weight)
        assert (hub_dir / "checkpoints" / f"tiny-{digest}.pth").is_file()
        with pytest.raises(RuntimeError, match="invalid hash value"):
            torchvision_weights_loader(f"http://127.0.0.1:{port}/tiny-00000000.pth")(TinyNet())
    finally:
        server.shutdown()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_offline_weights_error_says_where_to_put_the_file(hub_dir: Path) -> None:
    with pytest.raises(WeightsUnavailableError) as error:
        torchvision_weights_loader(f"http://127.0.0.1:{closed_port()}/vgg16-397923af.pth")(TinyNet())
    message = str(error.value)
    assert str(hub_dir / "checkpoints" / "vgg16-397923af.pth") in message
    assert "efficientnet_lite0" in message


def test_registry_names_the_five_models() -> None:
    assert set(MODELS) == {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "vgg16", "resnet50"}


@pytest.mark.parametrize("name", ["efficientnet_lite0", "resnet50"])
def test_default_layer_gradients_are_constant_per_map_and_inner_layer_gradients_are_not(name: str) -> None:
    torch.manual_seed(0)
    classifier = load_classifier(name, pretrained=False)
    spec = classifier.spec
    inputs = classifier.normalise(torch.rand(1, 3, 224, 224))
    for kind in ("pre_softmax", "post_softmax"):
        captured = capture_layers(classifier.network, [spec.layer, spec.inner_layer], inputs, torch.tensor([3]), (kind,))
        last, inner = captured.gradients[spec.layer][kind], captured.gradients[spec.inner_layer][kind]
        if kind == "post_softmax" and inner.abs().max() == 0:
            continue  # random weights can saturate the softmax: no post-softmax gradient to look at
        assert constant_within_maps(last).all()
        assert not constant_within_maps(inner).any()
        assert (within_map_spread(inner) > 1e-2 * inner.abs().amax()).all()
    assert MODELS["vgg16"].inner_layer is None


def test_random_weights_are_the_same_every_time() -> None:
    first = load_classifier("efficientnet_lite0", pretrained=False).network.state_dict()
    torch.manual_seed(123)
    second = load_classifier("efficientnet_lite0", pretrained=False).network.state_dict()
    assert all(torch.equal(first[key], second[key]) for key in first)


@pytest.mark.parametrize(("builder", "layer"), [("vgg16", "features.29"), ("resnet18", "layer4"),
                                                 ("mobilenet_v3_small", "features"), ("densenet121", "features")])
def test_the_last_feature_map_is_grad_cams_usual_layer(builder: str, layer: str) -> None:
    from torchvision import models as tv_models

    with torch.device("meta"):
        network = tv_models.get_model(builder)
    assert last_feature_map(network) == layer


def test_any_torchvision_classifier_by_name_with_its_weights_enum() -> None:
    spec = model_spec("torchvision:resnet18:IMAGENET1K_V1")
    assert spec.layer == "layer4" and (spec.resize, spec.crop) == (256, 224) and spec.weights_url.endswith(".pth")
    assert model_spec("torchvision:resnet18").weights_url == spec.weights_url  # DEFAULT is IMAGENET1K_V1
    assert model_spec("torchvision:efficientnet_b1:IMAGENET1K_V2").crop == 240
    classifier = load_classifier("torchvision:resnet18", pretrained=False)
    captured = capture_layers(classifier.network, [spec.layer], torch.rand(1, 3, 224, 224), torch.tensor([3]))
    assert captured.layer(spec.layer).activations.shape == (1, 512, 7, 7)


@pytest.mark.parametrize(("name", "message"), [
    ("torchvision:resnt18", "did you mean resnet18"),
    ("torchvision:resnet18:IMAGENET1K_V9", "choices: IMAGENET1K_V1"),
    ("resnet18", "torchvision:<name>"),
])
def test_a_wrong_torchvision_name_or_weights_is_one_clear_error(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model_spec(name)


class TwoStageNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def test_a_users_module_is_registered_with_its_transform_and_keyed_by_its_weights() -> None:
    torch.manual_seed(0)
    network = TwoStageNet()
    to_pixels = lambda image: torch.zeros(3, 32, 32)  # noqa: E731
    spec = register_module("tiny_test_net", network, to_pixels=to_pixels, normalise=lambda x: x * 2, crop=32)
    try:
        assert spec.layer == "body" and model_spec("tiny_test_net") is spec and weights_missing(spec) is None
        classifier = load_classifier("tiny_test_net", pretrained=False)
        # The user's weights, in a copy: the user's own module is neither moved nor frozen.
        assert torch.equal(classifier.network.state_dict()["head.2.weight"], network.head[2].weight)
        assert classifier.network is not network and network.head[2].weight.requires_grad
        assert classifier.to_pixels is to_pixels and torch.equal(classifier.normalise(torch.ones(1)), torch.full((1,), 2.0))
        with torch.no_grad():
            network.head[2].weight.add_(1)
        assert register_module("tiny_test_net", network, "body").weights_digest != spec.weights_digest
    finally:
        MODELS.pop("tiny_test_net", None)
    with pytest.raises(ValueError, match="another name"):
        register_module("vgg16", network)
