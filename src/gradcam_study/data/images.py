"""ImageNet-labelled images from a folder, decoded robustly.

Three layouts are recognised:

* a flat folder of ``<wnid>_<name>.JPEG`` files (the 1000-image ImageNet sample);
* ImageNetV2: sub-folders ``0`` .. ``999`` named by class index;
* a torchvision ``ImageFolder`` whose sub-folders are named by wnid.

Files that cannot be decoded are skipped and counted, never fatal: one bad file must
not stop a run over ten thousand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import Dataset

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpeg", ".jpg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True)
class ImageNetClass:
    index: int
    wnid: str
    name: str


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[ImageNetClass, ...]:
    """The 1000 ImageNet-1k classes in index order (index = position of the wnid in sorted order)."""
    text = resources.files(__package__).joinpath("imagenet_classes.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines()[1:]]
    return tuple(ImageNetClass(int(index), wnid, name) for index, wnid, name in rows)


@lru_cache(maxsize=1)
def _index_of_wnid() -> dict[str, int]:
    return {c.wnid: c.index for c in imagenet_classes()}


def class_name(index: int) -> str:
    """Human-readable name of ImageNet class ``index``."""
    return imagenet_classes()[index].name


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    label: int


class EmptyFolderError(FileNotFoundError):
    """A folder holds no image of a recognised layout."""


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def _wnid_of_file(path: Path) -> str | None:
    wnid = path.name.split("_", 1)[0]
    return wnid if wnid in _index_of_wnid() else None


def list_images(root: str | Path) -> list[LabelledImage]:
    """Every labelled image under ``root``, in a fixed order, whatever the layout.

    Files whose class cannot be told are logged and left out; a folder with no labelled
    image raises :class:`EmptyFolderError`.
    """
    root = Path(root)
    if not root.is_dir():
        raise EmptyFolderError(f"{root} is not a folder.")
    subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if subfolders and all(p.name.isdigit() for p in subfolders):
        images = [
            LabelledImage(path, int(folder.name))
            for folder in sorted(subfolders, key=lambda p: int(p.name))
            if int(folder.name) < 1000
            for path in sorted(folder.iterdir())
            if _is_image(path)
        ]
    elif subfolders:
        images = [
            LabelledImage(path, _index_of_wnid()[folder.name])
            for folder in subfolders
            if folder.name in _index_of_wnid()
            for path in sorted(folder.iterdir())
            if _is_image(path)
        ]
        unknown = [p.name for p in subfolders if p.name not in _index_of_wnid()]
        if unknown:
            log.warning("Left out %d sub-folders not named by an ImageNet wnid: %s", len(unknown), unknown[:5])
    else:
        files = sorted(p for p in root.iterdir() if _is_image(p))
        images = [LabelledImage(p, _index_of_wnid()[w]) for p in files if (w := _wnid_of_file(p))]
        if len(images) < len(files):
            log.warning("Left out %d files whose name does not start with an ImageNet wnid.", len(files) - len(images))
    if not images:
        raise EmptyFolderError(
            f"No labelled image in {root}. Expected <wnid>_<name>.JPEG files, ImageNetV2 folders 0..999, "
            "or ImageFolder sub-folders named by wnid."
        )
    return images


def load_rgb(path: str | Path) -> Image.Image:
    """Decode an image fully and convert it to RGB (grayscale, CMYK, palette and RGBA alike).

    Raises :class:`OSError` (or :class:`PIL.UnidentifiedImageError`) for unreadable or
    truncated files: decoding everything now is what catches a truncated JPEG.
    """
    with Image.open(path) as image:
        image.load()
        return image.convert("RGB")


@dataclass(frozen=True)
class Skipped:
    """A file left out of a run, and why."""

    image: int
    path: str
    reason: str


class LabelledImageDataset(Dataset):
    """``(pixels, label, index)`` per image, ``pixels`` in [0, 1]; an unreadable file gives a :class:`Skipped`."""

    def __init__(self, images: Sequence[LabelledImage], to_pixels: Callable[[Image.Image], Tensor]):
        self.images = list(images)
        self.to_pixels = to_pixels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Tensor, int, int] | Skipped:
        item = self.images[index]
        try:
            return self.to_pixels(load_rgb(item.path)), item.label, index
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
            return Skipped(index, str(item.path), f"{type(error).__name__}: {error}")


@dataclass
class Batch:
    pixels: Tensor
    labels: Tensor
    indices: Tensor
    skipped: list[Skipped]


def collate(items: list[tuple[Tensor, int, int] | Skipped]) -> Batch:
    """Stack the decoded images and keep the skipped ones aside (a batch may be all skipped)."""
    good = [item for item in items if not isinstance(item, Skipped)]
    skipped = [item for item in items if isinstance(item, Skipped)]
    if good:
        pixels = torch.stack([pixels for pixels, _, _ in good])
    else:
        pixels = torch.empty(0)
    labels = torch.tensor([label for _, label, _ in good], dtype=torch.long)
    indices = torch.tensor([index for _, _, index in good], dtype=torch.long)
    return Batch(pixels, labels, indices, skipped)
