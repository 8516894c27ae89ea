"""Sweeps over layers and models: the summary frame, its table and the sentences generated from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradcam_study import book
from gradcam_study.study import StudyConfig, run_study
from gradcam_study.study.sweeps import layer_summary, sweep_findings, sweep_summary, sweep_table
from test_study import small_folder  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def two_layers(small_folder: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    config = StudyConfig(layers=("_blocks.15", "_avg_pooling:input"), curve_limit=0)
    return run_study(config, small_folder, cache=tmp_path_factory.mktemp("cache"), device="cpu", batch_size=4,
                     num_workers=0, progress=False)


def test_layer_summary_matches_the_layer_results(two_layers) -> None:
    results = two_layers.at("_blocks.15")
    summary = layer_summary(results, threshold=0.0)
    rp = summary[(summary["quantity"] == "relative_performance") & (summary["kind"] == "pre_softmax")]
    assert rp["pair"].tolist() == ["grad_cam_plus_plus/grad_cam", "grad_cam_plus/grad_cam", "grad_cam_plus_plus/grad_cam_plus"]
    np.testing.assert_allclose(rp["value"], results.table1(0.0)["pre-softmax"].to_numpy())
    assert ((rp["low"] <= rp["value"]) & (rp["value"] <= rp["high"])).all()
    far = summary[(summary["quantity"] == "far_from_half") & (summary["kind"] == "pre_softmax")]["value"].item()
    assert far == results.alpha_extremes("pre_softmax")["far_from_half"]
    # Only a median correlation can be undefined (every heatmap constant: random images can do that).
    assert set(summary.loc[summary["value"].isna(), "quantity"]) <= {"median_correlation"}


def test_sweep_table_and_findings(two_layers) -> None:
    summary = sweep_summary({layer: two_layers.at(layer) for layer in two_layers.layers}, threshold=0.0)
    assert summary["position"].max() == 1
    table = sweep_table(summary, "pre_softmax")
    assert table.index.tolist() == ["_blocks.15", "_avg_pooling:input"]
    assert table.columns[0] == "Grad-CAM++ vs Grad-CAM" and table.iloc[0, 0].count("[") == 1
    text = sweep_findings(summary)
    assert text.count("With pre-softmax maps") == 1 and text.count("With post-softmax maps") == 1
    assert "2 layers" in text and "nan" not in text.lower()
    assert not any("nan" in str(cell).lower() for cell in sweep_table(summary, "post_softmax").to_numpy().ravel())


def test_depth_layers_run_from_the_input_side_to_the_last_map() -> None:
    from gradcam_study.models import model_spec

    layers = book.depth_layers(model_spec("efficientnet_lite0"))
    # Per stage its non-negative map (the projection's input) before its signed output, then the last map.
    assert layers[:2] == ("_blocks.0._project_conv:input", "_blocks.0") and layers[-1] == "_avg_pooling:input"
    assert len(layers) == 15
    # VGG16's block outputs are post-ReLU already: no second map per stage.
    assert book.depth_layers(model_spec("vgg16"))[-1] == "features.29" and len(book.depth_layers(model_spec("vgg16"))) == 5


def test_book_studies_name_every_study_a_chapter_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADCAM_STUDY_PROFILE", raising=False)
    monkeypatch.delenv("GRADCAM_STUDY_LIMIT", raising=False)
    studies = book.book_studies("quick")
    names = [study.name for study in studies]
    assert names[0] == "main" and "depth" not in names  # one study of the profile's model: "depth" is its alias
    assert {"architecture:efficientnet_lite1", "architecture:efficientnet_lite2"} <= set(names)
    # No subset: every study covers all the images; the main one explains the depth sweep's layers too.
    assert all("limit" not in study.overrides for study in studies)
    assert studies[0].overrides["sweep_layers"] == book.depth_layers(book.model_spec("efficientnet_lite0"))
    with pytest.raises(ValueError, match="No book study 'nope'"):
        book.study("nope", "quick")


def test_a_preview_limits_every_study_and_its_curves_in_proportion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADCAM_STUDY_PROFILE", raising=False)
    monkeypatch.setenv("GRADCAM_STUDY_LIMIT", "160")
    studies = {study.name: study for study in book.book_studies("quick")}
    assert all(study.overrides["limit"] == 160 for study in studies.values())
    assert studies["main"].overrides["curve_limit"] == 32  # 200 of 1000 becomes 32 of 160
    assert studies["architecture:efficientnet_lite1"].overrides["curve_limit"] == 0
    # The paper profile's study has a limit of its own (10,000 images) and curves on all of them.
    assert book.preview_overrides(book.profile("paper").config, 400) == {"limit": 400, "curve_limit": 400}
    assert book.preview_overrides(book.profile("quick").config, None) == {}
