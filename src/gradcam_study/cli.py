"""Command line: ``python -m gradcam_study run|book|explain|info|fetch``.

A user's mistake (no data folder, a folder that does not exist, an unknown layer, no image
passing the threshold, no network for a download) prints one line, ``error: ...`` with the way
out, and exits with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import overload

import pandas as pd

from . import __version__, settings
from .capture import SCORE_KINDS, ScoreKind
from .presentation.labels import label, layer_label
from .presentation.formats import p_value, percent
from .presentation.tables import labelled_frame, yardstick_table
from .models import MODELS, TORCHVISION_PREFIX, WeightsUnavailableError, load_classifier, model_spec
from .study import (
    DEFAULT_THRESHOLD,
    PROFILES,
    WIN_BASELINE,
    LayerResults,
    NoImageKeptError,
    StudyResults,
    profile,
    run_profile,
)
from .study.results import tost_column, verdict_column
from .study.verdicts import MIN_IMAGES_FOR_VERDICT, P_VALUE_FLOOR, SHOWN_MARGINS

log = logging.getLogger(__name__)


MODEL_HELP = (f"classifier: one of {', '.join(MODELS)}, or any torchvision classifier as "
              "torchvision:NAME (e.g. torchvision:resnet18)")
WEIGHTS_HELP = ("a member of a torchvision classifier's weights enum (e.g. IMAGENET1K_V1; default: its DEFAULT), or "
                "none for random weights (any model)")


# A name in gives a name out: explain's --model has a default, so its model name is a str.
@overload
def model_and_weights(model: str, weights: str | None) -> tuple[str, bool | None]: ...
@overload
def model_and_weights(model: str | None, weights: str | None) -> tuple[str | None, bool | None]: ...
def model_and_weights(model: str | None, weights: str | None) -> tuple[str | None, bool | None]:
    """The model name a study or explanation takes, and whether its weights are loaded (None: the default), from
    ``--model`` and ``--weights``: ``torchvision:resnet18`` and ``IMAGENET1K_V1`` make
    ``torchvision:resnet18:IMAGENET1K_V1``; ``none`` keeps random weights.

    >>> model_and_weights("torchvision:resnet18", "IMAGENET1K_V1"), model_and_weights("vgg16", "none")
    (('torchvision:resnet18:IMAGENET1K_V1', None), ('vgg16', False))
    """
    if weights is None:
        return model, None
    if weights.lower() == "none":
        return model, False
    if model is None or not model.startswith(TORCHVISION_PREFIX) or model.count(":") > 1:
        raise ValueError(f"--weights {weights} names a torchvision weights enum member; it goes with --model "
                         f"{TORCHVISION_PREFIX}NAME (other models take --weights none or nothing).")
    return f"{model}:{weights}", None


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gradcam_study",
        description="Grad-CAM vs Grad-CAM+ vs Grad-CAM++: the study of Lerma & Lucas (2022).",
    )
    parser.add_argument("--version", action="version", version=f"gradcam_study {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="run (or resume, or reuse) a study and print Tables 1 and 2",
        description="Run a study over a data set, store one row per image and layer in the cache (an interrupted "
        "run resumes where it stopped; a finished one is reused at once), and print, per layer, Table 1 (relative "
        "performance), its bootstrap 95%% intervals, Wilcoxon and equivalence tests, and Table 2 (mean and std of "
        "log relative performance).",
    )
    run.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help=f"'quick': EfficientNet-Lite0, the 1000-image ImageNet sample, CPU; 'paper': VGG16 features.29, "
        f"ImageNetV2 MatchedFrequency, CUDA when present (default: ${settings.PROFILE_ENV} or quick)",
    )
    run.add_argument("--model", help=MODEL_HELP + " (default: the profile's)")
    run.add_argument("--weights", help=WEIGHTS_HELP)
    run.add_argument(
        "--layer",
        action="append",
        dest="layers",
        metavar="LAYER",
        help="layer to explain, by dotted name (e.g. features.29; append ':input' for a layer's input); repeat it "
        "to explain several layers from one pass (default: the model's last map and its inner layer)",
    )
    run.add_argument(
        "--data",
        help=f"image folder: <wnid>_*.JPEG files, ImageNetV2 folders 0..999, or wnid sub-folders "
        f"(default: ${settings.DATA_ENV}, else the profile's data set is downloaded into the cache)",
    )
    run.add_argument("--device", help=f"cpu, cuda or cuda:N (default: ${settings.DEVICE_ENV}, else the profile's)")
    run.add_argument("--batch-size", type=_positive_int,
                     help="images per batch (default: the profile's, 16 on CPU, 64 for paper)")
    run.add_argument("--workers", type=_non_negative_int,
                     help="image-decoding worker processes (default: up to 4, the core count)")
    run.add_argument("--limit", type=_positive_int, help="use this many images, spread evenly over the data set")
    run.add_argument("--curve-limit", type=_non_negative_int,
                     help="images that also get deletion/insertion curves, spread evenly over the study's images; "
                     "0 for none (default: the profile's: " + ", ".join(
                         f"{'all' if chosen.config.curve_limit is None else chosen.config.curve_limit} for {name}"
                         for name, chosen in PROFILES.items()) + ")")
    run.add_argument("--curve-steps", type=_positive_int,
                     help="intervals of each deletion/insertion curve (default 16)")
    run.add_argument(
        "--threshold",
        type=_probability,
        default=DEFAULT_THRESHOLD,
        help="keep images whose post-softmax probability of the true class exceeds this (default %(default)s)",
    )
    run.add_argument("--cache-dir", help=f"results, downloads (default: ${settings.CACHE_ENV}, else the user cache)")
    run.add_argument("--random-weights", action="store_true", help="keep the model's random weights (testing)")
    run.add_argument("--tf32", action="store_true", help="allow TF32 on CUDA: faster, changes results slightly")
    run.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                     help="run the explanation maps' forward passes through torch.compile (log-probabilities within "
                     "1e-4 of eager; compiling costs seconds to minutes once per process); default: compile studies of "
                     "at least 128 images")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    book = commands.add_parser(
        "book",
        help="compute every study the book reads (with progress), before building it",
        description="Compute, or read back, every study the book's chapters read, in the profile of "
        f"${settings.PROFILE_ENV} (or --profile), with a progress bar per study. With --stamp, the studies' keys "
        "are written there, and when they differ from the previous build's, --execution-cache is removed so that "
        "every chapter reruns against the new results.",
    )
    book.add_argument("--profile", choices=sorted(PROFILES), default=None, help="default: $GRADCAM_STUDY_PROFILE or quick")
    book.add_argument("--stamp", type=Path, help="file holding the keys of the studies of the last build")
    book.add_argument("--execution-cache", type=Path, help="the book's execution cache (jupyter-cache folder)")
    book.add_argument("--quiet", action="store_true", help="no progress bars")

    explain = commands.add_parser(
        "explain",
        help="one figure per image: the five methods' heatmaps side by side and the image's alpha summary",
        description="Explain each image's top class (or --target) with Grad-CAM, Grad-CAM+, Grad-CAM++, HiResCAM and "
        "LayerCAM at one layer, and write one figure per image (<out>/<image name>.png) with the image's Grad-CAM++ "
        "alpha summary beneath.",
    )
    explain.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image files")
    explain.add_argument("--model", default="efficientnet_lite0", help=MODEL_HELP + " (default: %(default)s)")
    explain.add_argument("--weights", help=WEIGHTS_HELP)
    explain.add_argument("--layer", help="layer key to explain (default: the model's last feature map)")
    explain.add_argument("--score", choices=["pre", "post"], default="pre",
                         help="explain the class logit (pre-softmax) or its probability (post-softmax); default pre")
    explain.add_argument("--target", type=_non_negative_int, help="class index to explain (default: the top class)")
    explain.add_argument("--out", type=Path, default=Path("explanations"), help="folder of the figures (default: %(default)s)")
    explain.add_argument("--device", help=f"cpu, cuda or cuda:N (default: ${settings.DEVICE_ENV}, else CUDA when present)")

    commands.add_parser("info", help="print the resolved data, model, device and cache locations")

    fetch = commands.add_parser("fetch", help="download a data set into the cache")
    fetch.add_argument("dataset", choices=["sample", "imagenetv2"], help="the 1000-image sample or ImageNetV2")
    fetch.add_argument("--cache-dir", help=f"default: ${settings.CACHE_ENV}, else the user cache")
    return parser


def format_tables(results: LayerResults, threshold: float) -> str:
    """Table 1 with its bootstrap intervals, Wilcoxon and equivalence tests and verdicts, and Table 2, as text, for
    one layer. Below :data:`~gradcam_study.study.verdicts.MIN_IMAGES_FOR_VERDICT` kept images the values are
    printed without intervals, tests or verdicts.

    Raises :class:`NoImageKeptError` when no image passes ``threshold``.
    """
    kept = len(results.require_kept(threshold))
    enough = kept >= MIN_IMAGES_FOR_VERDICT
    lines = [
        results.provenance.caption(kept=kept),
        f"Kept {kept} of {len(results.images)} images (post-softmax probability of the true class > {threshold}); "
        f"{len(results.skipped)} unreadable images skipped.",
        "",
        "Table 1: relative performance",
        labelled_frame(results.table1(threshold)).to_string(float_format="{:.3f}".format),
        "",
    ]
    if enough:
        statistics = results.statistics(threshold)
        shown = statistics[["relative_performance", "ci_low", "ci_high", "p_value_holm", "median_log_ratio",
                            *(tost_column(m) for m in SHOWN_MARGINS), *(verdict_column(m) for m in SHOWN_MARGINS),
                            "images"]]
        shown = labelled_frame(shown)
        lines += [
            "Bootstrap 95% intervals, Wilcoxon signed-rank tests (direction: median log ratio) and equivalence tests "
            f"(TOST) within {' and '.join(percent(m, 0) for m in SHOWN_MARGINS)}, p-values Holm-adjusted over the "
            f"table and floored at {P_VALUE_FLOOR:g}, and the verdicts they give",
            shown.to_string(formatters={label(c): p_value for c in ("p_value_holm", *map(tost_column, SHOWN_MARGINS))},
                            float_format="{:.3g}".format),
            "",
        ]
    else:
        lines += [f"No intervals, tests or verdicts: {kept} kept images, fewer than {MIN_IMAGES_FOR_VERDICT} (the "
                  "minimum for any verdict).", ""]
    yardsticks = results.yardsticks("pre_softmax", threshold)
    if not enough:
        yardsticks = yardsticks.drop(columns=["low", "high"], level="statistic")
    lines += [
        "Table 2: log relative performance",
        labelled_frame(results.table2(threshold)).to_string(float_format="{:.3f}".format),
        "",
        f"Other yardsticks, pre-softmax{', with bootstrap 95% intervals' if enough else ''} (Win % over "
        f"{label(WIN_BASELINE)}; deletion and insertion on the {len(results.curve_images(threshold))} kept images "
        "with curves)",
        yardstick_table(yardsticks).to_string(),
    ]
    return "\n".join(lines)


def _info() -> str:
    chosen = profile(settings.profile_name())
    spec = model_spec(chosen.config.model)
    data = settings.configured_data_dir()
    import torch

    rows = {
        "version": __version__,
        "profile": f"{chosen.name} ({settings.PROFILE_ENV}): {chosen.description}",
        "model": f"{spec.name}, layers {', '.join(map(layer_label, chosen.config.resolved_layers()))}: {spec.description}",
        "data": f"{data} ({settings.DATA_ENV})" if data else f"not set ({settings.DATA_ENV}); would fetch {chosen.dataset}",
        "device": f"{settings.device(default=chosen.device)} (cuda available: {torch.cuda.is_available()})",
        "cache": str(settings.cache_dir()),
        "score kinds": ", ".join(SCORE_KINDS),
    }
    return "\n".join(f"{name:>12}: {value}" for name, value in rows.items())


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean a user's mistake or a missing resource, not a bug: one line, no traceback."""
    from .data import EmptyFolderError
    from .data.fetch import DownloadError, OfflineError

    return (ValueError, FileNotFoundError, NotADirectoryError, PermissionError, EmptyFolderError, OfflineError,
            DownloadError, WeightsUnavailableError, settings.DataNotFoundError, NoImageKeptError)


