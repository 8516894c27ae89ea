"""Display vocabulary: identifiers become labels in one place; captions name subsets."""

from __future__ import annotations

from gradcam_study.study.provenance import Provenance
from gradcam_study.presentation.labels import label, labelled, layer_label, pair_label


def test_identifiers_have_labels_and_unknown_ones_print_as_themselves() -> None:
    assert label("grad_cam_plus_plus") == "Grad-CAM++"
    assert label("post_softmax") == "post-softmax"
    assert labelled(["alpha_min", "something_else"]) == ["smallest alpha", "something_else"]
    assert pair_label("grad_cam_plus", "grad_cam") == "Grad-CAM+ vs Grad-CAM"
    assert layer_label("_avg_pooling:input") == "_avg_pooling (input)"


def test_caption_names_an_evenly_spread_subset_and_the_kept_count() -> None:
    provenance = Provenance("quick", "efficientnet_lite0", "_blocks.15", "sample", 100, "cpu", total=1000)
    caption = provenance.caption(score_kind="post_softmax", kept=80)
    assert "100 images (an evenly spread subset of 1000), 80 kept" in caption
    assert "score post-softmax" in caption
    assert "subset" not in Provenance("quick", "m", "l", "d", 1000, "cpu", total=1000).caption()
