"""Readings of the heatmaps chapter: the rows of the Figure 5 analogue, the live correlations against the stored ones,
and the similarity over the kept images in words."""

from __future__ import annotations

import pandas as pd
import torch

from gradcam_study.explain import Explanation
from gradcam_study.findings import heatmaps
from gradcam_study.methods import METHOD_PAIRS, PLUS_PAIR_ID, pair_id
from gradcam_study.study import correlation_column
from gradcam_study.study.verdicts import Verdict

KINDS = ("pre_softmax", "post_softmax")
GC = pair_id("grad_cam_plus_plus", "grad_cam")


def similarity(plus_overlap: float, undefined: int = 0, verdict: Verdict | None = None) -> pd.DataFrame:
    rows, index = [], []
    for kind in KINDS:
        for first, second in METHOD_PAIRS:
            pair = pair_id(first, second)
            plus = pair == PLUS_PAIR_ID
            rows.append({"median_overlap": plus_overlap if plus else 0.8, "median_correlation": 0.99995,
                         "undefined": undefined, "verdict": (verdict or (Verdict.NEARLY_EQUAL if plus else Verdict.DIFFERENT)).value})
            index.append((pair, kind))
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["methods", "score"]))


def test_the_similarity_in_words_follows_the_overlaps() -> None:
    reading = heatmaps.similarity_reading(similarity(0.98), kept=21)
    assert reading["similarity-plus"] == (
        "the Grad-CAM++ and Grad-CAM+ heatmaps are nearly equal with pre-softmax gradients (median overlap 0.98, "
        "median correlation 1.0000) and nearly equal with post-softmax gradients (median overlap 0.98, median "
        "correlation 1.0000)")
    assert reading["similarity-gc"].startswith("the Grad-CAM++ and Grad-CAM heatmaps are different")
    assert reading["similarity-separates"].startswith("What separates the methods is therefore not the alphas")
    assert reading["similarity-undefined"].startswith("No correlation")
    # Where the alphas move the hot spots as much as the ReLU does, and some maps were constant, it says so.
    other = heatmaps.similarity_reading(similarity(0.7, undefined=1), kept=21)
    assert other["similarity-separates"].startswith("Here the alphas move the hot spots")
    assert other["similarity-undefined"].startswith("6 correlations over the kept images are undefined")


def test_too_few_images_show_the_numbers_without_a_verdict_or_a_conclusion() -> None:
    reading = heatmaps.similarity_reading(similarity(0.98, verdict=Verdict.TOO_FEW_IMAGES), kept=3)
    assert reading["similarity-plus"].startswith(
        "the Grad-CAM++ and Grad-CAM+ heatmaps are shown without a verdict with pre-softmax gradients (fewer than ")
    assert "median overlap 0.98" in reading["similarity-plus"] and "nearly equal" not in reading["similarity-plus"]
    assert reading["similarity-separates"].startswith("With fewer than ")
    assert "therefore" not in reading["similarity-separates"]


def test_live_correlations_are_read_against_the_stored_ones() -> None:
    torch.manual_seed(0)
    base = torch.rand(2, 4, 4)
    maps = {"grad_cam": base, "grad_cam_plus": base, "grad_cam_plus_plus": 2 * base + 1}
    explanation = Explanation(torch.zeros(2, 3, 8, 8), torch.zeros(2), "pre_softmax", "layer", None, maps, {})
    rows = heatmaps.live_correlations(explanation, [5, 9])
    assert list(rows.index) == [5, 9] and list(rows.columns) == [pair_id(*p) for p in METHOD_PAIRS]
    assert torch.allclose(torch.tensor(rows.to_numpy()), torch.ones(2, 3, dtype=torch.float64), atol=1e-6)

    images = pd.DataFrame({correlation_column("pre_softmax", a, b): [1.0, 1.0] for a, b in METHOD_PAIRS}, index=[5, 9])

    class Study:  # the one attribute rows_reading reads
        pass

    study = Study()
    study.images = images
    reading = heatmaps.rows_reading(rows, study)
    assert reading["rows-count"] == "2" and reading["rows-plus-min"] == "1.0000"
    exact = heatmaps.rows_reading(pd.DataFrame(images.to_numpy(), index=rows.index, columns=rows.columns), study)
    assert exact["rows-stored"] == "The live correlations are exactly the study's stored ones."
