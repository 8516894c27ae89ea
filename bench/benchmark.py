"""Benchmark: this package's study pipeline against the same study done with pytorch-grad-cam.

On the same decoded images (held in memory) and the same model and layer, for the
pre-softmax score, it times

(a) this pipeline: ``analyse_batch`` per batch (one forward + one backward, the five
    heatmaps, alpha statistics, correlations, one evaluation forward per method);
(b) the way a pytorch-grad-cam user would do it: ``GradCAM``, ``GradCAMPlusPlus``, ``HiResCAM``,
    ``LayerCAM`` and a Grad-CAM+ ``BaseCAM`` subclass, each called with its own forward and
    backward pass, then the same evaluation (explanation maps + one forward per method,
    log-softmax of the true class);
(c) the lower bound: one bare forward + backward per batch (``autograd.grad`` of the summed
    target logits w.r.t. the layer's activations) and five evaluation forwards, no CAM
    arithmetic.

(d) several layers from one pass: ``capture_layers`` of the model's stage outputs and last map
    (8 layers for EfficientNet-Lite0) against the capture of one layer, the shallowest of them,
    which sets how far the backward pass must go either way (and, for reference, against the
    last map alone, whose backward stops at the head). The explanation-map forwards, which cost
    the same per layer whatever the capture, are timed separately.
(e) deletion and insertion: the curves of the five methods' heatmaps for one score kind and layer
    (``deletion_insertion``, 16 steps), per image, against the forward passes they need.
(f) the optimised pipeline: (a) with its explanation-map forward passes compiled (``torch.compile``, as the
    study runs them) against (a) eager, on the same images: ``optimised/eager = R`` (target <= 0.6), and a/c
    with the bound's forwards compiled the same way.

Decoding (``load_rgb`` + ``to_pixels``) is done once, up front, and timed separately.
It prints images per second and the ratios a/c (target <= 1.2), b/a (target >= 2.5) and
``multi-layer/one-layer = R`` (target <= 1.5); it never asserts. Run it on a quiet machine (check ``cat /proc/loadavg``)::

    .venv/bin/python bench/benchmark.py --data /work/shared/data/imagenet-sample --images 96
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from gradcam_study import settings
from gradcam_study.capture import TappedLayer, capture_layers
from gradcam_study.data import list_images, load_rgb
from gradcam_study.metrics import DEFAULT_STEPS, deletion_insertion, explanation_maps
from gradcam_study.models import Classifier, load_classifier, model_spec
from gradcam_study.models.inference import TOLERANCE, Inference, inference
from gradcam_study.methods import METHODS, normalised_heatmaps, upsample
from gradcam_study.study.analysis import analyse_batch, log_prob_column, pixel_probability, true_class_log_probs

SCORE_KIND = "pre_softmax"
ALPHA_SAMPLE_SIZE = 256
#: pytorch-grad-cam hooks a module's *output*; EfficientNet-Lite0's last map is the input of the
#: pooling layer (its last ReLU6 is functional), which it cannot hook. All three variants therefore
#: explain the output of ``_bn1`` (the last batch norm, before that ReLU6).
BENCH_LAYERS = {"efficientnet_lite0": "_bn1"}
TARGET_A_OVER_C = 1.2
TARGET_B_OVER_A = 2.5
TARGET_MULTI_OVER_ONE = 1.5
TARGET_OPTIMISED_OVER_EAGER = 0.6


@dataclass(frozen=True)
class Batch:
    pixels: Tensor
    labels: Tensor
    image_ids: Tensor


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time this package's study pipeline (a), the same study with pytorch-grad-cam (b), "
        "and a bare forward+backward lower bound (c), on the same in-memory images.",
    )
    parser.add_argument(
        "--data",
        default=os.environ.get(settings.DATA_ENV),
        help=f"image folder (default: ${settings.DATA_ENV}, currently {os.environ.get(settings.DATA_ENV)!r})",
    )
    parser.add_argument("--images", type=int, default=96, help="number of images (default 96)")
    parser.add_argument("--batch-size", type=int, default=16, help="images per batch (default 16)")
    parser.add_argument("--model", default="efficientnet_lite0", help="model name (default efficientnet_lite0)")
    parser.add_argument(
        "--repeats", type=int, default=1, help="timed passes over the images per variant; the best is kept (default 1)"
    )
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    args = parser.parse_args(argv)
    if args.images < 1 or args.batch_size < 1 or args.repeats < 1:
        parser.error("--images, --batch-size and --repeats must be positive.")
    return args


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_layer(model: str) -> str:
    """The layer all three variants explain: one whose output pytorch-grad-cam can hook."""
    if model in BENCH_LAYERS:
        return BENCH_LAYERS[model]
    spec = model_spec(model)
    if TappedLayer.parse(spec.layer).tap != "output":
        sys.exit(f"No benchmark layer is known for {model!r}: its default layer is tapped at its input.")
    return spec.layer


def decode(classifier: Classifier, folder, count: int) -> tuple[list[Tensor], list[int], float, int]:
    """Decode and resize the first ``count`` readable images; returns pixels, labels, seconds, skipped."""
    pixels: list[Tensor] = []
    labels: list[int] = []
    skipped = 0
    start = time.perf_counter()
    for item in list_images(folder):
        if len(pixels) == count:
            break
        try:
            pixels.append(classifier.to_pixels(load_rgb(item.path)))
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            skipped += 1
            continue
        labels.append(item.label)
    return pixels, labels, time.perf_counter() - start, skipped


# --------------------------------------------------------------------------------------------
# (a) this pipeline


def run_pipeline(classifier: Classifier, layer: str, batch: Batch, forward: Inference | None = None) -> dict[str, list[float]]:
    result = analyse_batch(
        classifier, [layer], batch.pixels, batch.labels, batch.image_ids, (SCORE_KIND,),
        alpha_sample_size=ALPHA_SAMPLE_SIZE, forward=forward,
    )
    rows = [result.layer_rows[(image, layer)] for image in batch.image_ids.tolist()]
    return {m: [row[log_prob_column(SCORE_KIND, m)] for row in rows] for m in METHODS}


# --------------------------------------------------------------------------------------------
# (b) pytorch-grad-cam, as its users call it


def pytorch_grad_cam_runner(classifier: Classifier, layer: str) -> Callable[[Batch], dict[str, list[float]]]:
    from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM
    from pytorch_grad_cam.base_cam import BaseCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    class GradCAMPlus(BaseCAM):
        """Grad-CAM+ (eq. 3): the spatial mean of the positive gradients."""

        def __init__(self, model, target_layers, reshape_transform=None):
            super().__init__(model, target_layers, reshape_transform)

        def get_cam_weights(self, input_tensor, target_layer, target_category, activations, grads):
            return np.mean(np.maximum(grads, 0), axis=(2, 3))

    network = classifier.network
    # pytorch-grad-cam records gradients through tensor hooks on the layer's output, which exist
    # only when that output requires grad: give this copy trainable parameters, as users have.
    network.requires_grad_(True)
    target_layers = [network.get_submodule(layer)]
    cams = {"grad_cam": GradCAM, "grad_cam_plus": GradCAMPlus, "grad_cam_plus_plus": GradCAMPlusPlus,
            "hires_cam": HiResCAM, "layer_cam": LayerCAM}

    def run(batch: Batch) -> dict[str, list[float]]:
        device = classifier.device
        pixels = batch.pixels.to(device)
        labels = batch.labels.to(device)
        inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
        targets = [ClassifierOutputTarget(int(label)) for label in batch.labels.tolist()]
        out: dict[str, list[float]] = {}
        for method, cam_class in cams.items():
            # The README's pattern: a context manager per use, so that the hooks are released.
            with cam_class(model=network, target_layers=target_layers) as cam:
                maps = cam(input_tensor=inputs, targets=targets)  # B x H x W, upsampled, min-max normalised
            heatmaps = torch.from_numpy(maps).to(device).unsqueeze(1)
            explained = explanation_maps(pixels, heatmaps, classifier.normalise)
            with torch.no_grad():
                logits = network(explained.contiguous(memory_format=torch.channels_last))
                log_probs = logits.log_softmax(dim=1).gather(1, labels.view(-1, 1)).squeeze(1)
            out[method] = log_probs.cpu().tolist()
        return out

    return run


# --------------------------------------------------------------------------------------------
# (c) the lower bound


def lower_bound_runner(
    classifier: Classifier, layer: str, forward: Inference | None = None
) -> Callable[[Batch], dict[str, list[float]]]:
    """One bare capture, and one evaluation forward per method through ``forward`` (the eager network by default)."""

    def run(batch: Batch) -> dict[str, list[float]]:
        device = classifier.device
        pixels = batch.pixels.to(device)
        labels = batch.labels.to(device)
        inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
        captured = capture_layers(classifier.network, [layer], inputs, labels, (SCORE_KIND,))
        out: dict[str, list[float]] = {}
        evaluate = forward or classifier
        for method in METHODS:  # one evaluation forward per method, on the images themselves
            out[method] = true_class_log_probs(evaluate, inputs, labels, len(labels)).cpu().tolist()
        del captured
        return out

    return run


# --------------------------------------------------------------------------------------------
# (d) several layers from one pass


def capture_runner(classifier: Classifier, layers: Sequence[str]) -> Callable[[Batch], dict[str, list[float]]]:
    """One capture (forward + backward) of ``layers``, both score kinds, as the study does it."""

    def run(batch: Batch) -> dict[str, list[float]]:
        inputs = classifier.normalise(batch.pixels.to(classifier.device)).contiguous(memory_format=torch.channels_last)
        capture_layers(classifier.network, layers, inputs, batch.labels.to(classifier.device))
        return {}

    return run


def explanation_runner(classifier: Classifier, layer: str) -> Callable[[Batch], dict[str, list[float]]]:
    """One layer's explanation maps of every method through the network (one score kind): the per-layer
    cost that comes on top of the capture."""

    def run(batch: Batch) -> dict[str, list[float]]:
        device = classifier.device
        pixels, labels = batch.pixels.to(device), batch.labels.to(device)
        inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
        captured = capture_layers(classifier.network, [layer], inputs, labels, (SCORE_KIND,))
        activations, gradients = captured.activations[layer], captured.gradients[layer][SCORE_KIND]
        size = (pixels.shape[-2], pixels.shape[-1])
        maps = torch.cat([
            explanation_maps(pixels, upsample(normalised_heatmaps(activations, gradients, m), size), classifier.normalise)
            for m in METHODS
        ])
        synchronise(device)
        start = time.perf_counter()
        true_class_log_probs(classifier, maps, labels.repeat(len(METHODS)), len(labels))
        synchronise(device)
        return {"seconds": [time.perf_counter() - start]}

    return run


def multi_layer_report(classifier: Classifier, batches: Sequence[Batch], device: torch.device, repeats: int) -> None:
    spec = classifier.spec
    many = list(dict.fromkeys((*spec.stages, spec.layer)))
    if len(many) < 2:
        print(f"(d) {spec.name} names no stages: no multi-layer case.")
        return
    one = many[0]
    cases = {"many": capture_runner(classifier, many), "one": capture_runner(classifier, [one]),
             "last": capture_runner(classifier, [spec.layer])}
    for run in cases.values():
        run(batches[0])
    best = {name: float("inf") for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            synchronise(device)
            start = time.perf_counter()
            for batch in batches:
                run(batch)
            synchronise(device)
            best[name] = min(best[name], time.perf_counter() - start)
    count = sum(len(batch.labels) for batch in batches)
    explain_seconds = sum(explanation_runner(classifier, spec.layer)(batch)["seconds"][0] for batch in batches)
    ratio = best["many"] / best["one"]
    print(f"(d) capture of {len(many)} layers ({', '.join(many)}), both score kinds, one pass:")
    print(f"    {1000 * best['many'] / count:6.1f} ms/image; one layer ({one}, the shallowest): "
          f"{1000 * best['one'] / count:6.1f} ms/image; the last map alone ({spec.layer}): "
          f"{1000 * best['last'] / count:6.1f} ms/image")
    print(f"    explanation maps of one layer ({len(METHODS)} methods, one score kind), timed apart: "
          f"{1000 * explain_seconds / count:6.1f} ms/image per layer")
    print(f"multi-layer/one-layer = {ratio:.2f}   (target <= {TARGET_MULTI_OVER_ONE}: "
          f"{verdict(ratio <= TARGET_MULTI_OVER_ONE)}; against the last map alone: {best['many'] / best['last']:.2f})")


# --------------------------------------------------------------------------------------------
# (e) deletion and insertion


def curves_report(classifier: Classifier, layer: str, batch: Batch, device: torch.device) -> None:
    """Time the deletion and insertion curves of every method's heatmap for one batch (one layer, one score
    kind), and a bare forward pass of as many inputs, for the cost per image."""
    pixels, labels = batch.pixels.to(device), batch.labels.to(device)
    inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
    captured = capture_layers(classifier.network, [layer], inputs, labels, (SCORE_KIND,))
    activations, gradients = captured.activations[layer], captured.gradients[layer][SCORE_KIND]
    size = (pixels.shape[-2], pixels.shape[-1])
    saliency = torch.cat([upsample(normalised_heatmaps(activations, gradients, m), size) for m in METHODS], dim=1)
    probability = pixel_probability(classifier, len(labels))
    synchronise(device)
    start = time.perf_counter()
    deletion_insertion(probability, pixels, saliency, labels, DEFAULT_STEPS, len(labels))
    synchronise(device)
    seconds = time.perf_counter() - start
    count = len(labels)
    # At most 3 shared inputs per image and 2 (steps - 1) per distinct heatmap.
    forwards = count * (3 + len(METHODS) * 2 * (DEFAULT_STEPS - 1))
    synchronise(device)
    start = time.perf_counter()
    true_class_log_probs(classifier, inputs.repeat(forwards // count, 1, 1, 1), labels.repeat(forwards // count), count)
    synchronise(device)
    bare = time.perf_counter() - start
    print(f"(e) deletion and insertion, {len(METHODS)} methods, {DEFAULT_STEPS} steps, one layer and score kind: "
          f"{seconds / count:6.2f} s/image; {forwards // count} bare forwards: {bare / count:6.2f} s/image "
          f"(ratio {seconds / bare:.2f}; below 1 where identical heatmaps share their curves)")


# --------------------------------------------------------------------------------------------
# (f) the optimised pipeline against the eager one


def optimised_report(classifier: Classifier, layer: str, batches: Sequence[Batch], device: torch.device,
                     repeats: int) -> None:
    """The study's pipeline (``analyse_batch``) with its forward passes compiled (:mod:`gradcam_study.models.inference`)
    against the same pipeline eager, on the same images, and the bound (c) computed the same optimised way."""
    size = tuple(batches[0].pixels.shape[-2:])
    started = time.perf_counter()
    forward = inference(classifier.network, len(batches[0].labels), size)
    warmup = time.perf_counter() - started
    if forward.mode != "compiled":
        print(f"(f) optimised pipeline: not available here ({forward.reason}); the study runs eagerly.")
        return
    variants = {
        "eager": lambda batch: run_pipeline(classifier, layer, batch),
        "optimised": lambda batch: run_pipeline(classifier, layer, batch, forward),
        "bound": lower_bound_runner(classifier, layer, forward),
    }
    for run in variants.values():
        run(batches[0])
    best = {name: float("inf") for name in variants}
    found: dict[str, dict[str, list[float]]] = {}
    for _ in range(repeats):
        for name, run in variants.items():
            elapsed, found[name] = time_variant(run, batches, device)
            best[name] = min(best[name], elapsed)
    count = sum(len(batch.labels) for batch in batches)
    largest = max(float(np.abs(np.asarray(found["optimised"][m]) - np.asarray(found["eager"][m])).max()) for m in METHODS)
    ratio = best["optimised"] / best["eager"]
    print(f"(f) the pipeline with compiled forward passes (torch.compile; compiling took {warmup:.1f} s, once per process):")
    print(f"    eager {count / best['eager']:8.1f} images/s, optimised {count / best['optimised']:8.1f} images/s, "
          f"optimised bound (c) {count / best['bound']:8.1f} images/s; largest |log p| difference {largest:.1e} "
          f"(tolerance {TOLERANCE:.0e})")
    print(f"optimised/eager = {ratio:.2f}   (target <= {TARGET_OPTIMISED_OVER_EAGER}: "
          f"{verdict(ratio <= TARGET_OPTIMISED_OVER_EAGER)})")
    a_over_c = best["optimised"] / best["bound"]
    print(f"a/c (optimised) = {a_over_c:.2f}   (target <= {TARGET_A_OVER_C}: {verdict(a_over_c <= TARGET_A_OVER_C)})")


# --------------------------------------------------------------------------------------------


def time_variant(
    run: Callable[[Batch], dict[str, list[float]]], batches: Sequence[Batch], device: torch.device
) -> tuple[float, dict[str, list[float]]]:
    """Seconds for one pass over ``batches``, and the per-image log-probabilities per method."""
    collected: dict[str, list[float]] = {m: [] for m in METHODS}
    synchronise(device)
    start = time.perf_counter()
    for batch in batches:
        for method, values in run(batch).items():
            collected[method].extend(values)
    synchronise(device)
    return time.perf_counter() - start, collected


def verdict(met: bool) -> str:
    return "met" if met else "not met"


def loadavg() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as file:
            return " ".join(file.read().split()[:3])
    except OSError:
        return "n/a"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    folder = settings.data_dir(args.data)
    device = torch.device(args.device)
    layer = bench_layer(args.model)

    classifier = load_classifier(args.model, device=device)  # (a), (c) and (d): frozen parameters
    grad_cam_classifier = load_classifier(args.model, device=device)  # (b): its own copy

    print("Benchmark: gradcam_study pipeline vs pytorch-grad-cam (score: pre-softmax)")
    print(f"  python {platform.python_version()}, torch {torch.__version__}, threads {torch.get_num_threads()} "
          f"(interop {torch.get_num_interop_threads()}), cpus {os.cpu_count()}")
    print(f"  device {device}, model {args.model}, layer {layer!r} (output)")
    if args.model in BENCH_LAYERS:
        print(f"  note: pytorch-grad-cam cannot hook {args.model}'s last map (the pooling layer's input), so all")
        print(f"        three variants explain the output of {layer!r} instead of the study's default layer.")
    print(f"  data {folder}")
    print(f"  load average at start: {loadavg()}")

    pixel_list, label_list, decode_seconds, skipped = decode(classifier, folder, args.images)
    count = len(pixel_list)
    if count == 0:
        sys.exit("No readable image.")
    print(f"  images {count}" + (f" ({skipped} unreadable skipped)" if skipped else "")
          + f", batch size {args.batch_size}, repeats {args.repeats} (best kept), warm-up: 1 batch per variant")
    print()
    print(f"Decoding (load_rgb + to_pixels, 1 process): {count / decode_seconds:8.1f} images/s "
          f"({1000 * decode_seconds / count:.1f} ms/image)")

    pixels = torch.stack(pixel_list)
    labels = torch.tensor(label_list, dtype=torch.long)
    image_ids = torch.arange(count)
    batches = [
        Batch(pixels[i : i + args.batch_size], labels[i : i + args.batch_size], image_ids[i : i + args.batch_size])
        for i in range(0, count, args.batch_size)
    ]

    variants: dict[str, tuple[str, Callable[[Batch], dict[str, list[float]]]]] = {
        "a": ("this pipeline (analyse_batch)", lambda batch: run_pipeline(classifier, layer, batch)),
        "b": (f"pytorch-grad-cam, {len(METHODS)} CAM objects", pytorch_grad_cam_runner(grad_cam_classifier, layer)),
        "c": (f"lower bound: 1 fwd+bwd + {len(METHODS)} fwd", lower_bound_runner(classifier, layer)),
    }
    for _, run in variants.values():  # warm-up
        run(batches[0])
        synchronise(device)

    seconds: dict[str, list[float]] = {key: [] for key in variants}
    log_probs: dict[str, dict[str, list[float]]] = {}
    for _ in range(args.repeats):
        for key, (_, run) in variants.items():  # interleaved, so that drift in load hits all alike
            elapsed, log_probs[key] = time_variant(run, batches, device)
            seconds[key].append(elapsed)
    best = {key: min(values) for key, values in seconds.items()}

    print()
    for key, (label, _) in variants.items():
        runs = ", ".join(f"{s:.2f}" for s in seconds[key])
        print(f"({key}) {label:<32} {count / best[key]:8.1f} images/s  "
              f"({1000 * best[key] / count:6.1f} ms/image; pass times s: {runs})")
    a_over_c = best["a"] / best["c"]
    b_over_a = best["b"] / best["a"]
    print()
    print(f"a/c = {a_over_c:.2f}   (target <= {TARGET_A_OVER_C}: {verdict(a_over_c <= TARGET_A_OVER_C)})")
    print(f"b/a = {b_over_a:.2f}   (target >= {TARGET_B_OVER_A}: {verdict(b_over_a >= TARGET_B_OVER_A)})")
    print()
    print("Agreement of (a) and (b), log p(true class) on explanation maps, |a - b| over images:")
    for method in METHODS:
        difference = np.abs(np.asarray(log_probs["a"][method]) - np.asarray(log_probs["b"][method]))
        print(f"  {method:<20} median {statistics.median(difference):.2e}, max {difference.max():.2e}")
    print()
    multi_layer_report(classifier, batches, device, args.repeats)
    print()
    curves_report(classifier, layer, batches[0], device)
    print()
    optimised_report(classifier, layer, batches, device, args.repeats)
    print(f"load average at end: {loadavg()}")


if __name__ == "__main__":
    main()
