"""Command line: ``python -m gradcam_study run|info|fetch``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import pandas as pd

from . import __version__, settings
from .capture import SCORE_KINDS
from .models import MODELS, model_spec
from .study import DEFAULT_THRESHOLD, PROFILES, StudyResults, profile, run_profile


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gradcam_study",
        description="Grad-CAM vs Grad-CAM+ vs Grad-CAM++: the study of Lerma & Lucas (2022).",
    )
    parser.add_argument("--version", action="version", version=f"gradcam_study {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="run (or resume, or reuse) a study and print Tables 1 and 2",
        description="Run a study over a data set, store one row per image in the cache (an interrupted run "
        "resumes where it stopped; a finished one is reused at once), and print Table 1 (relative performance), "
        "its bootstrap 95%% intervals and Wilcoxon tests, and Table 2 (mean and std of log relative performance).",
    )
    run.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help=f"'quick': EfficientNet-Lite0, the 1000-image ImageNet sample, CPU; 'paper': VGG16 features.29, "
        f"ImageNetV2 MatchedFrequency, CUDA when present (default: ${settings.PROFILE_ENV} or quick)",
    )
    run.add_argument("--model", choices=sorted(MODELS), help="classifier (default: the profile's)")
    run.add_argument("--layer", help="dotted name of the layer to explain, e.g. features.29 (default: the model's)")
    run.add_argument(
        "--data",
        help=f"image folder: <wnid>_*.JPEG files, ImageNetV2 folders 0..999, or wnid sub-folders "
        f"(default: ${settings.DATA_ENV}, else the profile's data set is downloaded into the cache)",
    )
    run.add_argument("--device", help=f"cpu, cuda or cuda:N (default: ${settings.DEVICE_ENV}, else the profile's)")
    run.add_argument("--batch-size", type=int, help="images per batch (default: the profile's, 16 on CPU, 64 for paper)")
    run.add_argument("--workers", type=int, help="image-decoding worker processes (default: up to 4, the core count)")
    run.add_argument("--limit", type=int, help="use this many images, spread evenly over the data set")
    run.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="keep images whose post-softmax probability of the true class exceeds this (default %(default)s)",
    )
    run.add_argument("--cache-dir", help=f"results, downloads (default: ${settings.CACHE_ENV}, else the user cache)")
    run.add_argument("--random-weights", action="store_true", help="keep the model's random weights (testing)")
    run.add_argument("--tf32", action="store_true", help="allow TF32 on CUDA: faster, changes results slightly")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    commands.add_parser("info", help="print the resolved data, model, device and cache locations")

    fetch = commands.add_parser("fetch", help="download a data set into the cache")
    fetch.add_argument("dataset", choices=["sample", "imagenetv2"], help="the 1000-image sample or ImageNetV2")
    fetch.add_argument("--cache-dir", help=f"default: ${settings.CACHE_ENV}, else the user cache")
    return parser


def format_tables(results: StudyResults, threshold: float) -> str:
    """Table 1 with its bootstrap intervals and Wilcoxon tests, and Table 2, as text."""
    kept = len(results.kept(threshold))
    statistics = results.statistics(threshold)
    lines = [
        results.provenance.caption(kept=kept),
        f"Kept {kept} of {len(results.images)} images (post-softmax probability of the true class > {threshold}); "
        f"{len(results.skipped)} unreadable images skipped.",
        "",
        "Table 1: relative performance",
        results.table1(threshold).to_string(float_format="{:.3f}".format),
        "",
        "Bootstrap 95% intervals and Wilcoxon signed-rank tests of the log relative performance",
        statistics.to_string(float_format="{:.3g}".format),
        "",
        "Table 2: log relative performance",
        results.table2(threshold).to_string(float_format="{:.3f}".format),
    ]
    return "\n".join(lines)


def _info() -> str:
    chosen = profile(settings.profile_name())
    spec = model_spec(chosen.config.model)
    data = settings.configured_data_dir()
    rows = {
        "version": __version__,
        "profile": f"{chosen.name} ({settings.PROFILE_ENV}): {chosen.description}",
        "model": f"{spec.name}, layer {chosen.config.layer or spec.layer} ({spec.tap}): {spec.description}",
        "data": f"{data} ({settings.DATA_ENV})" if data else f"not set ({settings.DATA_ENV}); would fetch {chosen.dataset}",
        "device": f"{settings.device(default=chosen.device)} (cuda available: {__import__('torch').cuda.is_available()})",
        "cache": str(settings.cache_dir()),
        "score kinds": ", ".join(SCORE_KINDS),
    }
    return "\n".join(f"{name:>12}: {value}" for name, value in rows.items())


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if arguments.command == "info":
        print(_info())
        return 0
    if arguments.command == "fetch":
        from .data import fetch

        cache = settings.cache_dir(arguments.cache_dir)
        fetcher = fetch.fetch_imagenet_sample if arguments.dataset == "sample" else fetch.fetch_imagenetv2
        print(fetcher(cache))
        return 0
    try:
        results = run_profile(
            arguments.profile,
            data=arguments.data,
            cache=arguments.cache_dir,
            device=arguments.device,
            batch_size=arguments.batch_size,
            num_workers=arguments.workers,
            progress=not arguments.quiet,
            model=arguments.model,
            layer=arguments.layer,
            limit=arguments.limit,
            pretrained=False if arguments.random_weights else None,
            allow_tf32=True if arguments.tf32 else None,
        )
    except KeyboardInterrupt:
        print("\nInterrupted: finished batches are saved; run the same command again to resume.", file=sys.stderr)
        return 130
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(format_tables(results, arguments.threshold))
    print(f"\nStudy {results.key}: {results.seconds:.1f} s of computation; results in {results.store_path}")
    return 0
