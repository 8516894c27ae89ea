"""What a study run is: its configuration, its profiles, and the key its results are stored under."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from .. import __version__, settings
from ..capture import SCORE_KINDS, ScoreKind, TappedLayer, resolve_layers
from ..data import LabelledImage
from ..methods import METHODS, PAPER_METHODS
from ..metrics import DEFAULT_STEPS
from ..models import Classifier, default_layers, load_classifier, model_spec

#: Studies of at least this many images compile their forward passes unless told otherwise (StudyConfig.optimised).
COMPILE_FROM_IMAGES = 128

#: Images whose post-softmax probability of the true class exceeds this are kept (section 4).
#: The paper's own value is not stated in the text available to this book; 0.5 is this book's default.
DEFAULT_THRESHOLD = 0.5
if settings.rehearsal_images() is not None:
    # A rehearsal's random weights give every true class a probability near 1/1000, so that no image would pass
    # and every chapter's table would be refused; a rehearsal keeps every image (its results are no results).
    DEFAULT_THRESHOLD = 0.0

#: The package's source files that decide a study's per-image results: capture, methods, metrics,
#: models, decoding (and the class list), and the per-batch analysis. Their bytes are part of the key.
RESULT_SOURCES = ("capture", "methods", "metrics", "models", "data/images.py", "data/imagenet_classes.tsv",
                  "study/analysis.py")


@dataclass(frozen=True)
class StudyConfig:
    """Everything that decides a study's per-image results.

    ``layers`` holds layer keys (``"_blocks.15"``, ``"_avg_pooling:input"``); ``None`` means the
    model's defaults (its last map and its inner layer). All layers come from one pass per batch.
    ``limit`` keeps that many images spread evenly over the folder's order (so a small run still
    spans the classes). The score threshold is not here: it filters results after the fact.
    """

    model: str = "efficientnet_lite0"
    layers: tuple[str, ...] | None = None
    score_kinds: tuple[ScoreKind, ...] = SCORE_KINDS
    limit: int | None = None
    pretrained: bool = True
    allow_tf32: bool = False
    #: Non-zero alphas drawn per image, layer and score kind for the figures (seeded, with replacement, so
    #: that every image weighs the same in a pooled sample).
    alpha_sample_size: int = 256
    #: Images that also get deletion and insertion curves (about 2 (steps - 1) forward passes per image, layer,
    #: score kind and method): an evenly spread subset of the study's images; None for all, 0 for none.
    curve_limit: int | None = None
    #: Intervals of each deletion and insertion curve (it has ``curve_steps + 1`` points).
    curve_steps: int = DEFAULT_STEPS
    #: The methods explained with: every method by default; at least the paper's three, which every table needs.
    methods: tuple[str, ...] = METHODS
    #: More layers from the same pass (the depth sweep's), explained with the paper's three methods and without
    #: deletion/insertion curves; a layer already in ``layers`` keeps its methods and curves.
    sweep_layers: tuple[str, ...] = ()
    #: Explanation-map and curve forward passes through ``torch.compile`` where it works (results within
    #: :data:`~gradcam_study.models.inference.TOLERANCE` of the eager network's); False runs everything eagerly;
    #: None (the default) compiles for studies of at least :data:`COMPILE_FROM_IMAGES` images, where the
    #: compilation (seconds to minutes on a CPU) pays for itself.
    optimised: bool | None = None

    def compiles(self, images: int) -> bool:
        """Whether a study of this configuration over ``images`` images compiles its forward passes."""
        return self.optimised if self.optimised is not None else images >= COMPILE_FROM_IMAGES

    def main_layers(self) -> tuple[str, ...]:
        """The layers explained with every method of :attr:`methods` (and curves): ``layers``, or the model's
        defaults (its last map and its inner layer)."""
        return tuple(self.layers) if self.layers else default_layers(model_spec(self.model))

    def resolved_layers(self) -> tuple[str, ...]:
        """Every layer key this study explains: :meth:`main_layers`, then the other :attr:`sweep_layers`."""
        return tuple(dict.fromkeys((*self.main_layers(), *self.sweep_layers)))

    def only_swept(self) -> tuple[str, ...]:
        """The layers explained with the paper's three methods only (the sweep layers not among the main ones)."""
        main = set(self.main_layers())
        return tuple(layer for layer in self.resolved_layers() if layer not in main)

    def methods_at(self, layer: str) -> tuple[str, ...]:
        """The methods explained at ``layer``: :attr:`methods` at a main layer, the paper's three at a swept one."""
        if layer in self.only_swept():
            return tuple(m for m in self.methods if m in PAPER_METHODS)
        return self.methods

    def classifier(self, device: torch.device | str = "cpu") -> Classifier:
        """The classifier this configuration explains (same weights), on ``device``: the one way to build it."""
        return load_classifier(self.model, pretrained=self.pretrained, device=device)

    def validate(self) -> None:
        """Refuse, before any work, an unknown model, an empty or repeated layer list, an unknown layer, a
        non-positive limit or sample size: each with one clear message listing the valid choices."""
        spec = model_spec(self.model)
        if self.limit is not None and self.limit <= 0:
            raise ValueError(f"The image limit must be positive, got {self.limit}.")
        if self.alpha_sample_size <= 0:
            raise ValueError(f"The alpha sample size must be positive, got {self.alpha_sample_size}.")
        if self.curve_limit is not None and self.curve_limit < 0:
            raise ValueError(f"The number of images with deletion/insertion curves cannot be negative, got "
                             f"{self.curve_limit} (0 computes none).")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not set(PAPER_METHODS) <= set(self.methods) or len(set(self.methods)) != len(self.methods):
            raise ValueError(f"The methods must be distinct, known ({', '.join(METHODS)}) and include the paper's "
                             f"three ({', '.join(PAPER_METHODS)}); got {', '.join(self.methods)}.")
        if self.curve_steps < 1:
            raise ValueError(f"The number of deletion/insertion steps must be at least 1, got {self.curve_steps}.")
        if self.layers is not None and not self.layers:
            raise ValueError("The layer list is empty; name at least one layer or leave it unset for the model's.")
        if len(set(self.sweep_layers)) != len(self.sweep_layers):
            raise ValueError(f"A sweep layer is named more than once: {', '.join(self.sweep_layers)}.")
        with torch.device("meta"):
            # Built on the meta device: only the module tree is needed, no weights, no memory.
            network = spec.architecture()
        # The main layers alone first: a layer named twice there is refused (the union drops repeats).
        resolve_layers(network, [TappedLayer.parse(key) for key in self.main_layers()])
        resolve_layers(network, [TappedLayer.parse(key) for key in self.resolved_layers()])


