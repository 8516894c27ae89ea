"""Shared fixtures: a tiny network whose gradients are known by hand, and the ImageNet sample."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]


def sample_folder() -> Path | None:
    """The 1000-image ImageNet sample: $GRADCAM_STUDY_DATA, else ../shared/data/imagenet-sample beside the repo."""
    configured = os.environ.get("GRADCAM_STUDY_DATA")
    candidate = Path(configured) if configured else REPO.parent / "shared" / "data" / "imagenet-sample"
    return candidate if candidate.is_dir() and any(candidate.glob("n*_*.JPEG")) else None


@pytest.fixture(scope="session")
def imagenet_sample() -> Path:
    folder = sample_folder()
    if folder is None:
        pytest.skip("the ImageNet sample is absent: set GRADCAM_STUDY_DATA to its folder")
    return folder


class LinearHeadNet(nn.Module):
    """``A = conv(x)`` (K maps), then a linear head on the flattened maps: ``S_c = sum_kij M_ckij A_kij + b_c``.

    So ``dS_c/dA = M_c`` exactly, whatever the input: the closed form the tests check against.
    """

    def __init__(self, maps: int = 3, size: int = 4, classes: int = 5):
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Conv2d(1, maps, kernel_size=3, padding=1)
        self.head = nn.Linear(maps * size * size, classes)
        self.shape = (maps, size, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(start_dim=1))

    def gradient_of_logit(self, target: int) -> torch.Tensor:
        return self.head.weight[target].detach().view(self.shape)


@pytest.fixture
def linear_head_net() -> LinearHeadNet:
    return LinearHeadNet().eval()
