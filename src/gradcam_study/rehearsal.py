"""A rehearsal of a profile: the whole book on a handful of images with random weights, on the CPU, so that every
chapter's code path in that profile (its models, layers, data layout, figures) is exercised without its weights,
its data set or its GPU. ``GRADCAM_STUDY_REHEARSAL=N`` turns it on (:func:`gradcam_study.study.config.rehearsal`);
every caption (:meth:`gradcam_study.study.provenance.Provenance.caption`) and every page title
(:func:`retitle`, through the book's Sphinx extension) then says "rehearsal: random weights, N images — not results".

``python -m gradcam_study.rehearsal layout SAMPLE TARGET --images N`` lays out the first N images of the
1000-image sample (one per class, in class order) as ImageNetV2's folders ``0`` ... ``999``, the paper profile's
layout (``make rehearse-paper`` does this, then builds the book into ``_build/rehearsal``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .data import list_images
from .settings import rehearsal_note

_TITLE = re.compile(r"^# (?P<title>.+)$", re.MULTILINE)


def layout_imagenetv2(source: str | Path, target: str | Path, images: int) -> list[Path]:
    """Copy the first ``images`` images of ``source`` (any layout :func:`~gradcam_study.data.list_images` reads,
    in its order) into ``target/<class index>/``, and create every other class folder of ``0`` ... ``999`` empty,
    as ImageNetV2 has them. ``target`` is emptied first. Returns the copies.

    >>> layout_imagenetv2("imagenet-sample", "rehearsal/imagenetv2", 4)   # doctest: +SKIP
    [PosixPath('rehearsal/imagenetv2/0/n01440764_tench.jpeg'), ...]
    """
    if images <= 0:
        raise ValueError(f"The number of images must be positive, got {images}.")
    chosen = list_images(source)[:images]
    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    for index in range(1000):
        (target / str(index)).mkdir(parents=True)
    copies = []
    for image in chosen:
        # ImageNetV2's files are lower-case .jpeg, named by content hash; the sample's stem keeps them traceable.
        copy = target / str(image.label) / f"{image.path.stem}.jpeg"
        shutil.copyfile(image.path, copy)
        copies.append(copy)
    return copies


def retitle(source: str, images: int) -> str:
    """``source`` (a chapter's MyST text) with its page title, the first level-one heading, prefixed by the
    rehearsal's note; code cells come after the title, so their ``#`` comments are not touched.

    >>> retitle("---\\nx: 1\\n---\\n\\n# Heatmaps\\n\\n# a comment", 2).splitlines()[4]
    '# Heatmaps (rehearsal: random weights, 2 images — not results)'
    """
    return _TITLE.sub(lambda match: f"# {match['title']} ({rehearsal_note(images)})", source, count=1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradcam_study.rehearsal", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    layout = commands.add_parser("layout", help="lay out the sample's first images as ImageNetV2's folders 0..999")
    layout.add_argument("source", type=Path, help="the image folder (the 1000-image sample)")
    layout.add_argument("target", type=Path, help="the ImageNetV2-style folder to (re)create")
    layout.add_argument("--images", type=int, required=True, help="how many images")
    arguments = parser.parse_args(argv)
    try:
        copies = layout_imagenetv2(arguments.source, arguments.target, arguments.images)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(copies)} images laid out as ImageNetV2 class folders in {arguments.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
