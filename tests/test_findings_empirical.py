"""Readings of the empirical tests: the live example, Table 1 against the verdicts, Figure 6's numbers, the margins,
the threshold sweep and the inner layer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from test_study import CONFIG, run, small_folder  # noqa: F401  (fixture)

from gradcam_study.findings import empirical
from gradcam_study.methods import (
    METHOD_PAIRS,
    PAPER_METHODS,
    PLUS_PAIR,
    PLUS_PAIR_ID,
    pair_id,
)
from gradcam_study.study import log_prob_column
from gradcam_study.study.results import (
    statistics_over_layers,
    tost_column,
    verdict_column,
)
from gradcam_study.study.verdicts import SHOWN_MARGINS, Verdict

KINDS = ("pre_softmax", "post_softmax")
GC = pair_id("grad_cam_plus_plus", "grad_cam")


@pytest.fixture(scope="module")
def study(small_folder: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    config = replace(CONFIG, layers=("_avg_pooling:input", "_blocks.15"), curve_limit=0, methods=PAPER_METHODS)
    return run(small_folder, tmp_path_factory.mktemp("cache"), config=config)


def statistics(verdicts: dict[tuple[str, str], str]) -> pd.DataFrame:
    """A statistics frame of every paper pair and score kind, verdicts given per (pair, kind) (default not
    separated at every margin)."""
    rows, index = [], []
    for kind in KINDS:
        for first, second in METHOD_PAIRS:
            pair = pair_id(first, second)
            verdict = verdicts.get((pair, kind), Verdict.NOT_SEPARATED.value)
            rows.append({
                "first": first, "second": second, "relative_performance": 1.02, "ci_low": 0.9, "ci_high": 1.1,
                "p_value_holm": 0.5, "median_log_ratio": 0.01, "images": 40, "identical": False,
                **{verdict_column(m): verdict for m in SHOWN_MARGINS}, **{tost_column(m): 0.3 for m in SHOWN_MARGINS},
            })
            index.append((pair, kind))
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["methods", "score"]))


def table1(plus: float, positive: float) -> pd.DataFrame:
    return pd.DataFrame({kind: [1.1, positive, plus] for kind in KINDS},
                        index=pd.Index([pair_id(*p) for p in METHOD_PAIRS], name="methods"))


def test_the_example_is_the_image_nearest_the_quantile_of_the_gap() -> None:
    gaps = np.array([0.0, 0.01, 0.02, 0.5, 2.0])
    kept = pd.DataFrame({log_prob_column("pre_softmax", "grad_cam_plus_plus"): -1.0 + gaps,
                         log_prob_column("pre_softmax", "grad_cam"): np.full(5, -1.0)}, index=[10, 11, 12, 13, 14])
    # The 90th percentile of the gaps is 1.4: image 14 (2.0) is nearer than image 13 (0.5).
    assert empirical.example_image(kept) == 14
    assert empirical.example_image(kept, quantile=0.5) == 12


def test_table1_reading_says_whether_grad_cam_plus_plus_is_ahead_as_in_the_paper() -> None:
    ahead = {(GC, kind): Verdict.FIRST_AHEAD.value for kind in KINDS}
    reading = empirical.table1_reading(table1(plus=0.99, positive=1.05), statistics(ahead))
    assert reading["t1-gcpp-gcp-pre"] == "0.990" and reading["t1-paper-gcpp-gcp-pre"] == "1.06"
    assert reading["t1-within"] == "1.0%" and reading["t1-upto"] == "10.0%"
    assert reading["t1-alphas"].startswith("In both columns the alphas move the result less")
    assert reading["t1-ahead"].data.startswith("and, as in the paper") and "{ref}`analysis-plan`" in reading["t1-ahead"].data

    # Ahead with one kind only: the clause names the other, with its verdict and interval.
    one = empirical.table1_reading(table1(plus=0.9, positive=1.05), statistics({(GC, "pre_softmax"): "first_ahead"}))
    assert one["t1-alphas"].startswith("In at least one column the alphas move the result more")
    assert one["t1-ahead"].data.startswith("unlike the paper")
    assert "with post-softmax maps the verdict is \"not separated\" at the 1% margin (95% interval 0.900 to 1.100)" \
        in one["t1-ahead"].data and "pre-softmax" not in one["t1-ahead"].data


def test_the_verdict_list_has_one_item_per_pair_and_kind_pairs_first() -> None:
    items = empirical.verdict_list(statistics({(PLUS_PAIR_ID, "post_softmax"): Verdict.ALIKE.value})).data.split("\n")
    assert len(items) == 6
    assert items[0].startswith("- Grad-CAM++ vs Grad-CAM (pre-softmax): 1.020, interval 0.900 to 1.100;")
    assert items[1].startswith("- Grad-CAM++ vs Grad-CAM (post-softmax)")
    assert "alike at the 1% margin (TOST p = 0.3); alike at the 5% margin" in items[5]
    assert items[5].endswith("the Wilcoxon signed-rank test finds no systematic difference (p = 0.5)")


def test_figure6_spread_counts_images_within_one_percent_and_above_one() -> None:
    per_image = pd.DataFrame({"relative_performance": [0.5, 0.995, 1.005, 1.2], "pair": PLUS_PAIR_ID,
                              "score": "pre_softmax"})
    spread = empirical.relative_performance_spread(per_image)
    row = spread.loc[(PLUS_PAIR_ID, "pre_softmax")]
    assert row["share_within_one_percent"] == 0.5 and row["share_above_one"] == 0.5 and row["median"] == 1.0
    assert empirical.spread_reading(spread) == {"spread-band": "1%", "spread-gcpp-gcp-pre": "50.0%"}


def test_margins_reading_says_from_which_margin_equivalence_is_shown() -> None:
    margins = [0.01, 0.05]
    index = pd.MultiIndex.from_tuples([(pair_id(*p), k) for k in KINDS for p in METHOD_PAIRS], names=["methods", "score"])
    sweep = pd.DataFrame(0.5, index=index, columns=margins)
    sweep.loc[(PLUS_PAIR_ID, "post_softmax"), 0.05] = 0.01
    shown = empirical.margins_reading(sweep)["margins-shown"]
    assert shown.startswith("For Grad-CAM++ vs Grad-CAM+, equivalence is shown at none of these margins with "
                            "pre-softmax maps and from a margin of 5.0% with post-softmax maps.")
    assert "For Grad-CAM++ vs Grad-CAM, equivalence is shown at none of these margins with both kinds of score." in shown
    assert empirical.margins_reading(sweep)["margins-level"] == f"{empirical.SIGNIFICANCE_LEVEL:g}"


def test_threshold_reading_names_empty_thresholds_and_ranges() -> None:
    columns = pd.MultiIndex.from_tuples([("kept", "images"), ("pre_softmax", PLUS_PAIR_ID), ("pre_softmax", GC)])
    sweep = pd.DataFrame([[9, 0.98, 0.9], [4, 0.98, 1.1]], columns=columns, index=[0.0, 0.1])
    reading = empirical.threshold_reading(sweep, [0.8, 0.9])
    assert reading["sweep-empty"].startswith("No image is kept at the thresholds 0.8, 0.9,")
    assert reading["sweep-gcpp-gcp-pre"] == "stays at 0.980"
    assert reading["sweep-gcpp-gc-pre"] == "lies between 0.900 and 1.100"
    assert reading["sweep-kept"] == "falls from 9 to 4 images"
    assert (reading["sweep-lowest"], reading["sweep-highest"]) == ("0", "0.9")  # the empty thresholds count too
    assert empirical.threshold_reading(sweep.iloc[:1], [])["sweep-kept"] == "stays at 9 images"
    assert empirical.threshold_reading(sweep, [])["sweep-empty"] == "Every threshold keeps at least one image."


def test_the_live_example_reproduces_the_studys_probabilities(study) -> None:
    results = study.at_role("last_map")
    kept = results.kept(0.0)
    example = empirical.map_example(results, empirical.example_image(kept))
    for m in PAPER_METHODS:
        assert example.probability[m] == pytest.approx(example.stored[m], rel=1e-3, abs=1e-6)
        assert example.maps[m].shape == example.explanation.pixels[0].shape
    reading = empirical.map_example_reading(example)
    assert reading["example-probabilities"].count(" map") == 3


def test_kept_and_sweep_readings_of_a_study(study) -> None:
    results = study.at_role("last_map")
    reading = empirical.kept_reading(results, 0.0)
    assert reading["kept-count"] == reading["kept-total"] == "8" and reading["paper-images"] == "10,000"
    assert reading["kept-skipped"].startswith("No image was skipped")
    sweep, empty = empirical.threshold_sweep(results, (0.0, 1.0))
    assert empty == [1.0] and list(sweep.index) == [0.0] and sweep[("kept", "images")].iloc[0] == 8
    assert empirical.kept_shares(results, (0.0, 1.0)).tolist() == [1.0, 0.0]


def test_inner_layer_readings(study) -> None:
    results, inner = study.at_role("last_map"), study.at_role("inner_signed")
    assert "this section is skipped" in empirical.inner_kept_clause(results, None, 0.0)
    assert empirical.inner_kept_clause(results, inner, 0.0).startswith("At the threshold 0.0, 8 of the 8 images are kept at _blocks.15")
    layers = {results.provenance.layer: results, inner.provenance.layer: inner}
    table1, table2 = empirical.tables_by_layer(layers, 0.0)
    assert list(table1.columns) == [(k, name) for k in KINDS for name in layers]
    assert table2.index.names == ["methods", "statistic"] and len(table2) == 6
    plus = statistics_over_layers(layers, 0.0, pairs=(PLUS_PAIR,))
    text = empirical.inner_layer_reading(plus, layers, 0.0).data
    assert text.startswith("At _blocks.15, Grad-CAM++ against Grad-CAM+ scores")
    assert "at _avg_pooling (input) (relative performance" in text and "{ref}`analysis-plan`" in text


def test_several_images_explained_in_one_batch_match_each_explained_alone(study) -> None:
    from gradcam_study.explain import explain_study_image, explain_study_images

    results = study.at_role("last_map")
    images = list(results.images.index[:2])
    together = explain_study_images(results, images)
    for row, image in enumerate(images):
        alone = explain_study_image(results, image)
        assert int(together.targets[row]) == int(results.images.loc[image, "label"])
        for m in PAPER_METHODS:
            assert torch.allclose(together.heatmaps[m][row], alone.heatmaps[m][0], atol=1e-5)
