"""Readings of the heatmaps chapter: the images of the Figure 5 analogue, the live correlations of their heatmaps
against the study's stored ones, and the similarity of the heatmaps over the kept images in words.

The verdicts (identical, nearly equal, different) are those :meth:`~gradcam_study.study.LayerResults.heatmap_similarity`
decided by the criteria of :mod:`gradcam_study.study.verdicts`; they become words only through
:func:`~gradcam_study.study.verdicts.verdict_words`.

>>> similarity_reading(results.heatmap_similarity(), kept=21)["similarity-kept"]   # doctest: +SKIP
'21'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from IPython.display import Markdown

from ..capture import ScoreKind
from ..explain import Explanation
from ..methods import METHOD_PAIRS, PLUS_PAIR_ID, pair_id
from ..metrics import pearson_per_image
from ..presentation.formats import decimals, percent, significant
from ..presentation.labels import SCORE_KIND_LABELS, pair_label
from ..study import correlation_column
from ..study.config import DEFAULT_THRESHOLD
from ..study.results import LayerResults
from ..study.verdicts import (
    NEARLY_EQUAL_CORRELATION,
    MIN_IMAGES_FOR_VERDICT,
    NEARLY_EQUAL_OVERLAP,
    TOP_SHARE,
    Verdict,
    verdict_words,
)

#: Glued values: plain strings (``{glue:text}``) or Markdown clauses (``{glue:md}``).
Reading = dict[str, "str | Markdown"]

GRAD_CAM_PAIR_ID = pair_id("grad_cam_plus_plus", "grad_cam")


def figure5_images(results: LayerResults, rows: int = 6, threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """``rows`` images spread evenly over the data set's order, among those kept at ``threshold`` (all analysed
    images where fewer are kept): the rows of the Figure 5 analogue."""
    kept = results.kept(threshold)
    pool = kept if len(kept) >= rows else results.images
    return [int(i) for i in pool.index[np.linspace(0, len(pool) - 1, rows).round().astype(int)]]


def live_correlations(explanation: Explanation, images: list[int]) -> pd.DataFrame:
    """The Pearson correlation of each pair's heatmaps at feature-map resolution
    (:func:`~gradcam_study.metrics.pearson_per_image`) on each explained image: rows ``images`` (the explanation's
    order), columns pair identifiers."""
    return pd.DataFrame(
        {pair_id(a, b): pearson_per_image(explanation.heatmaps[a], explanation.heatmaps[b]).cpu().numpy()
         for a, b in METHOD_PAIRS},
        index=pd.Index(images, name="image"),
    )


def rows_reading(rows: pd.DataFrame, results: LayerResults, kind: ScoreKind = "pre_softmax") -> Reading:
    """The live correlations against the study's stored ones (``rows-stored``), the number of rows, and the range of
    Grad-CAM++ against Grad-CAM+ and against Grad-CAM over them (``rows-*``)."""
    stored = results.images.loc[rows.index, [correlation_column(kind, a, b) for a, b in METHOD_PAIRS]].to_numpy()
    largest_gap = float(np.nanmax(np.abs(rows.to_numpy() - stored)))
    plus, grad_cam = rows[PLUS_PAIR_ID], rows[GRAD_CAM_PAIR_ID]
    return {
        "rows-stored": (f"The live correlations differ from the study's stored ones by at most "
                        f"{significant(largest_gap, 2)}." if largest_gap > 0
                        else "The live correlations are exactly the study's stored ones."),
        "rows-count": str(len(rows)),
        "rows-plus-min": decimals(plus.min(), 4),
        "rows-gc-min": decimals(grad_cam.min()),
        "rows-gc-max": decimals(grad_cam.max()),
    }


def kept_correlations(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The stored per-image heatmap correlations over the kept images, long: ``correlation``, ``pair`` and
    ``score`` (identifiers)."""
    kept = results.require_kept(threshold)
    return pd.concat(
        [pd.DataFrame({"correlation": kept[correlation_column(kind, a, b)].to_numpy(), "pair": pair_id(a, b),
                       "score": kind})
         for kind in results.score_kinds for a, b in METHOD_PAIRS],
        ignore_index=True,
    )


