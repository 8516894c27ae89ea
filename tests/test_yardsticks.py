"""Comparing methods under the other yardsticks: paired differences, the best methods, the sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradcam_study.study import YARDSTICKS
from gradcam_study.study.yardsticks import best_methods, head_to_head, paired_comparison, paired_values
from gradcam_study.findings.yardsticks import winners_finding
from test_study import run, small_folder  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def results(small_folder: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    return run(small_folder, tmp_path_factory.mktemp("cache")).at()


def test_paired_comparison_is_the_mean_of_per_image_differences(results) -> None:
    comparison = paired_comparison(results, "pre_softmax", "grad_cam_plus_plus", "grad_cam", threshold=0.0)
    assert comparison.index.tolist() == list(YARDSTICKS)
    for yardstick in YARDSTICKS:
        a, b = paired_values(results, "pre_softmax", "grad_cam_plus_plus", "grad_cam", yardstick, threshold=0.0)
        row = comparison.loc[yardstick]
        assert row["difference"] == pytest.approx(np.mean(a - b))
        assert row["first_value"] == pytest.approx(np.mean(a)) and row["images"] == len(a)
        if row["separated"]:
            assert not (row["low"] <= 0 <= row["high"])
        else:
            assert row["better"] == "neither"
    # Averages over all kept images; areas over the kept images with curves.
    assert comparison.loc["average_drop", "images"] == 8 and comparison.loc["deletion_auc", "images"] == 2
    yardsticks = results.yardsticks("pre_softmax", threshold=0.0)
    assert comparison.loc["average_drop", "first_value"] == pytest.approx(
        yardsticks.loc["grad_cam_plus_plus", ("average_drop", "value")])


def test_methods_with_the_same_maps_are_never_separated(results, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradcam_study.study import verdicts

    # At the pooling input HiResCAM's maps are Grad-CAM's up to rounding: the paired differences are rounding,
    # and the verdict is "identical" under every yardstick, Win % included, never one of them ahead.
    monkeypatch.setattr(verdicts, "MIN_IMAGES_FOR_VERDICT", 2)
    comparison = paired_comparison(results, "pre_softmax", "hires_cam", "grad_cam", threshold=0.0)
    assert not comparison["separated"].any()
    assert comparison["identical"].all()
    assert set(comparison.loc[["average_drop", "increase_in_confidence", "win_percent"], "verdict"]) == {"identical"}
    same = comparison.drop(index="win_percent")  # Win % of equal maps is decided by rounding, either way
    np.testing.assert_allclose(same["first_value"], same["second_value"], rtol=1e-3)


def test_best_methods_follow_the_direction_of_each_yardstick() -> None:
    columns = pd.MultiIndex.from_tuples([("average_drop", "value"), ("insertion_auc", "value")])
    frame = pd.DataFrame([[10.0, 0.2], [20.0, 0.5], [10.0, np.nan]], index=["a", "b", "c"], columns=columns)
    assert best_methods(frame, "average_drop") == ["a", "c"]  # lower is better; equal values tie
    assert best_methods(frame, "insertion_auc") == ["b"]  # higher is better; NaN is skipped
    assert best_methods(frame.iloc[2:], "insertion_auc") == []


def test_an_unknown_yardstick_is_a_clear_error(results) -> None:
    with pytest.raises(ValueError, match="Unknown yardstick 'speed'"):
        paired_values(results, "pre_softmax", "grad_cam", "grad_cam_plus", "speed", threshold=0.0)


def test_win_percent_is_judged_head_to_head_against_grad_cam(results) -> None:
    duel = head_to_head(results, "pre_softmax", threshold=0.0)
    wins = results.win_table("pre_softmax", threshold=0.0, pairs=(("grad_cam_plus", "grad_cam"),)).iloc[0]
    assert duel.loc["grad_cam_plus", "wins"] == pytest.approx(wins["win_first"])
    assert duel.loc["grad_cam_plus", "losses"] == pytest.approx(wins["win_second"])
    assert "grad_cam" not in duel.index
    assert "By Win %" in winners_finding(results, "pre_softmax", threshold=0.0)


def test_per_image_values_are_the_tables_means(results) -> None:
    table = results.yardsticks("pre_softmax", threshold=0.0)
    for yardstick in ("average_drop", "increase_in_confidence", "win_percent", "deletion_auc"):
        values = results.per_image("pre_softmax", "grad_cam_plus_plus", yardstick, threshold=0.0)
        assert values.mean() == pytest.approx(table.loc["grad_cam_plus_plus", (yardstick, "value")])
