"""The headline: what holds of the paper's claims at each kind of layer, what goes against it first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gradcam_study.study import verdicts
from gradcam_study.findings.headline import STANDING_WORDS, findings, headline, layer_kinds, standing
from gradcam_study.study.verdicts import Verdict
from test_study import CONFIG, run, small_folder  # noqa: F401  (fixture)

LAYERS = ("_avg_pooling:input", "_blocks.15", "_blocks.15._project_conv:input")


@pytest.fixture(scope="module")
def study(small_folder: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    config = replace(CONFIG, layers=LAYERS, curve_limit=0, methods=("grad_cam", "grad_cam_plus", "grad_cam_plus_plus"))
    return run(small_folder, tmp_path_factory.mktemp("cache"), config=config)


def test_standing_reads_each_claim() -> None:
    assert standing("alike", Verdict.ALIKE) == standing("alike", Verdict.IDENTICAL) == "agrees"
    assert standing("alike", Verdict.SECOND_AHEAD) == standing("alike", Verdict.FIRST_AHEAD) == "against"
    assert standing("better", Verdict.FIRST_AHEAD) == "agrees"
    # "Better" fails where Grad-CAM is ahead, and where the two are alike or identical (no gain).
    for verdict in (Verdict.SECOND_AHEAD, Verdict.ALIKE, Verdict.IDENTICAL):
        assert standing("better", verdict) == "against"
    assert standing("nearly_equal", Verdict.DIFFERENT) == "against"
    assert standing("nearly_equal", Verdict.NEARLY_EQUAL) == "agrees"
    for claim in ("alike", "better", "nearly_equal"):
        assert standing(claim, Verdict.NOT_SEPARATED) == standing(claim, Verdict.TOO_FEW_IMAGES) == "not_settled"


def test_layer_kinds_name_the_last_map_and_both_inner_layers(study) -> None:
    kinds = layer_kinds(study)
    assert {name: results.layer for name, results in kinds.items()} == {
        "last map": "_avg_pooling:input",
        "inner layer, signed": "_blocks.15",
        "inner layer, non-negative": "_blocks.15._project_conv:input",
    }


def test_too_few_images_settle_nothing(study) -> None:
    # Eight images, below the minimum: every finding is "not settled", and the headline says so.
    found = findings(study.at(), "pre_softmax", threshold=0.0)
    assert set(found["standing"]) == {"not_settled"}
    assert set(found["verdict"]) == {Verdict.TOO_FEW_IMAGES.value}
    text = headline(layer_kinds(study), threshold=0.0)
    assert "Against the paper" not in text and "As the paper" not in text
    assert text.count("No verdict under relative performance, heatmaps, Average Drop %") == 2 * len(layer_kinds(study))


def test_headline_opens_each_item_with_what_goes_against_the_paper(study, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdicts, "MIN_IMAGES_FOR_VERDICT", 2)
    kinds = layer_kinds(study)
    text = headline(kinds, threshold=0.0)
    items = text.split("\n")
    assert len(items) == len(kinds) * 2  # one per kind of layer and kind of score
    assert items[0].startswith("- **last map, _avg_pooling (input), pre-softmax.**")
    assert "nan" not in text.lower()
    for item in items:
        positions = [item.find(words) for words in STANDING_WORDS.values() if words in item]
        assert positions == sorted(positions)  # against, then agrees, then not settled
    found = findings(kinds["inner layer, signed"], "pre_softmax", threshold=0.0)
    # Every claim is judged by the paper's metric, the heatmaps (for the alike pair) and every yardstick.
    assert set(found["evidence"]) >= {"relative performance", "heatmaps", "average_drop", "win_percent"}
    against = found[found["standing"] == "against"]
    if len(against):
        assert items[2].split("**", 2)[2].lstrip().startswith("Against the paper:")
