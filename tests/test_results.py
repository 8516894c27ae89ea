"""The statistics of a layer's results: Holm within each table, the verdicts at two margins, identical heatmaps,
the top-pixel overlap, and one family over several layers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gradcam_study.methods import PIXEL_WISE_PAIRS
from gradcam_study.study import verdicts
from gradcam_study.study.results import statistics_over_layers, tost_column, verdict_column
from gradcam_study.study.verdicts import SHOWN_MARGINS, Verdict, holm
from test_study import CONFIG, run, small_folder  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def study(small_folder: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    config = replace(CONFIG, layers=("_avg_pooling:input", "_blocks.15"), curve_limit=0)
    return run(small_folder, tmp_path_factory.mktemp("cache"), config=config)


def test_p_values_are_holm_adjusted_over_the_table(study) -> None:
    statistics = study.at().statistics(0.0)
    np.testing.assert_allclose(statistics["p_value_holm"], holm(statistics["p_value"].to_numpy()))
    assert (statistics["p_value_holm"] >= statistics["p_value"]).all()
    for margin in SHOWN_MARGINS:
        assert (statistics[tost_column(margin)] >= statistics[f"tost_p_within_{round(100 * margin):g}pct"]).all()


def test_eight_images_give_no_verdict_word(study) -> None:
    statistics = study.at("_blocks.15").statistics(0.0)
    for margin in SHOWN_MARGINS:
        assert set(statistics[verdict_column(margin)]) == {Verdict.TOO_FEW_IMAGES.value}


def test_rounding_equal_maps_read_identical_at_the_last_map(study, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdicts, "MIN_IMAGES_FOR_VERDICT", 2)
    results = study.at()
    # At the pooling input the gradient is constant within each map: HiResCAM draws Grad-CAM's maps up to rounding.
    statistics = results.statistics(0.0, pairs=PIXEL_WISE_PAIRS)
    hires = statistics.loc[("hires_cam/grad_cam", "pre_softmax")]
    assert hires["identical"] and hires[verdict_column(SHOWN_MARGINS[0])] == Verdict.IDENTICAL.value
    similarity = results.heatmap_similarity(0.0, pairs=PIXEL_WISE_PAIRS)
    assert similarity.loc[("hires_cam/grad_cam", "pre_softmax"), "verdict"] == Verdict.IDENTICAL.value
    assert similarity.loc[("hires_cam/grad_cam", "pre_softmax"), "median_overlap"] == pytest.approx(1.0)
    # At an inner layer they are methods of their own.
    assert not study.at("_blocks.15").identical("pre_softmax", "hires_cam", "grad_cam", 0.0)


def test_overlap_is_stored_and_bounded(study) -> None:
    similarity = study.at("_blocks.15").heatmap_similarity(0.0)
    assert similarity["median_overlap"].between(0, 1).all()
    assert set(similarity["verdict"]) <= {v.value for v in Verdict}


def test_one_family_over_several_layers(study) -> None:
    layers = {"last": study.at(), "inner": study.at("_blocks.15")}
    table = statistics_over_layers(layers, 0.0)
    assert table.index.names == ["layer", "methods", "score"] and len(table) == 12
    np.testing.assert_allclose(table["p_value_holm"], holm(table["p_value"].to_numpy()))
    # A family of twelve adjusts at least as much as each layer's own family of six.
    per_layer = study.at("_blocks.15").statistics(0.0)["p_value_holm"].to_numpy()
    assert (table.loc["inner", "p_value_holm"].to_numpy() >= per_layer - 1e-12).all()
