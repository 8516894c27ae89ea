"""ImageNet-labelled images: the class list, folder layouts, robust decoding (and, in
:mod:`gradcam_study.data.fetch`, downloading the data sets)."""

from .images import (
    Batch,
    EmptyFolderError,
    ImageNetClass,
    LabelledImage,
    LabelledImageDataset,
    Skipped,
    class_name,
    collate,
    imagenet_classes,
    list_images,
    load_rgb,
)

__all__ = [
    "Batch",
    "EmptyFolderError",
    "ImageNetClass",
    "LabelledImage",
    "LabelledImageDataset",
    "Skipped",
    "class_name",
    "collate",
    "imagenet_classes",
    "list_images",
    "load_rgb",
]
