"""The yardsticks read for people (gradcam_study.findings.yardsticks): sentences, the chapter's tables and facts."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_study import run, small_folder  # noqa: F401  (fixture)

from gradcam_study.findings.yardsticks import (
    against_grad_cam,
    beside_grad_cam_plus_plus_paper,
    chapter_facts,
    chapter_settings,
    findings_by_kind,
    hires_reading,
    overview,
    pair_finding,
    pixel_wise_reading,
    pixel_wise_table,
    relative_performance_reading,
    setting_names,
    win_pairs_table,
    winners_finding,
    yardstick_findings,
)
from gradcam_study.study.verdicts import MIN_IMAGES_FOR_VERDICT
from gradcam_study.study.yardsticks import paired_comparison


@pytest.fixture(scope="module")
def study(small_folder: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    return run(small_folder, tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def results(study):
    return study.at()


def test_too_few_images_get_no_verdict(results) -> None:
    # 8 images, 2 with curves: below the minimum for a verdict.
    sentence = pair_finding(results, "pre_softmax", "grad_cam_plus_plus", "grad_cam_plus", threshold=0.0)
    from gradcam_study.study.verdicts import MIN_IMAGES_FOR_VERDICT

    assert sentence.endswith(f"have too few images for a verdict (fewer than {MIN_IMAGES_FOR_VERDICT}).")
    assert "deletion AUC (2 images)" in sentence


def test_findings_are_sentences_about_every_yardstick(results, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradcam_study.study import verdicts, yardsticks

    monkeypatch.setattr(yardsticks, "MIN_IMAGES_FOR_VERDICT", 2)
    monkeypatch.setattr(verdicts, "MIN_IMAGES_FOR_VERDICT", 2)
    sentence = pair_finding(results, "pre_softmax", "grad_cam_plus_plus", "grad_cam_plus", threshold=0.0)
    assert sentence.endswith(".") and "Grad-CAM++" in sentence and "nan" not in sentence.lower()
    winners = winners_finding(results, "pre_softmax", threshold=0.0)
    for label in ("Average Drop %", "Increase in Confidence %", "Win %", "deletion AUC", "insertion AUC"):
        assert label in winners
    findings = yardstick_findings({"here": results}, "pre_softmax", threshold=0.0)
    assert findings.startswith("- **here.**")


def test_pair_finding_groups_the_yardsticks_by_verdict_and_turns_a_gap_the_winners_way(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from gradcam_study.findings import yardsticks as readings
    from gradcam_study.study.verdicts import Verdict

    def row(verdict: Verdict, difference: float = 0.0, low: float = 0.0, high: float = 0.0, images: int = 50) -> dict:
        better = {Verdict.FIRST_AHEAD: "first", Verdict.SECOND_AHEAD: "second"}.get(verdict, "neither")
        return {"first_value": 20.0, "second_value": 20.0 - difference, "difference": difference, "low": low,
                "high": high, "images": images, "verdict": verdict.value, "better": better,
                "separated": better != "neither"}

    comparison = pd.DataFrame.from_dict({
        "average_drop": row(Verdict.ALIKE),
        "increase_in_confidence": row(Verdict.NOT_SEPARATED),
        "win_percent": row(Verdict.IDENTICAL),
        "deletion_auc": row(Verdict.SECOND_AHEAD, difference=0.05, low=0.03, high=0.07),
        "insertion_auc": row(Verdict.TOO_FEW_IMAGES, images=2),
    }, orient="index")
    monkeypatch.setattr(readings, "paired_comparison", lambda *args, **kwargs: comparison)
    sentence = pair_finding(None, "pre_softmax", "grad_cam_plus_plus", "grad_cam_plus")  # type: ignore[arg-type]
    assert "identical under Win % head-to-head." in sentence
    assert "Under Average Drop % Grad-CAM++ and Grad-CAM+ are alike" in sentence
    assert "Increase in Confidence % does not separate Grad-CAM++ and Grad-CAM+" in sentence
    # A lower deletion AUC is better: the second method is ahead, by a positive gap with its interval turned too.
    assert "Under deletion AUC (50 images), Grad-CAM+ is ahead by 0.050 [0.030, 0.070]" in sentence
    assert sentence.endswith(f"Insertion AUC (2 images) has too few images for a verdict (fewer than "
                             f"{MIN_IMAGES_FOR_VERDICT}).")
    assert readings.standing(comparison, "insertion_auc", "grad_cam").startswith(
        "shown without a verdict (too few images) beside Grad-CAM under insertion AUC")


def test_a_small_separated_difference_never_prints_as_zero() -> None:
    from gradcam_study.findings.yardsticks import _value

    assert _value("average_drop", 0.0123) == "0.012" and _value("average_drop", 1.26) == "1.3"
    assert _value("deletion_auc", 0.0) == "0.000"


def test_overview_counts_every_setting(results) -> None:
    text = overview({"here": results}, threshold=0.0)
    assert "Over the 2 settings" in text and "Best (alone, or equal at the printed precision)" in text


def test_relative_performance_reading_names_the_side_each_interval_puts_ahead(
    results, monkeypatch: pytest.MonkeyPatch
) -> None:
    statistics = results.statistics(0.0, pairs=(("layer_cam", "grad_cam_plus"),))
    reading = relative_performance_reading(statistics)
    assert reading.startswith("LayerCAM vs Grad-CAM+: pre-softmax ") and "post-softmax" in reading
    # At the pooling input LayerCAM's maps are Grad-CAM+'s; with 8 images there is no verdict either way.
    assert reading.count("no verdict (fewer than") == 2
    from gradcam_study.study import verdicts

    monkeypatch.setattr(verdicts, "MIN_IMAGES_FOR_VERDICT", 2)
    statistics = results.statistics(0.0, pairs=(("layer_cam", "grad_cam_plus"),))
    assert relative_performance_reading(statistics).count("(identical)") == 2


def test_the_chapter_names_its_settings_by_role(study) -> None:
    settings = chapter_settings(study)
    # The small study explains the last map only: no inner layer.
    assert list(settings) == ["last"] and settings["last"].layer == "_avg_pooling:input"
    assert setting_names(settings) == {"last": "_avg_pooling (input) (last map)"}
    facts = chapter_facts(study, settings, threshold=0.0)
    assert facts["layer-last"] == "_avg_pooling (input) (last map)" and facts["layer-inner"] == "no inner layer"
    assert facts["yardsticks-kept"] == facts["yardsticks-images"] == str(len(study.images))
    assert facts["yardsticks-min-images"] == str(MIN_IMAGES_FOR_VERDICT) and "±" in facts["yardsticks-bounds"]
    text = findings_by_kind(settings, threshold=0.0)
    assert text.startswith("**Pre-softmax maps.**\n\n- **_avg_pooling (input) (last map).**")
    assert "**Post-softmax maps.**" in text


def test_the_win_table_prints_each_pair_both_ways(results) -> None:
    table = win_pairs_table(results, threshold=0.0)
    assert table.index.names == ["score", "methods (first vs second)"]
    row = table.loc[("pre-softmax", "Grad-CAM++ vs Grad-CAM")]
    wins = results.win_table("pre_softmax", 0.0, pairs=(("grad_cam_plus_plus", "grad_cam"),)).iloc[0]
    assert row["Win % of the first [95% CI]"] == (f"{wins['win_first']:.1f} [{wins['low']:.1f}, {wins['high']:.1f}]")
    assert float(row["Win % of the first [95% CI]"].split()[0]) + float(row["Win % of the second"]) \
        + float(row["ties %"]) == pytest.approx(100, abs=0.2)


def test_pixel_wise_pairs_are_read_with_labels(results) -> None:
    table = pixel_wise_table(results, threshold=0.0)
    assert ("HiResCAM vs Grad-CAM", "pre-softmax") in table.index
    # At the pooling input HiResCAM draws Grad-CAM's maps (8 images: too few for a verdict word).
    assert table.loc[("HiResCAM vs Grad-CAM", "pre-softmax"), "median correlation"] == "1.000"
    assert table.loc[("HiResCAM vs Grad-CAM", "pre-softmax"), "heatmaps"].startswith("no verdict")
    assert pixel_wise_reading({"last": results}, threshold=0.0).startswith(
        "At _avg_pooling (input) (last map): HiResCAM vs Grad-CAM: pre-softmax ")


def test_hires_cam_is_grad_cam_where_the_gradient_is_constant(results, monkeypatch: pytest.MonkeyPatch) -> None:
    # At the pooling input the gradient is constant within every map.
    assert results.gradient_constant_share("pre_softmax") == 1
    reading = hires_reading(results, "the last map", threshold=0.0)
    assert "At the last map, where the gradient is constant within every feature map" in reading
    monkeypatch.setattr(type(results), "gradient_constant_share", lambda self, kind: 0.5)
    assert hires_reading(results, "the last map", threshold=0.0) == ""


def test_beside_the_grad_cam_plus_plus_paper(results) -> None:
    table = beside_grad_cam_plus_plus_paper(results, threshold=0.0)
    comparison = paired_comparison(results, "pre_softmax", "grad_cam_plus_plus", "grad_cam", 0.0)
    assert table.loc[("Average Drop %", "Grad-CAM++"), "this build"] == f"{comparison.loc['average_drop', 'first_value']:.1f}"
    against = against_grad_cam(results, threshold=0.0)
    assert against["standings"].count(";") == 2 and "Grad-CAM under Average Drop %" in against["standings"]
    duel = comparison.loc["win_percent"]
    assert against["ties"] == pytest.approx(100 - duel["first_value"] - duel["second_value"])
