"""Result frames keyed by identifiers are labelled only when displayed."""

from __future__ import annotations

import pandas as pd

from gradcam_study.presentation.tables import labelled_frame, study_times_table, styled_summary


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
