"""Sweeps over layers and models: the summary frame, its table and the sentences generated from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradcam_study import book
from gradcam_study.study import StudyConfig, run_study
from gradcam_study.models import model_spec
from gradcam_study.study.analysis import UNITS_COLUMN, alpha_column
from gradcam_study.study.sweeps import NON_NEGATIVE, SIGNED, DepthPlace, decide, depth_places, layer_summary
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
    np.testing.assert_allclose(rp["value"], results.table1(0.0)["pre_softmax"].to_numpy())
    assert ((rp["low"] <= rp["value"]) & (rp["value"] <= rp["high"])).all()
    value = lambda quantity, layer_summary=summary: layer_summary[  # noqa: E731
        (layer_summary["quantity"] == quantity) & (layer_summary["kind"] == "pre_softmax")]["value"].item()
    far = results.alpha_extremes("pre_softmax")["far_from_half"]
    assert value("share_outside_units") == pytest.approx(far / results.images[UNITS_COLUMN].sum())
    # _blocks.15 is a linear bottleneck: a good share of its activations are negative.
    assert 0.1 < value("negative_activation_share") < 0.9
    assert 0 <= value("positive_outside_share") <= 1 and 0 <= value("outside_weight_share") <= 1
    log_rp = results.log_relative_performance("pre_softmax", "grad_cam_plus_plus", "grad_cam_plus", 0.0)
    plus = summary[(summary["kind"] == "pre_softmax") & (summary["pair"] == "grad_cam_plus_plus/grad_cam_plus")]
    assert plus.set_index("quantity").loc["median_log_ratio", "value"] == pytest.approx(np.median(log_rp))
    assert plus.set_index("quantity").loc["share_ratio_above_two", "value"] == pytest.approx(np.mean(log_rp > np.log(2)))
    # Only a median correlation can be undefined (every heatmap constant: random images can do that).
    assert set(summary.loc[summary["value"].isna(), "quantity"]) <= {"median_correlation"}


def test_after_a_relu_no_positive_gradient_alpha_leaves_zero_one(two_layers) -> None:
    """The last map follows ReLU6: no negative activation, so t has the sign of g and a positive gradient's alpha
    stays in (0, 1/2]: the pole cannot reach the weights."""
    summary = layer_summary(two_layers.at("_avg_pooling:input"), threshold=0.0)
    per_layer = summary[summary["pair"] == ""].set_index(["kind", "quantity"])["value"]
    for kind in ("pre_softmax", "post_softmax"):
        assert per_layer[(kind, "negative_activation_share")] == 0
        assert per_layer[(kind, "positive_outside_share")] == 0 and per_layer[(kind, "outside_weight_share")] == 0
    images = two_layers.at("_avg_pooling:input").images
    assert (images[alpha_column("pre_softmax", "positive_gradient_units")] > 0).all()


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


def _rp(setting: str, value: float, low: float, high: float, p: float, tost: float, kind: str = "pre_softmax",
        pair: str = "grad_cam_plus_plus/grad_cam_plus", **extra) -> dict:
    return {"setting": setting, "kind": kind, "pair": pair, "quantity": "relative_performance", "value": value,
            "low": low, "high": high, "p_value": p, "tost_p_value": tost, "kept": 50, **extra}


def test_holm_within_a_table_withdraws_verdicts_a_single_test_would_give() -> None:
    rows = pd.DataFrame([_rp("a", 1.2, 1.05, 1.3, 0.03, 0.5), _rp("b", 1.2, 1.05, 1.3, 0.04, 0.5)])
    alone = decide(rows.iloc[:1])
    assert alone["verdict"].item() == "better"
    both = decide(rows)
    np.testing.assert_allclose(both["p_holm"], [0.06, 0.06])
    assert (both["verdict"] == "not distinguishable").all()
    # A significant test whose interval includes 1 gives no verdict: both must agree.
    assert decide(pd.DataFrame([_rp("c", 1.01, 0.99, 1.03, 1e-6, 0.5)]))["verdict"].item() == "not distinguishable"
    equivalent = decide(pd.DataFrame([_rp(name, 1.0, 0.99, 1.01, 0.5, tost) for name, tost in
                                      (("d", 0.001), ("e", 0.03), ("f", 0.04))]))
    assert equivalent["equivalent"].tolist() == [True, False, False]  # Holm: 0.003, 0.06, 0.06
    # Each score kind is its own table, its own family.
    kinds = decide(pd.DataFrame([_rp("g", 1.0, 0.99, 1.01, 0.5, 0.03), _rp("g", 1.0, 0.99, 1.01, 0.5, 0.04, "post_softmax")]))
    assert kinds["equivalent"].tolist() == [True, True]


def test_depth_places_split_stages_by_sign() -> None:
    lite = model_spec("efficientnet_lite0")
    places = depth_places(lite, ("_avg_pooling:input", "_blocks.15", *lite.stages, *lite.nonnegative_stages))
    assert places["_blocks.15"] == DepthPlace(7, SIGNED)
    assert places["_blocks.15._project_conv (input)"] == DepthPlace(7, NON_NEGATIVE)
    assert places["_avg_pooling (input)"].depth_label == "last map" and len(places) == 15
    vgg = depth_places(model_spec("vgg16"), model_spec("vgg16").stages)
    assert vgg["features.3"] == DepthPlace(1, NON_NEGATIVE) and vgg["features.29"].map == "last_map"
