"""Readings of the alphas shared by their two chapters, and those of the chapter on nearly constant alphas: one
image's extremes under the keys of :meth:`~gradcam_study.study.LayerResults.alpha_extremes`, boxplot numbers, the
data set's summary and near-half shares, eq. (14) on one image, and the clauses whose words depend on the result.
:mod:`.instability` reads the chapter on numerically unstable alphas.

Criteria (declared in :mod:`gradcam_study.study.verdicts`): an alpha is *near one half* when
``|alpha - 1/2| <= NEAR_HALF``, *outside [0, 1]* when ``|alpha - 1/2| > 1/2``.

>>> import torch
>>> from gradcam_study.methods import nonzero_alphas
>>> extremes = image_extremes(nonzero_alphas(torch.ones(1, 1, 1, 2), torch.tensor([[[[0.0, 0.5]]]])))
>>> float(extremes["term_max"]), round(float(extremes["alpha_max"]), 4)   # t = (1 + 1) * 0.5, alpha = 1 / (2 + t)
(1.0, 0.3333)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from IPython.display import Markdown
from matplotlib.cbook import boxplot_stats
from pandas.io.formats.style import Styler

from ..capture import ScoreKind
from ..data import class_name
from ..explain import Explanation, explain_study_image
from ..methods import (
    CONSTANT_WITHIN_MAPS_RTOL,
    NonZeroAlphas,
    constant_within_maps,
    grad_cam_plus_plus_weights,
    grad_cam_plus_weights,
    nonzero_alphas,
    within_map_spread,
)
from ..metrics import pearson_per_image
from ..models import Classifier
from ..paper import ONE_IMAGE_ALPHA_RANGE
from ..presentation.formats import decimals, percent, significant
from ..presentation.labels import SCORE_KIND_LABELS, label
from ..presentation.tables import labelled_frame
from ..study import (
    ALPHA_QUANTILES,
    DEFAULT_THRESHOLD,
    AlphaArrays,
    LayerResults,
    alpha_column,
    squeezed_bin_edges,
)
from ..study.verdicts import NEAR_HALF

#: Glued values: plain strings (``{glue:text}``) or Markdown clauses (``{glue:md}``).
Reading = dict[str, "str | Markdown"]
#: Half-widths around the centre of the squeezed axis of :func:`central_shares`.
CENTRAL_WINDOWS = (0.01, NEAR_HALF, 0.1, 0.25)


def image_extremes(found: NonZeroAlphas) -> pd.Series:
    """One image's non-zero alphas (eq. (9)) in a few numbers, keyed like
    :meth:`~gradcam_study.study.LayerResults.alpha_extremes` (and the study's per-image summaries): their count and
    extremes, how many lie outside [0, 1] (``|alpha - 1/2| > 1/2``), their share, how many of those at a positive
    gradient, the share within ``NEAR_HALF`` of 1/2, the extremes of ``t`` and the smallest ``|2 + t|``."""
    alpha, term, gradient = (x.cpu().numpy() for x in (found.alphas, found.terms, found.gradients))
    far = np.abs(alpha - 0.5) > 0.5
    return pd.Series({
        "nonzero_alphas": alpha.size,
        "alpha_min": alpha.min(),
        "alpha_max": alpha.max(),
        "far_from_half": int(far.sum()),
        "share_far_from_half": far.mean(),
        "far_at_positive_gradient": int((far & (gradient > 0)).sum()),
        "share_near_half": np.mean(np.abs(alpha - 0.5) <= NEAR_HALF),
        "term_min": term.min(),
        "term_max": term.max(),
        "closest_to_pole": np.abs(2 + term).min(),
    })


def box_summary(values: np.ndarray) -> dict[str, float]:
    """The numbers behind a boxplot of ``values`` without outliers: quartiles, whisker ends (last value within 1.5
    interquartile ranges of the box), extremes and the share of values beyond the whiskers.

    >>> summary = box_summary(np.array([0.5] * 9 + [3.0]))
    >>> float(summary["upper_whisker"]), float(summary["share_beyond_whiskers"])
    (0.5, 0.1)
    """
    stats = boxplot_stats(values)[0]
    return {
        "count": values.size,
        "min": values.min(),
        "lower_whisker": stats["whislo"],
        "q25": stats["q1"],
        "median": stats["med"],
        "q75": stats["q3"],
        "upper_whisker": stats["whishi"],
        "max": values.max(),
        "share_beyond_whiskers": np.mean((values < stats["whislo"]) | (values > stats["whishi"])),
    }


def _quantile_name(q: float) -> str:
    return f"q{round(100 * q):02d}"


def alpha_summary(results: LayerResults, kind: ScoreKind, pooled: np.ndarray) -> pd.Series:
    """The data set's non-zero alphas for ``kind``: quantiles and whisker ends of the pooled sample ``pooled``, the
    median over images of each image's quantiles, then :meth:`LayerResults.alpha_extremes`'s count, near-half share,
    count outside [0, 1] and extremes."""
    summary = {f"pooled_{_quantile_name(q)}": np.quantile(pooled, q) for q in ALPHA_QUANTILES}
    whiskers = boxplot_stats(pooled)[0]
    summary.update({"pooled_lower_whisker": whiskers["whislo"], "pooled_upper_whisker": whiskers["whishi"]})
    summary.update({
        f"image_{_quantile_name(q)}_median": results.images[alpha_column(kind, f"alpha_{_quantile_name(q)}")].median()
        for q in ALPHA_QUANTILES
    })
    extremes = ["nonzero_alphas", "share_near_half", "far_from_half", "alpha_min", "alpha_max"]
    summary.update(results.alpha_extremes(kind)[extremes].to_dict())
    return pd.Series(summary, name=kind)


def central_shares(histogram: np.ndarray, edges: np.ndarray, windows: Sequence[float] = CENTRAL_WINDOWS) -> pd.DataFrame:
    """Share of the squeezed histogram's counts in the bins within ``w`` of the centre, for each ``w`` of ``windows``
    (``|tanh(alpha - 1/2)| <= w``, i.e. ``|alpha - 1/2| <= artanh w``)."""
    total = histogram.sum()
    rows = []
    for w in windows:
        inside = (edges[:-1] >= -w - 1e-9) & (edges[1:] <= w + 1e-9)
        rows.append({
            "squeezed_window": w,
            "alpha_window": np.arctanh(w),
            "bins": int(inside.sum()),
            "share_of_alphas": histogram[inside].sum() / total,
        })
    return pd.DataFrame(rows).set_index("squeezed_window")


def equation_14_check(explanation: Explanation) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    r"""Eq. (14) on one explained image: the ratio :math:`w_{++} / (\tfrac{Z}{2} w_{+})` over the maps with a
    positive Grad-CAM+ weight (quantiles), the correlation of the two weight vectors and of the two normalised
    heatmaps; with the weights :math:`\tfrac{Z}{2} w_{+}` and :math:`w_{++}` for plotting."""
    activations, gradients = explanation.activations, explanation.gradients
    z = activations.shape[-2] * activations.shape[-1]
    plus = grad_cam_plus_weights(activations, gradients)[0].double()
    plus_plus = grad_cam_plus_plus_weights(activations, gradients)[0].double()
    positive = plus > 0
    ratio = (plus_plus[positive] / (z / 2 * plus[positive])).cpu().numpy()
    heatmap_r = pearson_per_image(explanation.heatmaps["grad_cam_plus_plus"], explanation.heatmaps["grad_cam_plus"])
    check = {
        "units_per_map": z,
        "maps_positive_plus_weight": int(positive.sum()),
        "ratio_q01": np.quantile(ratio, 0.01),
        "ratio_median": np.median(ratio),
        "ratio_q99": np.quantile(ratio, 0.99),
        "weight_correlation": np.corrcoef(plus_plus.cpu().numpy(), (z / 2 * plus).cpu().numpy())[0, 1],
        "heatmap_correlation": heatmap_r.item(),
    }
    return check, (z / 2 * plus).cpu().numpy(), plus_plus.cpu().numpy()


def gradient_constancy(results: LayerResults, explanation: Explanation) -> tuple[bool, str, str, float]:
    """Whether the pre-softmax gradient of one explained image is constant within every map at ``results``'s layer
    (:func:`~gradcam_study.methods.constant_within_maps`): the flag, the largest within-map spread and the largest
    absolute gradient (formatted), and the share of the study's images whose gradient is constant."""
    gradients = explanation.gradients
    return (bool(constant_within_maps(gradients)[0]), significant(within_map_spread(gradients)[0].item()),
            significant(gradients.abs().max().item()), results.gradient_constant_share("pre_softmax"))


def constancy_reading(results: LayerResults, explanation: Explanation) -> Reading:
    """The chapter on constant alphas' check of the gradient within the maps, on one image and over the study."""
    constant, spread, largest, share = gradient_constancy(results, explanation)
    return {
        "constancy-layer": f"{results.provenance.layer} of {results.provenance.model}",
        "constancy-spread": spread,
        "constancy-largest": largest,
        "constancy-tolerance": f"{CONSTANT_WITHIN_MAPS_RTOL:g}",
        "constancy-clause": Markdown(
            "the gradient is constant over each feature map, so the alphas of one image are in effect one value per "
            "feature map, repeated at every position." if constant
            else "the gradient varies within the feature maps, so the alphas vary from unit to unit."),
        "constancy-share": percent(share),
    }


def explained_alphas(
    results: LayerResults, image: int, kind: ScoreKind = "pre_softmax", classifier: Classifier | None = None
) -> tuple[Explanation, NonZeroAlphas]:
    """One image of ``results`` explained live at its layer (:func:`~gradcam_study.explain.explain_study_image`), and
    its non-zero alphas (eq. (9)) with their denominator terms, gradients and map sums."""
    explanation = explain_study_image(results, image, score_kind=kind, classifier=classifier)
    return explanation, nonzero_alphas(explanation.activations, explanation.gradients)


def by_kind(frames: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Series by score kind as one frame, columns labelled (for :func:`styled_summary`)."""
    return pd.DataFrame({SCORE_KIND_LABELS[kind]: series for kind, series in frames.items()})


def typical_image_reading(results: LayerResults, image: int, found: NonZeroAlphas,
                          threshold: float = DEFAULT_THRESHOLD) -> Reading:
    """The typical image (:meth:`LayerResults.typical_image`) in words: its file and class, how it was chosen, its
    units and non-zero alphas, and its extremes recomputed live beside those the study stored."""
    row = results.images.loc[image]
    analysed, kept = len(results.images), len(results.kept(threshold))
    alpha = found.alphas.cpu().numpy()
    return {
        "image-path": Markdown(f"`{row['path']}`"),
        "image-class": Markdown(f"*{class_name(int(row['label']))}*"),
        "image-probability": decimals(row["probability"]),
        "chosen-among": (f"chosen among the {kept} of the {analysed} analysed images kept at the threshold {threshold}"
                         if kept else
                         f"chosen among all {analysed} analysed images, since none passes the threshold {threshold}"),
        "image-units": str(found.units),
        "image-nonzero": str(alpha.size),
        "recomputed-min": decimals(alpha.min(), 4),
        "recomputed-max": decimals(alpha.max(), 4),
        "stored-min": decimals(row[alpha_column("pre_softmax", "alpha_min")], 4),
        "stored-max": decimals(row[alpha_column("pre_softmax", "alpha_max")], 4),
    }


def paper_range_reading(one_image: pd.DataFrame, paper_range: tuple[float, float] = ONE_IMAGE_ALPHA_RANGE) -> Reading:
    """One image's whisker ends (rows ``alpha`` and ``denominator_term`` of :func:`box_summary`) beside the paper's
    alpha range for its image (section 3.3, VGG16 block5_conv3: "between 0.48 and 0.53"). The paper's interval for
    the denominator terms is not stated in the text available to this book; eq. (13) turns its alpha range into the
    range of ``t`` it implies, ``t = 1/alpha - 2``."""
    implied = (1 / paper_range[1] - 2, 1 / paper_range[0] - 2)
    low, high = one_image.loc["alpha", ["lower_whisker", "upper_whisker"]]
    term_low, term_high = one_image.loc["denominator_term", ["lower_whisker", "upper_whisker"]]
    inside = paper_range[0] <= low and high <= paper_range[1]
    return {
        "whisker-low": decimals(low, 4), "whisker-high": decimals(high, 4),
        "term-whisker-low": decimals(term_low, 4), "term-whisker-high": decimals(term_high, 4),
        "paper-low": str(paper_range[0]), "paper-high": str(paper_range[1]),
        "implied-low": decimals(implied[0]), "implied-high": decimals(implied[1]),
        "paper-range-verdict": Markdown("This image's alphas within the whiskers lie inside the paper's range." if inside
                                        else "This image's alphas within the whiskers are not all inside the paper's "
                                        "range."),
    }


def pooled_sample_reading(results: LayerResults, arrays: AlphaArrays) -> Reading:
    """How the pooled sample of :meth:`LayerResults.alpha_arrays` (pre-softmax) was drawn: from how many images, how
    many draws each (equal weight in the boxplot only when every image contributes the same number), and what the
    squeezed histogram counts."""
    analysed, draws = len(results.images), results.config.alpha_sample_size
    contributing = int((results.images[alpha_column("pre_softmax", "alpha_count")] > 0).sum())
    edges = squeezed_bin_edges()
    return {
        "pooled-size": str(arrays.alphas.size),
        "pooled-images": str(contributing),
        "pooled-others": Markdown(f"(the {analysed - contributing} others have no non-zero alpha);"
                                  if contributing < analysed else "(every one of them has non-zero alphas);"),
        "pooled-draws": Markdown(
            f"each of these images contributes exactly {draws} draws, made with replacement from its own non-zero "
            f"alphas ({contributing} × {draws} = {contributing * draws}), so in the boxplot every image weighs the same, "
            "however many non-zero alphas it has." if arrays.alphas.size == contributing * draws else
            f"the images do not all contribute {draws} draws ({contributing} × {draws} = {contributing * draws}), so "
            "they do not weigh the same in the boxplot."),
        "histogram-total": str(int(arrays.squeezed_histogram.sum())),
        "histogram-bins": str(len(edges) - 1),
        "histogram-width": decimals(edges[1] - edges[0], 2),
    }


def near_half_reading(summary: pd.Series, central: pd.DataFrame, histogram: np.ndarray) -> Reading:
    """The data set's pre-softmax alphas near one half in words: the share within ``NEAR_HALF`` (``summary`` from
    :func:`alpha_summary`), the pooled percentiles, the tallest bin and the central bins (:func:`central_shares`), and
    whether most alphas pile up there."""
    edges = squeezed_bin_edges()
    far = int(summary["far_from_half"])
    central_share = central.loc[NEAR_HALF, "share_of_alphas"]
    return {
        "near-half-share": percent(summary["share_near_half"], 2),
        "pooled-q01": decimals(summary["pooled_q01"], 4),
        "pooled-q99": decimals(summary["pooled_q99"], 4),
        "pooled-q50": decimals(summary["pooled_q50"], 4),
        "tallest-bin": decimals(((edges[:-1] + edges[1:]) / 2)[np.argmax(histogram)], 3),
        "central-bins": str(int(central.loc[NEAR_HALF, "bins"])),
        "central-share": percent(central_share, 2),
        "bins-within-tenth": str(int(central.loc[0.1, "bins"])),
        "share-within-tenth": percent(central.loc[0.1, "share_of_alphas"], 2),
        "central-clause": Markdown("most non-zero alphas pile up in the central bins," if central_share > 0.5
                                   else "the central bins do not hold most of the non-zero alphas,"),
        "outside-clause": Markdown(
            f"only {far} alphas of {int(summary['nonzero_alphas'])} fall outside the interval [0, 1] (the next chapter "
            "looks at them)." if far else "no alpha at all falls outside the interval [0, 1]."),
    }


def equation_14_reading(check: Mapping[str, float], explanation: Explanation) -> Reading:
    """Eq. (14) on one image (:func:`equation_14_check`, pre-softmax) in words, with why the ratio stays at or below
    one where the layer's activations are non-negative."""
    non_negative = bool((explanation.activations >= 0).all())
    return {
        "eq14-q01": decimals(check["ratio_q01"]),
        "eq14-q99": decimals(check["ratio_q99"]),
        "eq14-median": decimals(check["ratio_median"]),
        "eq14-weights": decimals(check["weight_correlation"], 5),
        "eq14-heatmaps": decimals(check["heatmap_correlation"], 5),
        "eq14-sign": Markdown(
            "The activations of this layer are non-negative, so a positive gradient gives a positive denominator term "
            "and an alpha below one half: wherever eq. (14)'s approximation is off, Grad-CAM++ weights a feature map "
            "slightly less than Z/2 times Grad-CAM+ does, never more, which is why the ratio does not exceed one."
            if non_negative else "The activations of this layer take both signs, so the ratio can fall on either side of one."),
    }


def score_kinds_reading(summary: pd.DataFrame) -> Reading:
    """Whether the post-softmax alphas sit closer to one half than the pre-softmax ones (``summary``: columns of
    :func:`alpha_summary` by score kind): closer when both their near-half share is at least as large and their
    pooled 1st-to-99th percentile span at most as wide."""
    pre, post = summary["pre_softmax"], summary["post_softmax"]
    pre_span, post_span = (s["pooled_q99"] - s["pooled_q01"] for s in (pre, post))
    closer = post["share_near_half"] >= pre["share_near_half"] and post_span <= pre_span
    return {
        "post-near-half": percent(post["share_near_half"], 3),
        "pre-near-half": percent(pre["share_near_half"], 3),
        "post-span": significant(post_span),
        "pre-span": significant(pre_span),
        "kinds-verdict": Markdown("The post-softmax alphas do sit closer to one half." if closer else
                                  "On this model and data the post-softmax alphas are not uniformly closer to one half."),
    }


#: Columns of the tables of one image's boxplot numbers: all of :func:`box_summary`'s, and those of the comparison by
#: score kind.
BOX_COLUMNS = ("count", "min", "lower_whisker", "q25", "median", "q75", "upper_whisker", "max", "share_beyond_whiskers")
BOX_KIND_COLUMNS = ("lower_whisker", "q25", "median", "q75", "upper_whisker", "min", "max")


def box_table(frame: pd.DataFrame, columns: Sequence[str] = BOX_COLUMNS, precision: int = 4) -> Styler:
    """Rows of :func:`box_summary` for display: ``columns`` labelled, counts as integers, the share beyond the
    whiskers as a percentage, every other number with ``precision`` decimals."""
    shown = labelled_frame(frame[list(columns)])
    styled = shown.style.format(precision=precision)
    if "count" in columns:
        styled = styled.format("{:.0f}", subset=[label("count")])
    if "share_beyond_whiskers" in columns:
        styled = styled.format("{:.2%}", subset=[label("share_beyond_whiskers")])
    return styled


def central_table(central: pd.DataFrame) -> Styler:
    """:func:`central_shares` for display: windows with 2 decimals, alpha windows with 5, shares as percentages."""
    shown = central.rename(columns=label)  # the index holds numbers: only its name is an identifier
    shown.index.name = label(central.index.name)
    return (shown.style.format_index("{:.2f}").format("{:.5f}", subset=[label("alpha_window")])
            .format("{:.2%}", subset=[label("share_of_alphas")]))


def equation_14_table(checks: pd.DataFrame) -> Styler:
    """:func:`equation_14_check` by score kind (columns) for display: counts as integers, the rest with 4 decimals."""
    counts = [label("units_per_map"), label("maps_positive_plus_weight")]
    return labelled_frame(checks).style.format(precision=4).format("{:.0f}", subset=pd.IndexSlice[counts, :])


__all__ = [
    "BOX_COLUMNS",
    "BOX_KIND_COLUMNS",
    "CENTRAL_WINDOWS",
    "Reading",
    "alpha_summary",
    "box_summary",
    "box_table",
    "by_kind",
    "central_shares",
    "central_table",
    "constancy_reading",
    "equation_14_check",
    "equation_14_reading",
    "equation_14_table",
    "explained_alphas",
    "gradient_constancy",
    "image_extremes",
    "near_half_reading",
    "paper_range_reading",
    "pooled_sample_reading",
    "score_kinds_reading",
    "typical_image_reading",
]
