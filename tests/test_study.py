"""The study pipeline: rows, tables, resuming, reuse, bad files, and the paper profile's code path."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from conftest import sample_folder
from gradcam_study import paper
from gradcam_study.data import imagenet_classes
from gradcam_study.study import StudyConfig, log_prob_column, run_profile, run_study, select_images
from gradcam_study.study import pipeline

CONFIG = StudyConfig(model="efficientnet_lite0")


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight labelled images: real ones from the sample where it exists, random noise otherwise."""
    folder = tmp_path_factory.mktemp("images")
    sample = sample_folder()
    if sample is not None:
        for path in sorted(sample.glob("n*_*.JPEG"))[::125]:
            shutil.copy(path, folder / path.name)
    else:
        rng = np.random.default_rng(0)
        for c in imagenet_classes()[::125]:
            Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(folder / f"{c.wnid}_x.JPEG")
    return folder


def run(folder: Path, cache: Path, **kwargs) -> pipeline.StudyResults:
    options = dict(cache=cache, device="cpu", batch_size=3, num_workers=0, progress=False)
    return run_study(kwargs.pop("config", CONFIG), folder, **{**options, **kwargs})


def test_rows_and_tables(small_folder: Path, tmp_path: Path) -> None:
    results = run(small_folder, tmp_path)
    assert len(results.images) == 8 and len(results.skipped) == 0
    log_probs = results.images[[log_prob_column(k, m) for k in results.score_kinds for m in ("grad_cam", "grad_cam_plus", "grad_cam_plus_plus")]]
    assert np.isfinite(log_probs.to_numpy()).all() and (log_probs.to_numpy() <= 0).all()
    table1 = results.table1(threshold=0.0)
    assert table1.shape == (3, 2) and np.isfinite(table1.to_numpy()).all()
    # Relative performance is a geometric mean: GC++/GC = (GC++/GC+) (GC+/GC).
    assert table1.iloc[0, 0] == pytest.approx(table1.iloc[1, 0] * table1.iloc[2, 0])
    pd.testing.assert_index_equal(paper.table1().index, table1.index)
    pd.testing.assert_index_equal(paper.table1().columns, table1.columns)
    table2 = results.table2(threshold=0.0)
    pd.testing.assert_index_equal(paper.table2().columns, table2.columns)
    assert table2.columns.tolist() == [("pre-softmax", "mean"), ("pre-softmax", "std"), ("post-softmax", "mean"), ("post-softmax", "std")]
    assert (results.images["pre_softmax_alpha_count"] > 0).all()
    alphas, terms, histogram = results.alpha_arrays("pre_softmax")
    assert len(alphas) == len(terms) == 8 * CONFIG.alpha_sample_size
    assert histogram.sum() == results.images["pre_softmax_alpha_count"].sum()
    extremes = results.alpha_extremes("pre_softmax")
    assert extremes["non-zero alphas"] == histogram.sum()
    assert extremes["smallest alpha"] <= alphas.min() and extremes["largest alpha"] >= alphas.max()
    assert 0 < extremes["share |alpha - 1/2| <= 0.03"] <= 1
    farthest = results.farthest_alpha_from_half("pre_softmax")
    assert len(farthest) == 8
    assert farthest.max() == pytest.approx(max(abs(extremes["smallest alpha"] - 0.5), abs(extremes["largest alpha"] - 0.5)))
    assert "profile custom; model efficientnet_lite0" in results.provenance.caption()


def test_threshold_filters_on_the_true_class_probability(small_folder: Path, tmp_path: Path) -> None:
    results = run(small_folder, tmp_path)
    threshold = float(results.images["probability"].median())
    assert len(results.kept(threshold)) == int((results.images["probability"] > threshold).sum()) < 8
    assert len(results.kept(0.0)) == 8
    assert results.statistics(0.0).shape[0] == 6


def test_interrupted_run_resumes_to_the_same_tables(small_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uninterrupted = run(small_folder, tmp_path / "a")
    real = pipeline.analyse_batch
    calls = []

    def interrupt_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "analyse_batch", interrupt_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        run(small_folder, tmp_path / "b")
    monkeypatch.setattr(pipeline, "analyse_batch", real)
    resumed = run(small_folder, tmp_path / "b")
    assert resumed.key == uninterrupted.key
    pd.testing.assert_frame_equal(resumed.images, uninterrupted.images)
    pd.testing.assert_frame_equal(resumed.table1(0.0), uninterrupted.table1(0.0))
    assert not resumed.images.index.duplicated().any()


def test_finished_run_is_reused_without_computing(small_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(small_folder, tmp_path)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished study was recomputed")

    monkeypatch.setattr(pipeline, "analyse_batch", must_not_run)
    pd.testing.assert_frame_equal(run(small_folder, tmp_path).images, first.images)


def test_same_inputs_give_identical_results_on_the_cpu(small_folder: Path, tmp_path: Path) -> None:
    pd.testing.assert_frame_equal(run(small_folder, tmp_path / "x").images, run(small_folder, tmp_path / "y").images)


def test_the_same_images_elsewhere_share_the_key(small_folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(small_folder, copy)
    assert run(small_folder, tmp_path / "c", config=StudyConfig(limit=2)).key == run(copy, tmp_path / "c", config=StudyConfig(limit=2)).key


def test_bad_files_are_skipped_and_reported(small_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(small_folder, folder)
    (folder / "n01491361_broken.JPEG").write_bytes(b"not a jpeg at all")
    Image.new("L", (10, 10), 100).save(folder / "n01494475_gray_tiny.JPEG")
    results = run(folder, tmp_path / "cache")
    assert len(results.images) == 9
    assert results.skipped["path"].tolist() == [str(folder / "n01491361_broken.JPEG")]


def test_limit_spreads_images_over_the_folder(small_folder: Path) -> None:
    from gradcam_study.data import list_images

    images = list_images(small_folder)
    chosen = select_images(images, 3)
    assert [images.index(i) for i in chosen] == [0, 4, 7]


def test_paper_profile_code_path_with_random_weights(small_folder: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    results = run_profile(
        "paper", data=small_folder, cache=tmp_path, device="cpu", batch_size=2, num_workers=0,
        progress=False, pretrained=False, limit=3,
    )
    assert results.config.model == "vgg16" and results.provenance.layer == "features.29 (output)"
    assert results.provenance.profile == "paper"
    assert len(results.images) == 3
    assert np.isfinite(results.images[log_prob_column("pre_softmax", "grad_cam_plus_plus")]).all()
