"""Benchmark: the time per image of one randomisation step of the sanity checks (book/sanity_checks.md).

A step is one capture of the randomised EfficientNet-Lite0 (from the trained activations entering its first
re-initialised block; two score kinds; the last map and the inner layer) and the comparison of the five methods'
maps with the trained model's (Spearman, Spearman of absolute values, SSIM). The checks run on ``--images`` evenly
spread images in a fresh temporary cache, so nothing is read back; the mean over the 16 steps is printed, with
the whole run's time per image (the trained capture, the logit shift and the decoding included). It never asserts.
Run it on a quiet machine (check ``cat /proc/loadavg``)::

    .venv/bin/python bench/sanity_step.py --data /work/shared/data/imagenet-sample --images 32
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from gradcam_study import settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="image folder (default: $GRADCAM_STUDY_DATA)")
    parser.add_argument("--images", type=int, default=32, help="images (an evenly spread subset; default 32)")
    parser.add_argument("--device", help="cpu or cuda (default: $GRADCAM_STUDY_DEVICE, else cuda when present)")
    args = parser.parse_args(argv)
    if args.images <= 0:
        print(f"error: --images must be positive, got {args.images}", file=sys.stderr)
        return 2
    try:
        root = settings.data_dir(args.data)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from gradcam_study.sanity.checks import SanityConfig, run_sanity_checks

    with tempfile.TemporaryDirectory() as cache:
        os.environ[settings.CACHE_ENV] = cache
        started = time.perf_counter()
        results = run_sanity_checks(SanityConfig(limit=args.images), data=root, device=args.device)
        total = time.perf_counter() - started
    steps = sum(len(names) for names in results.steps.values())
    print(f"sanity checks: {len(results.images)} images, {steps} randomisation steps, device {results.device}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"one randomisation step: {results.step_seconds_per_image * 1000:.1f} ms per image")
    print(f"whole run: {total / len(results.images):.2f} s per image ({total:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
