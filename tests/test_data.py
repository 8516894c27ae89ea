"""Folder layouts, labels and robust decoding of bad images."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from gradcam_study.data import (
    EmptyFolderError,
    LabelledImageDataset,
    Skipped,
    class_name,
    collate,
    imagenet_classes,
    list_images,
    load_rgb,
)
from gradcam_study.models import load_classifier

TENCH, GOLDFISH, HAMMERHEAD = "n01440764", "n01443537", "n01494475"


def test_class_list_is_sorted_wnids_with_names() -> None:
    classes = imagenet_classes()
    assert len(classes) == 1000
    assert [c.wnid for c in classes] == sorted(c.wnid for c in classes)
    assert (classes[0].wnid, classes[0].name) == (TENCH, "tench")
    assert class_name(4) == "hammerhead"


def save(path: Path, mode: str = "RGB", size: tuple[int, int] = (40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = {"RGB": (200, 10, 10), "L": 128, "CMYK": (0, 255, 255, 0), "RGBA": (1, 2, 3, 128), "P": 7}[mode]
    image = Image.new(mode, size, colour)
    image.save(path, format="PNG" if mode in ("RGBA", "P") else "JPEG")
    return path


def test_flat_wnid_folder_labels_a_subset_of_classes(tmp_path: Path) -> None:
    save(tmp_path / f"{HAMMERHEAD}_hammerhead.JPEG")
    save(tmp_path / f"{TENCH}_tench.JPEG")
    save(tmp_path / "notes_without_wnid.JPEG")
    (tmp_path / "README.md").write_text("not an image")
    images = list_images(tmp_path)
    assert [(i.path.name.split("_")[0], i.label) for i in images] == [(TENCH, 0), (HAMMERHEAD, 4)]


def test_imagenetv2_layout_labels_by_folder_number(tmp_path: Path) -> None:
    save(tmp_path / "2" / "a.jpeg")
    save(tmp_path / "10" / "b.jpeg")
    save(tmp_path / "10" / "c.jpeg")
    assert [i.label for i in list_images(tmp_path)] == [2, 10, 10]


def test_image_folder_layout_labels_by_wnid(tmp_path: Path) -> None:
    save(tmp_path / GOLDFISH / "x.jpg")
    save(tmp_path / TENCH / "y.jpg")
    save(tmp_path / "misc" / "z.jpg")
    assert [i.label for i in list_images(tmp_path)] == [0, 1]


def test_empty_folder_says_what_it_expected(tmp_path: Path) -> None:
    with pytest.raises(EmptyFolderError, match="No labelled image"):
        list_images(tmp_path)
    with pytest.raises(EmptyFolderError, match="not a folder"):
        list_images(tmp_path / "missing")


@pytest.mark.parametrize("mode", ["L", "CMYK", "RGBA", "P"])
def test_every_mode_becomes_rgb(tmp_path: Path, mode: str) -> None:
    image = load_rgb(save(tmp_path / f"{TENCH}_x.img", mode))
    assert image.mode == "RGB" and image.size == (40, 30)


@pytest.fixture
def folder_with_bad_files(tmp_path: Path) -> Path:
    save(tmp_path / f"{TENCH}_good.JPEG")
    save(tmp_path / f"{GOLDFISH}_gray.JPEG", "L")
    save(tmp_path / f"{HAMMERHEAD}_tiny.JPEG", size=(10, 10))
    (tmp_path / "n01491361_corrupt.JPEG").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    (tmp_path / "n01484850_text.JPEG").write_text("plain text with an image name")
    whole = save(tmp_path / "n01496331_truncated.JPEG", size=(300, 300)).read_bytes()
    (tmp_path / "n01496331_truncated.JPEG").write_bytes(whole[: len(whole) // 2])
    return tmp_path


def test_bad_files_are_skipped_and_counted_never_fatal(folder_with_bad_files: Path) -> None:
    classifier = load_classifier("efficientnet_lite0", pretrained=False)
    dataset = LabelledImageDataset(list_images(folder_with_bad_files), classifier.to_pixels)
    batches = list(DataLoader(dataset, batch_size=4, collate_fn=collate))
    good = torch.cat([b.labels for b in batches])
    skipped = [s for b in batches for s in b.skipped]
    assert sorted(good.tolist()) == [0, 1, 4]
    assert sorted(Path(s.path).name for s in skipped) == [
        "n01484850_text.JPEG",
        "n01491361_corrupt.JPEG",
        "n01496331_truncated.JPEG",
    ]
    assert all(isinstance(s, Skipped) and s.reason for s in skipped)
    assert all(b.pixels.shape[1:] == (3, 224, 224) for b in batches if len(b.labels))


def test_a_batch_of_only_bad_files_is_empty_not_an_error(tmp_path: Path) -> None:
    batch = collate([Skipped(0, "a", "broken"), Skipped(1, "b", "broken")])
    assert len(batch.labels) == 0 and len(batch.skipped) == 2


def test_sample_folder_labels_match_file_positions(imagenet_sample: Path) -> None:
    images = list_images(imagenet_sample)
    assert len(images) == 1000
    assert [i.label for i in images] == list(range(1000))


def test_unknown_subfolders_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    save(tmp_path / TENCH / "y.jpg")
    save(tmp_path / "holiday" / "z.jpg")
    with caplog.at_level(logging.WARNING):
        list_images(tmp_path)
    assert "holiday" in caplog.text
