"""The rehearsal of a profile: its settings, the ImageNetV2 layout of the sample's first images, and the words every
caption and page title carry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import imagenet_sample  # noqa: F401  (fixture)
from gradcam_study import book, settings
from gradcam_study.data import list_images
from gradcam_study.study.provenance import Provenance
from gradcam_study.rehearsal import layout_imagenetv2, main, retitle
from gradcam_study.study import PROFILES, profile
from gradcam_study.study.config import REHEARSAL_CURVE_STEPS


def test_a_rehearsal_is_the_profile_with_random_weights_on_few_images(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.REHEARSAL_ENV, raising=False)
    assert profile("paper") is PROFILES["paper"]
    monkeypatch.setenv(settings.REHEARSAL_ENV, "3")
    rehearsed = profile("paper")
    assert rehearsed.config.model == "vgg16" and rehearsed.config.layers == PROFILES["paper"].config.layers
    assert (rehearsed.config.limit, rehearsed.config.pretrained) == (3, False)
    assert rehearsed.config.curve_limit is None and rehearsed.config.curve_steps == REHEARSAL_CURVE_STEPS
    assert rehearsed.rehearsal == 3 and not rehearsed.paper_setting
    assert rehearsed.description.startswith("rehearsal: random weights, 3 images — not results")
    # Every model of the architecture comparison takes part, weights or none.
    assert {s.name for s in book.book_studies("paper")} >= {f"architecture:{name}" for name in book.ARCHITECTURES
                                                             if name != "vgg16"}


@pytest.mark.parametrize("value", ["0", "-2", "four"])
def test_a_bad_rehearsal_setting_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(settings.REHEARSAL_ENV, value)
    with pytest.raises(ValueError, match="GRADCAM_STUDY_REHEARSAL must be a positive number"):
        profile("paper")


def test_every_caption_of_a_rehearsal_says_so() -> None:
    provenance = Provenance("paper", "vgg16", "features.29", "ImageNetV2", 3, "cpu", rehearsal=True)
    assert provenance.caption().startswith("rehearsal: random weights, 3 images — not results; profile paper")
    assert "rehearsal" not in Provenance("paper", "vgg16", "features.29", "ImageNetV2", 3, "cpu").caption()


def test_page_titles_are_marked_and_code_comments_are_not() -> None:
    source = "---\njupytext: {}\n---\n\n# Heatmaps side by side\n\nText.\n\n```{code-cell}\n# a comment\n```\n"
    marked = retitle(source, 4)
    assert "# Heatmaps side by side (rehearsal: random weights, 4 images — not results)\n" in marked
    assert "# a comment\n" in marked and marked.count("rehearsal") == 1


def test_the_samples_first_images_are_laid_out_as_imagenetv2(imagenet_sample: Path, tmp_path: Path,  # noqa: F811
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "imagenetv2"
    assert main(["layout", str(imagenet_sample), str(target), "--images", "3"]) == 0
    assert "3 images laid out" in capsys.readouterr().out
    assert sorted(int(p.name) for p in target.iterdir()) == list(range(1000))
    found = list_images(target)
    expected = list_images(imagenet_sample)[:3]
    assert [(image.label, image.path.stem) for image in found] == [(image.label, image.path.stem) for image in expected]
    # A second layout replaces the first.
    layout_imagenetv2(imagenet_sample, target, 1)
    assert len(list_images(target)) == 1
    assert main(["layout", str(imagenet_sample), str(target), "--images", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    shutil.rmtree(target)


def test_a_rehearsal_keeps_every_image(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random weights give every true class a probability near 1/1000: at the paper's threshold no image would be
    kept and every table would be refused, so a rehearsal's threshold keeps all (decided when the package loads)."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    code = "from gradcam_study.study import DEFAULT_THRESHOLD; print(DEFAULT_THRESHOLD)"
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    printed = {}
    for value in ("", "2"):
        environment[settings.REHEARSAL_ENV] = value
        printed[value] = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                                        check=True).stdout.strip()
    assert printed == {"": "0.5", "2": "0.0"}