#: The quick profile's deletion/insertion subset (evenly spread): the fewest images the book draws a verdict from
#: curves on, and about what two CPU cores compute within the book's time budget.
QUICK_CURVE_LIMIT = 200


@dataclass(frozen=True)
class Profile:
    """A named study: configuration, which data set it fetches when none is configured, and its device.

    ``paper_setting`` says whether this profile is the paper's own setting, so that a difference from the
    paper's values means something.
    """

    name: str
    config: StudyConfig
    dataset: str
    dataset_label: str
    device: str | None
    batch_size: int
    description: str = field(default="")
    paper_setting: bool = False
    #: The images of a rehearsal (:func:`rehearsal`), None for a real run.
    rehearsal: int | None = None


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        config=StudyConfig(model="efficientnet_lite0", curve_limit=QUICK_CURVE_LIMIT),
        dataset="imagenet-sample",
        dataset_label="ImageNet sample (1000 images, one per class)",
        device="cpu",
        batch_size=16,
        description="EfficientNet-Lite0 on the 1000-image ImageNet sample, on the CPU: runs offline.",
    ),
    "paper": Profile(
        name="paper",
        config=StudyConfig(model="vgg16", layers=("features.29",), limit=10_000),
        dataset="imagenetv2-matched-frequency",
        dataset_label="ImageNetV2 MatchedFrequency (10,000 images)",
        device=None,
        batch_size=64,
        description="The paper's setting, as near as torchvision allows: VGG16 (block5_conv3; torchvision's weights "
        "with ImageNet mean/std, not the paper's Keras model with Caffe preprocessing) on ImageNetV2 "
        "MatchedFrequency, on CUDA when present.",
        paper_setting=True,
    ),
}


