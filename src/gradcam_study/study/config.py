"""What a study run is: its configuration, its profiles, and the key its results are stored under."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import __version__
from ..capture import SCORE_KINDS, ScoreKind, Tap
from ..data import LabelledImage

#: Images whose post-softmax probability of the true class exceeds this are kept (section 4).
#: The paper's own value was lost in the text's extraction; 0.5 is this book's default.
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class StudyConfig:
    """Everything that decides a study's per-image results.

    ``layer``/``tap`` ``None`` mean the model's defaults. ``limit`` keeps that many images
    spread evenly over the folder's order (so a small run still spans the classes).
    The score threshold is not here: it filters results after the fact.
    """

    model: str = "efficientnet_lite0"
    layer: str | None = None
    tap: Tap | None = None
    score_kinds: tuple[ScoreKind, ...] = SCORE_KINDS
    limit: int | None = None
    pretrained: bool = True
    allow_tf32: bool = False
    #: Non-zero alphas kept per image and score kind for the figures (a seeded random sample).
    alpha_sample_size: int = 256


@dataclass(frozen=True)
class Profile:
    """A named study: configuration, which data set it fetches when none is configured, and its device."""

    name: str
    config: StudyConfig
    dataset: str
    dataset_label: str
    device: str | None
    batch_size: int
    description: str = field(default="")


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        config=StudyConfig(model="efficientnet_lite0"),
        dataset="imagenet-sample",
        dataset_label="ImageNet sample (1000 images, one per class)",
        device="cpu",
        batch_size=16,
        description="EfficientNet-Lite0 on the 1000-image ImageNet sample, on the CPU: runs offline in minutes.",
    ),
    "paper": Profile(
        name="paper",
        config=StudyConfig(model="vgg16", layer="features.29", limit=10_000),
        dataset="imagenetv2-matched-frequency",
        dataset_label="ImageNetV2 MatchedFrequency (10,000 images)",
        device=None,
        batch_size=64,
        description="The paper's setting: VGG16 (block5_conv3) on ImageNetV2 MatchedFrequency, on CUDA when present.",
    ),
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"Unknown profile {name!r}; known: {', '.join(PROFILES)}.") from None


def select_images(images: list[LabelledImage], limit: int | None) -> list[LabelledImage]:
    """``limit`` images spread evenly over ``images`` (all of them when ``limit`` is None or large)."""
    if limit is None or limit >= len(images):
        return images
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}.")
    positions = np.unique(np.linspace(0, len(images) - 1, limit).round().astype(int))
    return [images[i] for i in positions]


def study_key(config: StudyConfig, images: list[LabelledImage], root: Path, device_type: str) -> str:
    """A hash of the configuration, the images (relative paths, sizes, labels), the device type and the version.

    The folder's location is left out, so the same images found elsewhere reuse the results.
    """
    listing = [(str(i.path.relative_to(root)), i.path.stat().st_size, i.label) for i in images]
    payload = {
        "config": asdict(config),
        "images": listing,
        "device_type": device_type,
        "version": __version__,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_overrides(config: StudyConfig, **overrides: object) -> StudyConfig:
    """``config`` with the given fields replaced, ignoring overrides that are ``None``."""
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})
