"""Where the time of the paper profile goes, on whichever device this runs: VGG16 at ``features.29``.

For the paper profile's per-image work, on the same decoded images held in memory, it times

(a) the pipeline: ``analyse_batch`` with the paper profile's settings (both score kinds, the five methods, alpha
    statistics, explanation maps, and deletion/insertion curves for every image, as the paper profile computes
    them: its ``curve_limit`` is None);
(b) the same without the curves (what a study with ``--curve-limit 0`` costs);
(c) the one-pass bound: the capture alone, one forward pass and the backward passes of both score kinds to
    ``features.29``, which no Grad-CAM study can do without;

and prints images per second for each, their ratios, and the paper profile's predicted time on this device:
``images / rate(a)`` (10,000 ImageNetV2 images unless ``--predict-images`` says otherwise). Random weights are
fine for timing (the arithmetic is the same), with one caveat: deletion/insertion curves are shared between
identical heatmaps, which random weights may make commoner than trained ones, so (a) is if anything optimistic.
Decoding is timed apart: the study decodes in DataLoader workers beside the model, so it costs nothing as long
as ``decode rate x workers`` exceeds rate (a). It asserts nothing::

    .venv/bin/python bench/gpu_cost.py --device cuda --images 256 --batch-size 64     # on a GPU
    .venv/bin/python bench/gpu_cost.py --images 4 --batch-size 2 --curve-steps 4      # a CPU smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from gradcam_study import settings
from gradcam_study.capture import SCORE_KINDS, capture_layers
from gradcam_study.metrics import DEFAULT_STEPS
from gradcam_study.models import Classifier, load_classifier
from gradcam_study.study import PROFILES
from gradcam_study.study.analysis import analyse_batch

# The decoding and device synchronisation of the main benchmark, beside this file (bench/ is the script's folder).
import benchmark  # noqa: E402
from benchmark import synchronise  # noqa: E402

MODEL = "vgg16"
LAYER = "features.29"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    paper = PROFILES["paper"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get(settings.DATA_ENV),
                        help=f"image folder (default: ${settings.DATA_ENV}); random pixels when unset")
    parser.add_argument("--images", type=int, default=16, help="images timed (default 16)")
    parser.add_argument("--batch-size", type=int, default=paper.batch_size,
                        help=f"images per batch (default {paper.batch_size}, the paper profile's)")
    parser.add_argument("--curve-steps", type=int, default=paper.config.curve_steps or DEFAULT_STEPS,
                        help=f"deletion/insertion intervals (default {DEFAULT_STEPS}, the paper profile's; fewer "
                        "for a quick CPU run, the prediction then scales the curves' share by the steps)")
    parser.add_argument("--device", default=None, help="torch device (default: CUDA when present, else the CPU)")
    parser.add_argument("--predict-images", type=int, default=paper.config.limit,
                        help=f"images of the run to predict (default {paper.config.limit}, the paper profile's)")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 on CUDA (the study's --tf32)")
    args = parser.parse_args(argv)
    if min(args.images, args.batch_size, args.predict_images) < 1 or args.curve_steps < 2:
        parser.error("--images, --batch-size and --predict-images must be positive, --curve-steps at least 2.")
    return args


def decode(classifier: Classifier, folder: str | None, count: int) -> tuple[Tensor, Tensor, float]:
    """``count`` images as pixels and labels (the folder's first readable ones, through ``benchmark.decode``, else
    random pixels), and the seconds decoding took per image (0 for random pixels)."""
    if not folder:
        generator = torch.Generator().manual_seed(0)
        size = classifier.spec.crop
        return torch.rand(count, 3, size, size, generator=generator), torch.arange(count) % 1000, 0.0
    pixels, labels, seconds, _ = benchmark.decode(classifier, folder, count)
    if not pixels:
        sys.exit(f"error: no readable image in {folder}")
    return torch.stack(pixels), torch.tensor(labels), seconds / len(pixels)


def timed(run: Callable[[Tensor, Tensor, Tensor], object], pixels: Tensor, labels: Tensor, batch_size: int,
          device: torch.device) -> float:
    """Seconds of one pass of ``run`` over the batches, after one warm-up batch (kernels, allocator, caches)."""
    batches = [(pixels[i:i + batch_size], labels[i:i + batch_size], torch.arange(i, min(i + batch_size, len(labels))))
               for i in range(0, len(labels), batch_size)]
    run(*batches[0])
    synchronise(device)
    start = time.perf_counter()
    for batch in batches:
        run(*batch)
    synchronise(device)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    device = settings.device(args.device)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = args.tf32
    classifier = load_classifier(MODEL, pretrained=False, device=device)
    pixels, labels, decode_seconds = decode(classifier, args.data, args.images)
    count = len(labels)
    config = PROFILES["paper"].config
    everyone = frozenset(range(count))

    def pipeline(curves: frozenset[int]) -> Callable[[Tensor, Tensor, Tensor], object]:
        return lambda pixels, labels, indices: analyse_batch(
            classifier, [LAYER], pixels, labels, indices, config.score_kinds, config.alpha_sample_size, curves,
            args.curve_steps, config.methods)

    def bound(pixels: Tensor, labels: Tensor, _indices: Tensor) -> object:
        inputs = classifier.normalise(pixels.to(device)).contiguous(memory_format=torch.channels_last)
        return capture_layers(classifier.network, [LAYER], inputs, labels.to(device), SCORE_KINDS)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{platform.processor() or 'CPU'}, " \
        f"{torch.get_num_threads()} threads"
    print(f"device: {device} ({name}); torch {torch.__version__}; {MODEL} at {LAYER}, random weights; {count} "
          f"{'images from ' + args.data if args.data else 'random images'}, batches of {args.batch_size}; "
          f"curves with {args.curve_steps} steps", flush=True)
    # Cheapest first, each printed as soon as it is measured: a slow device still shows the bound.
    variants = {
        "c": ("one-pass bound (capture only)", bound),
        "b": ("pipeline without curves", pipeline(frozenset())),
        "a": ("pipeline, paper profile's work", pipeline(everyone)),
    }
    seconds: dict[str, float] = {}
    for key, (title, run) in variants.items():
        seconds[key] = timed(run, pixels, labels, args.batch_size, device)
        print(f"({key}) {title + ':':34s} {count / seconds[key]:8.3f} images/s", flush=True)
    # Curves cost 2 (steps - 1) forward passes per heatmap: scale their share to the paper profile's steps.
    paper_steps = config.curve_steps
    curve_seconds = (seconds["a"] - seconds["b"]) * (paper_steps - 1) / (args.curve_steps - 1)
    paper_rate = count / (seconds["b"] + curve_seconds)
    kinds, methods = len(config.score_kinds), len(config.methods)
    curve_forwards = kinds * methods * 2 * (args.curve_steps - 1)
    print(f"forward passes per image: 1 (capture) + {kinds * methods} (explanation maps, {methods} methods x {kinds} "
          f"score kinds) + at most {curve_forwards} (curves); so (b) costs at least {1 + kinds * methods} and (a) "
          f"{1 + kinds * methods + curve_forwards} times the forward pass of (c)")
    print(f"a/c = {seconds['a'] / seconds['c']:.1f} (curves {100 * (seconds['a'] - seconds['b']) / seconds['a']:.0f}% "
          f"of a), b/c = {seconds['b'] / seconds['c']:.1f}")
    if decode_seconds:
        print(f"decoding: {1 / decode_seconds:.1f} images/s per worker (the study decodes in workers beside the model)")
    hours = args.predict_images / paper_rate / 3600
    scaled = "" if args.curve_steps == paper_steps else f", curves scaled from {args.curve_steps} to {paper_steps} steps"
    print(f"predicted paper profile on this device: {args.predict_images} images / {paper_rate:.3f} images/s = "
          f"{hours:.2f} h{scaled}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
