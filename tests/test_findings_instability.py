"""Readings of the chapter on unstable alphas: the clauses that switch with the result (the pole shows or not, a
unit stands out or not, the sign argument holds or not), the inner layer's paragraphs, the pole table for display."""

from __future__ import annotations

import torch
from test_findings_alphas import found_from, study, text  # noqa: F401  (fixture)
from test_study import small_folder  # noqa: F401  (fixture)

import pandas as pd

from gradcam_study.findings import alphas, instability
from gradcam_study.methods import nonzero_alphas

LAYERS = ("_avg_pooling:input", "_blocks.15")


def test_data_set_reading_says_whether_the_pole_shows() -> None:
    quiet = pd.DataFrame({"pre_softmax": {"far_from_half": 0, "alpha_min": 0.4, "alpha_max": 0.6, "term_min": -0.3,
                                          "share_far_from_half": 0.0, "images_far_from_half": 0}})
    reading = instability.data_set_reading(quiet)
    assert "never approached" in text(reading["data-set-verdict"])
    assert "none lies outside [0, 1]" in text(reading["data-set-kinds"])
    loud = quiet.copy()
    loud.loc[["far_from_half", "images_far_from_half"], "pre_softmax"] = 3
    reading = instability.data_set_reading(loud)
    assert text(reading["data-set-verdict"]) == "The formula's instability shows up on this model and data."
    assert "3 of them" in text(reading["data-set-kinds"])



def test_typical_reading_counts_the_alphas_outside() -> None:
    extremes = alphas.image_extremes(found_from([0.5, 0.4, 2.0], [1.0, 1.0, -1.0], [1.0, 1.0, 1.0]))
    assert instability.typical_reading(extremes)["typical-outside"] == "1 of its 3 non-zero alphas lie outside [0, 1]."
    extremes = alphas.image_extremes(found_from([0.5, 0.4], [1.0, 1.0], [1.0, 1.0]))
    assert instability.typical_reading(extremes)["typical-outside"] == "none of its 2 non-zero alphas lies outside [0, 1]."



def test_extreme_unit_stands_out_only_when_few_units_exceed_it() -> None:
    many = 300
    # The farthest alpha (0.3) at the largest gradient of the image: it stands out.
    found = found_from([0.3] + [0.5] * many, [9.0] + [1.0] * many, [1.0] * (many + 1))
    reading = instability.extreme_unit_reading(found)
    assert "|gradient| is the largest of the image" in text(reading["unit-verdict"])
    assert reading["unit-larger-gradient"] == "0.0%" and reading["unit-stands-out"] == "1%"
    # The same alpha at a gradient and in a map smaller than most others': nothing stands out.
    found = found_from([0.3] + [0.5] * many, [0.1] + [1.0] * many, [0.1] + [1.0] * many)
    assert text(instability.extreme_unit_reading(found)["unit-verdict"]).startswith("Neither is among the largest 1%")



def test_sign_reading_tells_whether_the_instability_reaches_the_weights() -> None:
    activations = torch.tensor([[[[1.0, 1.0]]]])
    gradients = torch.tensor([[[[-0.7, 0.2]]]])  # t = -1.4 (alpha 5/3) at a negative gradient, t = 0.4 at a positive one
    explanation = type("E", (), {"activations": activations, "gradients": gradients})()
    reading = instability.sign_reading(explanation, nonzero_alphas(activations, gradients))
    assert reading["sign-activations"] == "non-negative" and reading["sign-above-half"] == "0"
    assert "cannot change the weights" in text(reading["sign-verdict"])
    signed = torch.tensor([[[[-1.0, -1.0]]]])
    explanation = type("E", (), {"activations": signed, "gradients": gradients})()
    reading = instability.sign_reading(explanation, nonzero_alphas(signed, gradients))
    assert reading["sign-activations"] == "not all non-negative"
    assert "can change the heatmap" in text(reading["sign-verdict"])



def test_without_an_inner_layer_the_optional_paragraphs_are_empty(study) -> None:  # noqa: F811
    results = study.at()
    assert text(instability.inner_outliers_reading(results, None)["inner-outliers"]) == ""
    assert text(instability.conditioning_reading(None, None)["inner-conditioning"]) == ""
    assert text(instability.inner_sign_reading(None, None)["inner-sign"]) == ""
    assert "this section is skipped" in text(instability.inner_layer_reading(results, None)["inner-constancy"])



def test_inner_layer_readings(study) -> None:  # noqa: F811
    results, inner = study.at_role("last_map"), study.at_role("inner_signed")
    reading = instability.inner_layer_reading(results, inner)
    assert f"The inner layer is {inner.provenance.layer}" in text(reading["inner-constancy"])
    assert "the gradient varies within the maps" in text(reading["inner-constancy"])
    image = instability.farthest_image(inner)
    assert "condition number" in text(instability.conditioning_reading(inner, image)["inner-conditioning"])
    assert "correlate at" in text(instability.inner_sign_reading(inner, image)["inner-sign"])
    both = instability.both_layers_extremes(results, inner)
    assert both.columns.names == ["score", "layer"] and len(both.columns) == 2 * len(results.score_kinds)



def test_pole_table_and_its_display(study) -> None:  # noqa: F811
    pole = instability.pole_table(study)
    assert list(pole.columns) == list(instability.POLE_COLUMNS) and len(pole) == 2 * len(study.layers)
    assert pole.index[0] == ("pre_softmax", LAYERS[0])
    shown = instability.pole_display(pole)
    assert shown.index.names == ["score", "layer"] and shown.index[0][0] == "pre-softmax"
    assert all(value.endswith("%") for value in shown.to_numpy().ravel())
    reading = instability.pole_reading(pole)
    assert reading["pole-kind"] in ("pre-softmax", "post-softmax") and reading["pole-layer"]
