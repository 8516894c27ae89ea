"""How the EfficientNet-Lite models' inputs were chosen: top-1 on an image folder for each candidate
resize / crop / pixel scaling, with the package's own decoding and weights.

The registry (``gradcam_study.models``) keeps, per model, the candidate with the highest top-1 on the
1000-image ImageNet sample; this script measures it again. It prints a table and asserts nothing::

    .venv/bin/python bench/input_choice.py --data /work/shared/data/imagenet-sample
    .venv/bin/python bench/input_choice.py --models efficientnet_lite1 --limit 200
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence

import torch
from torchvision import transforms

from gradcam_study import settings
from gradcam_study.data import list_images, load_rgb
from gradcam_study.models import EFFICIENTNET_LITE_MEAN, EFFICIENTNET_LITE_STD, IMAGENET_MEAN, IMAGENET_STD, load_classifier
from gradcam_study.study import select_images

SCALINGS = {
    "[-1, 1] (0.498/0.502)": (EFFICIENTNET_LITE_MEAN, EFFICIENTNET_LITE_STD),
    "ImageNet mean/std": (IMAGENET_MEAN, IMAGENET_STD),
}


def candidates(crop: int) -> list[tuple[int, int]]:
    """Resize of the shorter side and crop: native crop after crop + 32 and after crop / 0.875, and Lite0's 256/224."""
    return list(dict.fromkeys([(crop + 32, crop), (round(crop / 0.875), crop), (256, 224)]))


def top1(network: torch.nn.Module, pixels: torch.Tensor, labels: torch.Tensor, scaling: tuple) -> int:
    normalise = transforms.Normalize(*scaling)
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(pixels), 16):
            batch = normalise(pixels[start : start + 16]).contiguous(memory_format=torch.channels_last)
            correct += int((network(batch).argmax(dim=1) == labels[start : start + 16]).sum())
    return correct


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get(settings.DATA_ENV), help="image folder (default: $GRADCAM_STUDY_DATA)")
    parser.add_argument("--models", nargs="+", default=["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"])
    parser.add_argument("--limit", type=int, help="evenly spread subset of the folder (default: all images)")
    args = parser.parse_args(argv)
    images = select_images(list_images(settings.data_dir(args.data)), args.limit)
    labels = torch.tensor([image.label for image in images])
    print(f"{len(images)} images from {settings.data_dir(args.data)}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'model':<20} {'resize':>6} {'crop':>5}  {'scaling':<24} {'correct':>8} {'top-1':>7}  {'s':>5}")
    for name in args.models:
        classifier = load_classifier(name)
        for resize, crop in candidates(classifier.spec.crop):
            to_pixels = transforms.Compose([
                transforms.Resize(resize, interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
                transforms.CenterCrop(crop),
                transforms.ToTensor(),
            ])
            pixels = torch.stack([to_pixels(load_rgb(image.path)) for image in images])
            for scaling_name, scaling in SCALINGS.items():
                start = time.perf_counter()
                correct = top1(classifier.network, pixels, labels, scaling)
                chosen = (resize, crop) == (classifier.spec.resize, classifier.spec.crop) and scaling == (
                    classifier.spec.mean, classifier.spec.std)
                print(f"{name:<20} {resize:>6} {crop:>5}  {scaling_name:<24} {correct:>8} {correct / len(images):>7.1%}"
                      f"  {time.perf_counter() - start:>5.0f}" + ("  <- registered" if chosen else ""))


if __name__ == "__main__":
    main()
