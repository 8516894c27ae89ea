"""Result frames keyed by identifiers are labelled only when displayed."""

from __future__ import annotations

import pandas as pd

from gradcam_study.presentation.tables import labelled_frame, statistics_table, study_times_table, styled_summary
from gradcam_study.study.results import tost_column, verdict_column
from gradcam_study.study.verdicts import SHOWN_MARGINS, Verdict


def test_a_frame_keyed_by_identifiers_is_labelled_for_display() -> None:
    index = pd.MultiIndex.from_tuples([("grad_cam_plus_plus/grad_cam", "pre_softmax")], names=["methods", "score"])
    frame = pd.DataFrame({"relative_performance": [1.2], "verdict_within_5pct": ["alike"]}, index=index)
    shown = labelled_frame(frame)
    assert shown.index[0] == ("Grad-CAM++ vs Grad-CAM", "pre-softmax")
    assert list(shown.columns) == ["relative performance", "verdict, 5% margin"]
    assert shown.index.names == ["methods", "score"]
    # The frame itself keeps its identifiers.
    assert frame.index[0] == ("grad_cam_plus_plus/grad_cam", "pre_softmax")


def test_summaries_print_counts_as_integers_and_shares_as_percentages() -> None:
    frame = pd.DataFrame({"pre_softmax": [3.0, 0.25]}, index=["far_from_half", "share_near_half"])
    html = styled_summary(frame).to_html()
    assert ">3</td>" in html and ">25.000%</td>" in html and "share |alpha - 1/2| <= 0.03" in html


def test_study_times_are_labelled_and_rounded() -> None:
    times = pd.DataFrame({"images": [24], "layers": [2], "seconds": [12.6], "images_per_second": [1.9047],
                          "forward_mode": ["eager"], "warmup_seconds": [0.0]}, index=pd.Index(["main"], name="study"))
    html = study_times_table(times).to_html()
    assert "time (s)" in html and ">13<" in html and ">1.90<" in html


def test_the_statistics_table_labels_its_rows_and_columns() -> None:
    row = {"first": "grad_cam_plus_plus", "second": "grad_cam_plus", "relative_performance": 1.0, "ci_low": 0.9,
           "ci_high": 1.1, "wilcoxon_statistic": 3.0, "p_value_holm": 0.5, "median_log_ratio": 0.0, "identical": False,
           "images": 30, **{verdict_column(m): Verdict.FIRST_AHEAD.value for m in SHOWN_MARGINS},
           **{tost_column(m): 0.2 for m in SHOWN_MARGINS}}
    frame = pd.DataFrame([row], index=pd.MultiIndex.from_tuples([("grad_cam_plus_plus/grad_cam_plus", "post_softmax")],
                                                                names=["methods", "score"]))
    shown = statistics_table(frame).data
    assert list(shown.index) == [("Grad-CAM++ vs Grad-CAM+", "post-softmax")]
    assert shown.loc[("Grad-CAM++ vs Grad-CAM+", "post-softmax"), "verdict, 1% margin"] == "Grad-CAM++ ahead"