def profile(name: str) -> Profile:
    """The named profile; during a rehearsal (``GRADCAM_STUDY_REHEARSAL``), its :func:`rehearsal`."""
    try:
        chosen = PROFILES[name]
    except KeyError:
        raise ValueError(f"Unknown profile {name!r}; known: {', '.join(PROFILES)}.") from None
    images = settings.rehearsal_images()
    return chosen if images is None else rehearsal(chosen, images)


#: Deletion/insertion intervals in a rehearsal: the curves' code path at a tenth of their forward passes.
REHEARSAL_CURVE_STEPS = 2


def rehearsal(chosen: Profile, images: int) -> Profile:
    """``chosen`` rehearsed: the same studies, layers, data layout and code paths, with random weights on
    ``images`` images (the sweeps too) and curves of :data:`REHEARSAL_CURVE_STEPS` steps (on as many images as
    the profile's), so that every chapter runs in minutes on a CPU without the weights.

    >>> rehearsed = rehearsal(PROFILES["paper"], 4)
    >>> rehearsed.config.limit, rehearsed.config.pretrained, rehearsed.paper_setting
    (4, False, False)
    """
    return replace(
        chosen,
        config=replace(chosen.config, limit=images, pretrained=False,
                       curve_steps=min(chosen.config.curve_steps, REHEARSAL_CURVE_STEPS)),
        description=f"{settings.rehearsal_note(images)}. {chosen.description}",
        paper_setting=False,
        rehearsal=images,
    )


def evenly_spread(count: int, limit: int | None) -> list[int]:
    """``limit`` positions spread evenly over ``range(count)`` (all of them when ``limit`` is None or large).

    >>> evenly_spread(10, 3), evenly_spread(3, None), evenly_spread(5, 0)
    ([0, 4, 9], [0, 1, 2], [])
    """
    if limit is None or limit >= count:
        return list(range(count))
    if limit < 0:
        raise ValueError(f"limit cannot be negative, got {limit}.")
    if limit == 0:
        return []
    return np.unique(np.linspace(0, count - 1, limit).round().astype(int)).tolist()


#: An image or its identifier (:func:`select_images` spreads either).
Image = TypeVar("Image")


def select_images(images: Sequence[Image], limit: int | None) -> list[Image]:
    """``limit`` images spread evenly over ``images`` (all of them when ``limit`` is None or large): the images
    themselves or their identifiers."""
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}.")
    return [images[i] for i in evenly_spread(len(images), limit)]


def source_fingerprint(package_root: Path | None = None) -> str:
    """A hash of the bytes of the package's :data:`RESULT_SOURCES` (Python files and the class list).

    A change to the code that computes results changes the study key, so a cache can never serve
    results of other code. ``package_root`` defaults to this installed package (tests pass a copy).
    """
    return _fingerprint(package_root) if package_root is not None else _installed_fingerprint()


@lru_cache(maxsize=1)
def _installed_fingerprint() -> str:
    # The installed sources do not change while the process runs.
    return _fingerprint(Path(__file__).resolve().parents[1])


def _fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for source in RESULT_SOURCES:
        path = root / source
        files = sorted(p for p in path.rglob("*") if p.suffix in {".py", ".tsv"}) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def study_key(config: StudyConfig, images: list[LabelledImage], root: Path, device_type: str) -> str:
    """A hash of the configuration, the images (relative paths, sizes, labels), the device type, the version
    and the :func:`source_fingerprint` of the code that computes results.

    The folder's location is left out, so the same images found elsewhere reuse the results.
    """
    listing = [(str(i.path.relative_to(root)), i.path.stat().st_size, i.label) for i in images]
    payload = {
        "config": {**asdict(config), "layers": config.resolved_layers()},
        "images": listing,
        "device_type": device_type,
        "version": __version__,
        "code": source_fingerprint(),
    }
    digest = model_spec(config.model).weights_digest
    if digest:
        # A user's module registered under a name: its weights, which the name alone does not tell.
        payload["weights"] = digest
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_overrides(config: StudyConfig, **overrides: Any) -> StudyConfig:
    """``config`` with the given fields replaced, ignoring overrides that are ``None``."""
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})
