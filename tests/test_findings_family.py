"""The readings of the chapter on the Grad-CAM family (gradcam_study.findings.family) and its figures
(gradcam_study.presentation.family_figures), on hand-made tensors and rows."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import pandas as pd
import pytest
import torch

from gradcam_study.findings import family
from gradcam_study.methods import PAPER_METHODS, class_activation_map, grad_cam_weights, min_max_normalise, upsample
from gradcam_study.presentation.family_figures import grad_cam_steps_figure, shown_feature_maps, two_classes_figure
from gradcam_study.presentation.labels import METHOD_LABELS

matplotlib.use("Agg")


def _images() -> pd.DataFrame:
    return pd.DataFrame({
        "path": ["cat_a.JPEG", "cat_b.JPEG", "dog.JPEG", "other.JPEG"],
        "label": [281, 285, 200, 7],
        "predicted": [281, 285, 3, 7],
        "probability": [0.7, 0.9, 0.99, 0.5],
    })


def test_the_best_recognised_image_of_a_class_group_is_chosen_and_a_fallback_otherwise() -> None:
    results = SimpleNamespace(images=_images())
    # The dog is not predicted correctly: the fallback is the image whose true class is the most probable.
    assert family.chosen_images(results) == {"cat": 1, "dog": 2}
    table = family.chosen_table(results, {"cat": 1})
    assert table.loc["cat", "image"] == "cat_b.JPEG" and table.loc["cat", "probability"] == 0.9
    assert family.image_note(results, 1).startswith("image cat_b.JPEG, explained for its class ")
    assert family.composite_note(results, 1, 2).startswith("left image cat_b.JPEG (column: class ")


def _two_classes(left_share: float, right_share: float) -> SimpleNamespace:
    """A composite 2 x 4 wide, explained for two classes: each heatmap puts the given share on its own half."""
    maps = torch.zeros(2, 2, 4)
    maps[0, :, :2], maps[0, :, 2:] = left_share, 1 - left_share
    maps[1, :, 2:], maps[1, :, :2] = right_share, 1 - right_share
    return SimpleNamespace(pixels=torch.zeros(2, 3, 2, 4), upsampled={m: maps for m in PAPER_METHODS})


def test_own_half_shares_and_their_reading() -> None:
    shares = family.own_half_shares(_two_classes(0.8, 0.6), ["tabby", "beagle"])
    assert list(shares.columns) == [METHOD_LABELS[m] for m in PAPER_METHODS]
    assert shares.index.tolist() == ["tabby (left)", "beagle (right)"]
    assert shares.iloc[:, 0].tolist() == pytest.approx([0.8, 0.6])
    assert family.own_half_clause(shares).startswith(", so each class is found where it is")
    strays = family.own_half_shares(_two_classes(0.8, 0.4), ["tabby", "beagle"])
    assert "strays onto the other animal" in family.own_half_clause(strays)


def test_top_classes_are_ranked_from_one() -> None:
    probabilities = torch.zeros(1000)
    probabilities[[281, 151, 7]] = torch.tensor([0.2, 0.5, 0.1])
    top = family.top_classes(probabilities, 3)
    assert top.index.tolist() == [1, 2, 3] and top["probability"].tolist() == pytest.approx([0.5, 0.2, 0.1])


def test_alpha_forms_agree_up_to_rounding_and_base_e_is_eq_9() -> None:
    generator = torch.Generator().manual_seed(0)
    activations = torch.rand(1, 4, 3, 3, generator=generator)
    gradients = torch.randn(1, 4, 3, 3, generator=generator) * 0.01
    gradients[0, 0, 0, 0] = 0.0
    explained = SimpleNamespace(activations=activations, gradients=gradients)
    check = family.alpha_forms({"pre_softmax": explained})
    assert list(check.columns) == [("pre-softmax", "float32"), ("pre-softmax", "float64")]
    assert check.loc["units", ("pre-softmax", "float64")] == "36"
    assert check.loc["units with g != 0", ("pre-softmax", "float64")] == "35"
    assert float(check.loc["max |eq. (9) - eq. (13)| where g != 0", ("pre-softmax", "float64")]) < 1e-12
    assert check.loc["max |eq. (12), a = e - eq. (9)|", ("pre-softmax", "float64")] == "0"
    assert float(check.loc["max |eq. (12), a = 2 - eq. (9)|", ("pre-softmax", "float64")]) > 0
    assert check.loc["all 0 where g = 0 (if any unit has g = 0)"].tolist() == ["True", "True"]


def test_constant_maps_are_counted_per_kind_and_method() -> None:
    counts = {("pre_softmax", "grad_cam_plus_plus"): 2}
    results = SimpleNamespace(score_kinds=("pre_softmax", "post_softmax"),
                              constant_maps=lambda kind, method: counts.get((kind, method), 0))
    reading = family.constant_maps_reading(results)
    assert reading == ("pre-softmax: Grad-CAM 0, Grad-CAM+ 0, Grad-CAM++ 2; "
                       "post-softmax: Grad-CAM 0, Grad-CAM+ 0, Grad-CAM++ 0")


def test_the_figures_draw_what_they_are_given() -> None:
    activations = torch.rand(1, 6, 4, 4)
    activations[0, 3] *= 10
    gradients = torch.randn(1, 6, 4, 4)
    weights = grad_cam_weights(activations, gradients)
    combined = class_activation_map(activations, weights)
    upsampled = upsample(min_max_normalise(combined), (16, 16))[0, 0]
    shown = shown_feature_maps(activations[0], weights[0])
    assert len(set(shown)) == 4
    figure = grad_cam_steps_figure(torch.rand(3, 16, 16), activations[0], weights[0], combined[0], upsampled, "tabby")
    assert "image: tabby" in [ax.get_title() for ax in figure.get_axes()]
    two = two_classes_figure(torch.rand(3, 16, 32), {m: torch.rand(2, 16, 32) for m in PAPER_METHODS}, ["a", "b"])
    assert len(two.get_axes()) == 2 * len(PAPER_METHODS)
    assert two.get_axes()[1].get_title() == f"{METHOD_LABELS[PAPER_METHODS[0]]}, class b"
