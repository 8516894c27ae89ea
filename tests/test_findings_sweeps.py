"""The depth and architecture sweeps read for people (gradcam_study.findings.sweeps): tables, sentences, the
depth chapter's facts, figures' images and tables."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from test_study import small_folder  # noqa: F401  (fixture)
from test_sweeps import _rp, two_layers  # noqa: F401  (fixture)

from gradcam_study.findings.sweeps import (
    QUANTITIES,
    SIGN_COLUMNS,
    architecture_table,
    depth_facts,
    depth_or_sign,
    left_out_note,
    partner_layer,
    sign_table,
    sweep_findings,
    sweep_table,
    worst_images,
)
from gradcam_study.models import model_spec
from gradcam_study.study.sweeps import (
    NON_NEGATIVE,
    PLUS_PAIR,
    SIGNED,
    DepthPlace,
    decide,
    depth_places,
    sweep_summary,
    worst_setting,
)
from gradcam_study.study.verdicts import NEAR_HALF


def test_sweep_table_and_findings(two_layers) -> None:  # noqa: F811
    summary = sweep_summary({layer: two_layers.at(layer) for layer in two_layers.layers}, threshold=0.0)
    assert summary["position"].max() == 1
    table = sweep_table(summary, "pre_softmax")
    assert table.index.tolist() == ["_blocks.15", "_avg_pooling:input"]
    assert table.columns[0] == "Grad-CAM++ vs Grad-CAM" and table.iloc[0, 0].count("[") == 1
    text = sweep_findings(summary)
    assert text.count("With pre-softmax maps") == 1 and text.count("With post-softmax maps") == 1
    assert "2 layers" in text and "nan" not in text.lower()
    assert not any("nan" in str(cell).lower() for cell in sweep_table(summary, "post_softmax").to_numpy().ravel())


def _depth_summary(signed_equivalent: list[bool], nonnegative_equivalent: list[bool]) -> pd.DataFrame:
    """A hand-made depth summary: one stage per entry, GC++/GC+ equivalent or far from 1 at each map."""
    rows = []
    for stage, (signed, nonneg) in enumerate(zip(signed_equivalent, nonnegative_equivalent), start=1):
        for kind_of_map, ok in ((SIGNED, signed), (NON_NEGATIVE, nonneg)):
            setting = f"s{stage}-{kind_of_map}"
            value = 1.0 if ok else 0.3
            rows.append(_rp(setting, value, value * 0.99, value * 1.01, 0.5 if ok else 1e-9, 1e-9 if ok else 0.9,
                            stage=stage, map=kind_of_map))
            for quantity, share in (("positive_outside_share", 0.0 if kind_of_map == NON_NEGATIVE else 0.01),
                                    ("outside_weight_share", 0.0 if kind_of_map == NON_NEGATIVE else 0.15)):
                rows.append({"setting": setting, "kind": "pre_softmax", "pair": "", "quantity": quantity,
                             "value": share, "stage": stage, "map": kind_of_map, "kept": 50})
    return decide(pd.DataFrame(rows))


def test_depth_or_sign_reads_which_maps_break_down() -> None:
    by_sign = depth_or_sign(_depth_summary([True, False, False], [True, True, True]))
    assert "follows the sign of the activations, not depth" in by_sign and "at 1 of the 3 signed" in by_sign
    assert "(2 of 2 shown equivalent)" in by_sign and "differ at 2 signed and 0 non-negative maps" in by_sign
    assert "at 3 of the 3 non-negative" in by_sign and "farthest from 1 at s2-signed (0.300 [0.297, 0.303])" in by_sign
    assert "no alpha at a positive gradient lies outside [0, 1]" in by_sign and "median 15.0%" in by_sign
    assert "follows depth, not sign" in depth_or_sign(_depth_summary([True, False], [True, False]))
    assert "neither depth nor sign alone" in depth_or_sign(_depth_summary([False, False], [False, True]))
    assert "neither depth nor sign is shown to break" in depth_or_sign(_depth_summary([True], [True]))
    assert worst_setting(_depth_summary([True, False], [True, True])) == "s2-signed"
    # Maps neither shown equivalent nor shown different do not count as a breakdown: too few images decide nothing.
    undecided = _depth_summary([False, False], [True, True])
    undecided.loc[undecided["setting"] == "s1-signed", "verdict"] = "not distinguishable"
    assert "follows the sign" in depth_or_sign(undecided) and "at the one stage where" in depth_or_sign(undecided)
    undecided.loc[undecided["setting"] == "s2-signed", "verdict"] = "not distinguishable"
    assert "neither depth nor sign is shown to break" in depth_or_sign(undecided)
    only_nonnegative = _depth_summary([True], [True])
    only_nonnegative = only_nonnegative[only_nonnegative["map"] == NON_NEGATIVE]
    assert "cannot be separated" in depth_or_sign(only_nonnegative)


def test_a_depth_table_goes_by_stage_signed_map_first() -> None:
    summary = _depth_summary([True, False], [True, True])
    table = sweep_table(summary, "pre_softmax")
    assert table.index.tolist() == [("stage 1", "s1-signed"), ("stage 1", "s1-non_negative"),
                                    ("stage 2", "s2-signed"), ("stage 2", "s2-non_negative")]
    assert table["activations"].tolist()[:2] == ["signed (block output)", "non-negative"]
    assert table.loc[("stage 1", "s1-signed"), "Grad-CAM++ vs Grad-CAM+"].endswith("equivalent")
    assert table.loc[("stage 2", "s2-signed"), "Grad-CAM++ vs Grad-CAM+"].endswith("worse")
    sign = sweep_table(summary, "pre_softmax", SIGN_COLUMNS)
    assert sign.loc[("stage 2", "s2-signed"), "positive-gradient alphas outside [0, 1]"] == "1.0%"


def test_the_near_half_label_follows_the_declared_criterion() -> None:
    assert QUANTITIES["share_near_half"] == f"alphas within {NEAR_HALF:g} of 1/2"


def test_each_map_has_a_partner_at_its_depth_and_the_last_map_none() -> None:
    places = {"s": DepthPlace(1, SIGNED), "n": DepthPlace(1, NON_NEGATIVE), "last": DepthPlace(2, "last_map")}
    assert partner_layer(places, "s") == "n" and partner_layer(places, "n") == "s"
    assert partner_layer(places, "last") == "last"
    assert left_out_note(["vgg16: no weights."]) == "vgg16: no weights."


def test_the_sign_table_says_where_the_gradient_is_constant() -> None:
    summary = _depth_summary([True], [True])
    layers = {"s1-signed": SimpleNamespace(gradient_constant_share=lambda kind: 0.0),
              "s1-non_negative": SimpleNamespace(gradient_constant_share=lambda kind: 1.0)}
    table = sign_table(summary, layers, "pre_softmax")
    assert table.columns[1] == "gradient constant within maps"
    assert table["gradient constant within maps"].tolist() == ["0% of images", "100% of images"]


def test_depth_facts_and_worst_images_on_a_two_layer_study(two_layers) -> None:  # noqa: F811
    places = depth_places(model_spec("efficientnet_lite0"), two_layers.layers)
    facts = depth_facts(two_layers, places, threshold=0.0)
    assert facts["depth-layer-count"] == "2" and facts["depth-signed-count"] == "1"
    assert facts["depth-kept"] == facts["depth-images"] == str(len(two_layers.images))
    assert facts["depth-near-half"] == f"{NEAR_HALF:g}" and facts["equivalence-margin"].endswith("%")
    results = two_layers.at("_blocks.15")
    chosen = worst_images(results, threshold=0.0)
    ratios = pd.Series(results.log_relative_performance("pre_softmax", *PLUS_PAIR, 0.0),
                       index=results.kept(0.0).index)
    assert len(chosen) == 3 and ratios[chosen[0]] == ratios.min() and ratios[chosen[0]] <= ratios[chosen[1]]


def test_the_architecture_table_leads_with_top_1(two_layers) -> None:  # noqa: F811
    summary = sweep_summary({f"efficientnet_lite0 at {layer}": two_layers.at(layer) for layer in two_layers.layers},
                            threshold=0.0)
    table = architecture_table(summary, {"efficientnet_lite0": two_layers}, "pre_softmax")
    assert table.columns[0] == "top-1 (input)" and table.iloc[0, 0].endswith("(224 px)")
    assert "negative activations" in table.columns and "nan" not in table.to_string().lower()