def _explain(arguments: argparse.Namespace) -> int:
    """One figure per readable image; unreadable images are logged and counted, a missing one refused up front."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .data import class_name
    from .explain import explain_image
    from .presentation.plots import image_explanation_figure

    missing = [str(path) for path in arguments.images if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"No such image file: {', '.join(missing)}.")
    name, pretrained = model_and_weights(arguments.model, arguments.weights)
    spec = model_spec(name)
    layer = arguments.layer or spec.layer
    classifier = load_classifier(name, pretrained=pretrained is not False, device=settings.device(arguments.device))
    from .capture import resolve_layers

    resolve_layers(classifier.network, [layer])
    score_kind: ScoreKind = "pre_softmax" if arguments.score == "pre" else "post_softmax"
    arguments.out.mkdir(parents=True, exist_ok=True)
    written, skipped = 0, 0
    for path in arguments.images:
        try:
            found = explain_image(classifier, path, score_kind, layer, arguments.target)
        except OSError as error:
            log.warning("Skipped %s: %s", path, error)
            skipped += 1
            continue
        classes = found.explanation.captured.logits.shape[1]
        title = (f"{class_name(found.target) if classes == 1000 else f'class {found.target}'} "
                 f"(p = {found.probability:.3g})")
        heading = (f"{path.name}: {spec.name}{'' if pretrained is not False else ' (random weights)'} at "
                   f"{layer_label(layer)}, {label(score_kind)} score")
        figure = image_explanation_figure(found, title, heading)
        target = arguments.out / f"{path.stem}.png"
        figure.savefig(target, dpi=150)
        plt.close(figure)
        print(target)
        written += 1
    if skipped:
        log.warning("%d of %d images could not be read and were skipped.", skipped, len(arguments.images))
    if not written:
        raise ValueError("No image could be read; nothing was written.")
    return 0


def _run(arguments: argparse.Namespace) -> int:
    from .study import distributed

    model, pretrained = model_and_weights(arguments.model, arguments.weights)
    results: StudyResults = run_profile(
        arguments.profile,
        data=arguments.data,
        cache=arguments.cache_dir,
        device=arguments.device,
        batch_size=arguments.batch_size,
        num_workers=arguments.workers,
        progress=not arguments.quiet,
        model=model,
        layers=tuple(arguments.layers) if arguments.layers else None,
        limit=arguments.limit,
        curve_limit=arguments.curve_limit,
        curve_steps=arguments.curve_steps,
        pretrained=False if arguments.random_weights else pretrained,
        allow_tf32=True if arguments.tf32 else None,
        optimised=arguments.compile,
    )
    if not distributed.ranks().leader:
        # Under torchrun every rank holds the same merged results; rank 0 prints them.
        return 0
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        for layer in results.layers:
            print(format_tables(results.at(layer), arguments.threshold))
            print()
    print(f"Study {results.key}: {results.seconds:.1f} s of computation ({results.forward_mode} forward passes); "
          f"results in {results.store_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if arguments.command == "info":
            print(_info())
            return 0
        if arguments.command == "fetch":
            from .data import fetch

            cache = settings.cache_dir(arguments.cache_dir)
            fetcher = fetch.fetch_imagenet_sample if arguments.dataset == "sample" else fetch.fetch_imagenetv2
            print(fetcher(cache))
            return 0
        if arguments.command == "book":
            from .book import prepare

            from .study import distributed

            if distributed.ranks().leader:
                prepare(arguments.profile, progress=not arguments.quiet, stamp=arguments.stamp,
                        execution_cache=arguments.execution_cache)
            else:
                # The other ranks of a torchrun share every study's batches; rank 0 reports and writes the stamp.
                prepare(arguments.profile, progress=False, report=lambda _line: None)
            return 0
        if arguments.command == "explain":
            return _explain(arguments)
        return _run(arguments)
    except KeyboardInterrupt:
        print("\nInterrupted: finished batches are saved; run the same command again to resume.", file=sys.stderr)
        return 130
    except _user_errors() as error:
        if arguments.debug:
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message} (--debug shows the traceback)", file=sys.stderr)
        return 2
