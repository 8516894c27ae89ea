"""Readings of the alphas: one image's extremes under the study's keys, boxplot numbers, central shares, the pole
table for display, and the clauses that switch with the result."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from IPython.display import Markdown
from test_study import CONFIG, run, small_folder  # noqa: F401  (fixture)

from gradcam_study.findings import alphas as readings
from gradcam_study.methods import NonZeroAlphas, nonzero_alphas
from gradcam_study.study import alpha_column, squeezed_bin_edges

LAYERS = ("_avg_pooling:input", "_blocks.15")


def text(value: str | Markdown) -> str:
    return value.data if isinstance(value, Markdown) else value


def found_from(alphas: list[float], gradients: list[float], sums: list[float]) -> NonZeroAlphas:
    """Non-zero alphas built by hand: ``t = 1/alpha - 2``."""
    alpha = torch.tensor(alphas, dtype=torch.float64)
    return NonZeroAlphas(alphas=alpha, terms=1 / alpha - 2, gradients=torch.tensor(gradients, dtype=torch.float64),
                         activation_sums=torch.tensor(sums, dtype=torch.float64), units=len(alphas))


@pytest.fixture(scope="module")
def study(small_folder: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    config = replace(CONFIG, layers=LAYERS, curve_limit=0, methods=("grad_cam", "grad_cam_plus", "grad_cam_plus_plus"))
    return run(small_folder, tmp_path_factory.mktemp("cache"), config=config)


def test_image_extremes_by_hand() -> None:
    # Maps of sums 2 (first) and -4 (second); gradients 0.5 and 0.4: t = 1 and -1.6, alphas 1/3 and 2.5.
    activations = torch.tensor([[[[1.0, 1.0]], [[-2.0, -2.0]]]])
    gradients = torch.tensor([[[[0.5, 0.0]], [[0.4, 0.0]]]])
    extremes = readings.image_extremes(nonzero_alphas(activations, gradients))
    assert extremes["nonzero_alphas"] == 2 and extremes["far_from_half"] == 1
    assert extremes["far_at_positive_gradient"] == 1 and extremes["share_far_from_half"] == 0.5
    assert extremes["alpha_max"] == pytest.approx(2.5) and extremes["alpha_min"] == pytest.approx(1 / 3)
    assert extremes["term_min"] == pytest.approx(-1.6) and extremes["closest_to_pole"] == pytest.approx(0.4)


def test_image_extremes_match_the_study_summaries(study) -> None:
    # The live reading of one image and the study's stored summary of it agree, under the same keys.
    for layer in LAYERS:
        results = study.at(layer)
        image = results.typical_image(threshold=0.0)
        extremes = readings.image_extremes(readings.explained_alphas(results, image)[1])
        row = results.images.loc[image]
        stored = {"alpha_min": "alpha_min", "alpha_max": "alpha_max", "term_min": "denominator_term_min",
                  "term_max": "denominator_term_max", "closest_to_pole": "denominator_closest_to_pole",
                  "far_from_half": "alpha_far_from_half", "nonzero_alphas": "alpha_count"}
        for key, column in stored.items():
            assert extremes[key] == pytest.approx(row[alpha_column("pre_softmax", column)], rel=1e-3, abs=1e-6), key
        assert set(extremes.index) - {"far_at_positive_gradient"} <= set(results.alpha_extremes().index)


def test_box_summary_whiskers_leave_out_the_outlier() -> None:
    values = np.array([0.5] * 9 + [3.0])
    summary = readings.box_summary(values)
    assert summary["upper_whisker"] == 0.5 and summary["max"] == 3.0
    assert summary["share_beyond_whiskers"] == pytest.approx(0.1) and summary["count"] == 10


def test_central_shares_count_the_bins_within_each_window() -> None:
    edges = squeezed_bin_edges()
    histogram = np.zeros(len(edges) - 1)
    histogram[len(histogram) // 2] = 3  # just right of the centre
    histogram[0] = 1  # at -1
    central = readings.central_shares(histogram, edges)
    assert central.loc[0.01, "bins"] == 2 and central.loc[0.01, "share_of_alphas"] == 0.75
    assert central.loc[0.25, "alpha_window"] == pytest.approx(np.arctanh(0.25))


def test_score_kinds_reading_needs_both_closer() -> None:
    def column(near: float, q01: float, q99: float) -> dict[str, float]:
        return {"share_near_half": near, "pooled_q01": q01, "pooled_q99": q99}

    summary = pd.DataFrame({"pre_softmax": column(0.9, 0.4, 0.6), "post_softmax": column(0.99, 0.49, 0.51)})
    assert "do sit closer" in text(readings.score_kinds_reading(summary)["kinds-verdict"])
    summary["post_softmax"] = pd.Series(column(0.99, 0.3, 0.7))
    assert "not uniformly closer" in text(readings.score_kinds_reading(summary)["kinds-verdict"])


def test_paper_range_reading() -> None:
    one_image = pd.DataFrame({"lower_whisker": [0.49, -0.1], "upper_whisker": [0.51, 0.1]},
                             index=["alpha", "denominator_term"])
    reading = readings.paper_range_reading(one_image)
    assert "lie inside the paper's range" in text(reading["paper-range-verdict"])
    assert reading["implied-low"] == f"{1 / 0.53 - 2:.3f}"
    one_image.loc["alpha", "lower_whisker"] = 0.3
    assert "not all inside" in text(readings.paper_range_reading(one_image)["paper-range-verdict"])


def test_near_half_reading_clauses() -> None:
    edges = squeezed_bin_edges()
    histogram = np.zeros(len(edges) - 1)
    histogram[len(histogram) // 2] = 10
    central = readings.central_shares(histogram, edges)
    summary = pd.Series({"share_near_half": 1.0, "pooled_q01": 0.5, "pooled_q99": 0.5, "pooled_q50": 0.5,
                         "far_from_half": 2, "nonzero_alphas": 10})
    reading = readings.near_half_reading(summary, central, histogram)
    assert text(reading["central-clause"]).startswith("most non-zero alphas pile up")
    assert text(reading["outside-clause"]).startswith("only 2 alphas of 10")


def test_tables_label_identifiers_only_for_display() -> None:
    frame = pd.DataFrame({"alpha": readings.box_summary(np.array([0.4, 0.5, 0.6])),
                          "denominator_term": readings.box_summary(np.array([-0.1, 0.0, 0.1]))}).T
    shown = readings.box_table(frame).data
    assert list(shown.index) == ["alpha", "denominator term t"] and "share beyond whiskers" in shown.columns
    kinds = readings.box_table(frame.rename(index={"alpha": "pre_softmax"}), readings.BOX_KIND_COLUMNS).data
    assert kinds.index[0] == "pre-softmax" and kinds.columns[0] == "lower whisker"
    edges = squeezed_bin_edges()
    central = readings.central_table(readings.central_shares(np.ones(len(edges) - 1), edges)).data
    assert central.index.name == "within |tanh(alpha - 1/2)| <=" and central.index[0] == 0.01
    checks = pd.DataFrame({"pre_softmax": {"units_per_map": 49, "maps_positive_plus_weight": 3, "ratio_q01": 1.0}})
    assert list(readings.equation_14_table(checks).data.index)[:2] == ["Z (units per map)", "maps with positive GC+ weight"]