def criteria_reading() -> Reading:
    """The declared criteria of the heatmap verdicts, printed."""
    return {
        "correlation-criterion": f"{NEARLY_EQUAL_CORRELATION:g}",
        "overlap-criterion": f"{NEARLY_EQUAL_OVERLAP:g}",
        "top-share": percent(TOP_SHARE, 0),
    }


def pair_verdicts(similarity: pd.DataFrame, pair: str) -> str:
    """``"the Grad-CAM++ and Grad-CAM+ heatmaps are nearly equal with pre-softmax gradients (median overlap 0.98,
    median correlation 1.0000) and ..."``: a pair's verdict with each score kind and what it rests on."""
    kinds = list(dict.fromkeys(similarity.index.get_level_values(1)))
    parts = []
    for k in kinds:
        row = similarity.loc[(pair, k)]
        numbers = (f"median overlap {decimals(row['median_overlap'], 2)}, median correlation "
                   f"{decimals(row['median_correlation'], 4)}")
        # Below the minimum the numbers are shown without a verdict, in a clause that still reads after "are".
        if row["verdict"] == Verdict.TOO_FEW_IMAGES.value:
            parts.append(f"shown without a verdict with {SCORE_KIND_LABELS[k]} gradients (fewer than "
                         f"{MIN_IMAGES_FOR_VERDICT} images; {numbers})")
        else:
            parts.append(f"{verdict_words(row['verdict'])} with {SCORE_KIND_LABELS[k]} gradients ({numbers})")
    return f"the {pair_label(pair).replace(' vs ', ' and ')} heatmaps are {' and '.join(parts)}"


def similarity_reading(similarity: pd.DataFrame, kept: int) -> Reading:
    """The similarity over the kept images in words: each of the two pairs' verdicts (``similarity-plus``,
    ``similarity-gc``), whether the alphas move the hot spots less than the ReLU on the gradients
    (``similarity-separates``: the median overlap of Grad-CAM++ and Grad-CAM+ above that of Grad-CAM++ and Grad-CAM
    with every score kind; no conclusion where a verdict had too few images) and the undefined correlations
    (``similarity-undefined``)."""
    kinds = list(dict.fromkeys(similarity.index.get_level_values(1)))
    judged = not (similarity["verdict"] == Verdict.TOO_FEW_IMAGES.value).any()
    closer = all(similarity.loc[(PLUS_PAIR_ID, k), "median_overlap"] > similarity.loc[(GRAD_CAM_PAIR_ID, k),
                                                                                      "median_overlap"] for k in kinds)
    undefined = int(similarity["undefined"].sum())
    return {
        "similarity-kept": str(kept),
        "similarity-plus": pair_verdicts(similarity, PLUS_PAIR_ID),
        "similarity-gc": pair_verdicts(similarity, GRAD_CAM_PAIR_ID),
        "similarity-separates": (
            f"With fewer than {MIN_IMAGES_FOR_VERDICT} images behind some of these medians, no conclusion is drawn "
            "on whether the alphas or the ReLU on the gradients move the hot spots more."
            if not judged else
            "What separates the methods is therefore not the alphas but the ReLU on the gradients: Grad-CAM+ and "
            "Grad-CAM++ share it, and once it is applied the alphas move the hot spots of the heatmap less."
            if closer else
            "Here the alphas move the hot spots of the heatmaps at least as much as the ReLU on the gradients does, "
            "with at least one kind of score."
        ),
        "similarity-undefined": (
            f"{undefined} correlations over the kept images are undefined because a heatmap was constant (for "
            "instance all zero after the ReLU of eq. (2)); the medians leave them out." if undefined
            else "No correlation over the kept images is undefined (no heatmap was constant)."
        ),
    }


__all__ = ["Reading", "criteria_reading", "figure5_images", "kept_correlations", "live_correlations", "pair_verdicts",
           "rows_reading", "similarity_reading"]
