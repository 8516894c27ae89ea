"""Readings of the alphas for the two chapters on them (nearly constant, numerically unstable): one image's extremes
under the keys of :meth:`~gradcam_study.study.LayerResults.alpha_extremes`, boxplot numbers, near-half shares, the
pole table, and the clauses whose words depend on the result.

Criteria (declared in :mod:`gradcam_study.study.verdicts`): an alpha is *near one half* when
``|alpha - 1/2| <= NEAR_HALF``, *outside [0, 1]* when ``|alpha - 1/2| > 1/2``; outliers are *rare* below a share
of ``RARE``; a unit's value *stands out* when fewer than ``STANDS_OUT`` of the image's units exceed it.

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
import torch
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
from ..presentation.labels import SCORE_KIND_LABELS, label, layer_label
from ..presentation.tables import labelled_frame
from ..study import (
    ALPHA_QUANTILES,
    DEFAULT_THRESHOLD,
    AlphaArrays,
    LayerResults,
    StudyResults,
    alpha_column,
    squeezed_bin_edges,
)
from ..study.sweeps import sign_quantities
from ..study.verdicts import NEAR_HALF, RARE, STANDS_OUT
from .sweeps import QUANTITIES

#: Glued values: plain strings (``{glue:text}``) or Markdown clauses (``{glue:md}``).
Reading = dict[str, "str | Markdown"]

#: The columns of the pole table (:func:`pole_table`), from :func:`~gradcam_study.study.sweeps.sign_quantities`.
POLE_COLUMNS = ("negative_activation_share", "share_outside_units", "positive_outside_share", "outside_weight_share")
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


def pole_table(study: StudyResults) -> pd.DataFrame:
    """:func:`~gradcam_study.study.sweeps.sign_quantities` (:data:`POLE_COLUMNS`) at every layer of ``study``, by
    ``(score kind, layer)``, both identifiers."""
    return pd.DataFrame({
        (kind, layer): sign_quantities(study.at(layer), kind) for kind in study.config.score_kinds
        for layer in study.layers
    }).T[list(POLE_COLUMNS)]


def pole_reading(pole: pd.DataFrame) -> Reading:
    """Where the positive-gradient alphas leave [0, 1] most often (``pole-layer``, ``pole-kind``) and the pole
    table's values there (``pole-<column>``, percentages)."""
    kind, layer = pole["positive_outside_share"].idxmax()
    reading: Reading = {"pole-layer": layer_label(layer), "pole-kind": SCORE_KIND_LABELS[kind]}
    reading.update({f"pole-{column}": percent(pole.loc[(kind, layer), column], 3) for column in POLE_COLUMNS})
    return reading


def typical_reading(extremes: pd.Series) -> Reading:
    """The typical image's pre-softmax extremes (:func:`image_extremes`) in words."""
    outside, count = int(extremes["far_from_half"]), int(extremes["nonzero_alphas"])
    return {
        "typical-alpha-min": significant(extremes["alpha_min"], 4),
        "typical-alpha-max": significant(extremes["alpha_max"], 4),
        "typical-outside": (f"{outside} of its {count} non-zero alphas lie outside [0, 1]." if outside
                            else f"none of its {count} non-zero alphas lies outside [0, 1]."),
        "typical-closest": significant(extremes["closest_to_pole"], 4),
    }


def data_set_reading(data_set: pd.DataFrame) -> Reading:
    """The data set's extremes by score kind (columns of :meth:`LayerResults.alpha_extremes`) in words: one
    sentence per kind (``data-set-kinds``) and whether the pole shows at all (``data-set-verdict``)."""
    sentences = []
    for kind in data_set.columns:
        column = data_set[kind]
        far = int(column["far_from_half"])
        text = (f"With {SCORE_KIND_LABELS[kind]} gradients the alphas range from {significant(column['alpha_min'], 4)} "
                f"to {significant(column['alpha_max'], 4)}; ")
        if far:
            text += (f"{far} of them (a share of {column['share_far_from_half']:.2e}), in "
                     f"{int(column['images_far_from_half'])} images, lie outside [0, 1].")
        else:
            text += (f"none lies outside [0, 1], because no denominator term falls below -1 (the smallest is "
                     f"{significant(column['term_min'], 4)}).")
        sentences.append(text)
    any_far = data_set.loc["far_from_half"].sum() > 0
    verdict = ("The formula's instability shows up on this model and data." if any_far else
               "On this model and data the pole of eq. (13) is never approached: the instability is a property of the "
               "formula that this profile does not trigger, and only the paper's profile can show how often VGG16 "
               "triggers it.")
    return {"data-set-kinds": Markdown(" ".join(sentences)), "data-set-verdict": Markdown(verdict)}


def _share_larger(values: np.ndarray, index: int) -> float:
    """Share of the image's non-zero units whose value is strictly larger than that of unit ``index``."""
    return float(np.mean(values > values[index]))


def farthest_unit(found: NonZeroAlphas) -> int:
    """Index (in ``found``'s order) of the alpha farthest from one half."""
    return int(np.argmax(np.abs(found.alphas.cpu().numpy() - 0.5)))


def extreme_unit_reading(found: NonZeroAlphas) -> Reading:
    """The unit holding an image's alpha farthest from one half: its alpha, ``t`` and ``2 + t``, whether it is the
    closest to the pole, and whether its gradient or its map's activation sum *stands out* (``STANDS_OUT``)."""
    alpha, term, gradient, sums = (x.cpu().numpy() for x in (found.alphas, found.terms, found.gradients,
                                                              found.activation_sums))
    worst = farthest_unit(found)
    extremes = image_extremes(found)
    comparison = {"|gradient|": _share_larger(np.abs(gradient), worst), "map's activation sum": _share_larger(sums, worst)}
    standing_out = [name for name, share in comparison.items() if share < STANDS_OUT]
    closest_here = bool(np.isclose(np.abs(2 + term[worst]), extremes["closest_to_pole"]))

    def describe(name: str) -> str:
        return "the largest of the image" if comparison[name] == 0 else "among the largest 1% of the image's units"

    return {
        "unit-alpha": significant(alpha[worst], 5),
        "unit-term": significant(term[worst], 5),
        "unit-denominator": significant(2 + term[worst], 4),
        "unit-closest": Markdown("the closest any unit of the image comes to zero." if closest_here else
                                 "while the closest any unit of the image comes to zero is "
                                 f"{significant(extremes['closest_to_pole'], 4)}."),
        "unit-outside": Markdown(f"The image has {int(extremes['far_from_half'])} alphas outside [0, 1] among "
                                 f"{int(extremes['nonzero_alphas'])} non-zero ones." if extremes["far_from_half"]
                                 else "Even this image's most extreme alpha stays inside [0, 1]."),
        "unit-gradient": significant(gradient[worst], 4),
        "unit-sum": significant(sums[worst], 4),
        "unit-count": str(alpha.size),
        "unit-larger-gradient": percent(comparison["|gradient|"]),
        "unit-larger-sum": percent(comparison["map's activation sum"]),
        "unit-verdict": Markdown(
            "Neither is among the largest 1% of the image's units: what sets this alpha apart is only where their "
            "product t falls on the hyperbola of eq. (13)." if not standing_out else
            "So the unit is not an ordinary one with an unlucky t: its "
            + " and its ".join(f"{name} is {describe(name)}" for name in standing_out)
            + ", and |t|, the product of the map's activation sum and the gradient, is large in part for that reason."),
    }


def sign_reading(explanation: Explanation, found: NonZeroAlphas) -> Reading:
    """The sign argument on one image: alphas outside [0, 1] at a positive gradient, alphas above one half at a
    positive gradient, and whether the instability can reach the weights."""
    extremes = image_extremes(found)
    non_negative = bool((explanation.activations >= 0).all())
    far_count, at_positive = int(extremes["far_from_half"]), int(extremes["far_at_positive_gradient"])
    above = int(((found.alphas > 0.5) & (found.gradients > 0)).sum())
    return {
        "sign-activations": "non-negative" if non_negative else "not all non-negative",
        "sign-found": (f"{at_positive} of its {far_count} alphas outside [0, 1] sit at a positive gradient" if far_count
                       else "it has no alpha outside [0, 1] to test"),
        "sign-above-half": str(above),
        "sign-verdict": Markdown(
            "So the alphas that the instability blows up are exactly the ones Grad-CAM++ multiplies by zero: they make "
            "the formula ill-behaved, but they cannot change the weights or the heatmap."
            if non_negative and at_positive == 0 and above == 0
            else "Here some alphas beyond one half do reach the weights, so the instability can change the heatmap."),
    }


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


def layer_constancy_sentence(results: LayerResults, explanation: Explanation) -> tuple[bool, str]:
    """One layer's constancy check in one sentence (the chapter on unstable alphas, at both layers)."""
    constant, spread, largest, share = gradient_constancy(results, explanation)
    return constant, (
        f"At {results.provenance.layer}, the largest spread of the pre-softmax gradient within one feature map of the "
        f"typical image is {spread}, against a largest gradient of {largest}: "
        + ("the gradient is constant over each map" if constant else "the gradient varies within the maps")
        + f"; over all {len(results.images)} analysed images, it is constant within every map for {percent(share)} "
        "of them. "
    )


def inner_layer_reading(results: LayerResults, inner: LayerResults | None, classifier: Classifier | None = None) -> Reading:
    """The section on the inner layer, introduced: the constancy check at both layers on the typical image (live),
    or, where the model has no inner layer, why the section is skipped (``inner-constancy``)."""
    if inner is None:
        share = results.gradient_constant_share("pre_softmax")
        return {"inner-constancy": Markdown(
            f"In this profile the model names no inner layer for {results.provenance.layer} of "
            f"{results.provenance.model}; there the pre-softmax gradient is constant within every map for "
            f"{percent(share)} of the {len(results.images)} analysed images"
            + (", so the chapter's results above are already those of a layer whose gradients vary within the maps, "
               "and this section is skipped." if share == 0 else ", and this section is skipped.")),
            "inner-extremes-intro": Markdown(""), "inner-extreme-intro": Markdown("")}
    typical = results.typical_image()
    default_constant, default_text = layer_constancy_sentence(results, explain_study_image(results, typical,
                                                                                           classifier=classifier))
    _, inner_text = layer_constancy_sentence(inner, explain_study_image(inner, typical, classifier=classifier))
    pre = results.alpha_extremes("pre_softmax")
    return {
        "inner-constancy": Markdown(
            default_text
            + ("So there each map gets one alpha and one term t, and over all analysed images the pre-softmax terms "
               f"stay between {significant(pre['term_min'], 4)} and {significant(pre['term_max'], 4)}, coming no "
               f"closer to the pole at -2 than |2 + t| = {significant(pre['closest_to_pole'], 4)}. "
               if default_constant else "")
            + inner_text
            + f"The inner layer is {inner.provenance.layer}; the study there covers the same {inner.provenance.images} "
            "images."),
        "inner-extremes-intro": Markdown(
            "The same extremes as for the profile's layer, now at the inner layer, then side by side with the "
            "profile's layer, over all the analysed images (the share near one half counts the alphas with "
            f"$|\\alpha - 1/2| \\le {NEAR_HALF}$)."),
        "inner-extreme-intro": Markdown(
            "The image holding the inner layer's alpha farthest from one half among all the analysed images "
            "(pre-softmax gradients), explained live at the inner layer: below, each of its non-zero alphas is plotted "
            "against its denominator term, with the hyperbola $1/(2 + t)$ of {ref}`eq. (13) <eq-13>` and its pole."),
    }


def both_layers_extremes(results: LayerResults, inner: LayerResults) -> pd.DataFrame:
    """:meth:`LayerResults.alpha_extremes` at both layers, columns ``(score label, layer label)``."""
    frame = pd.concat({(SCORE_KIND_LABELS[kind], layer.provenance.layer): layer.alpha_extremes(kind)
                       for kind in results.score_kinds for layer in (results, inner)}, axis=1)
    frame.columns.names = ["score", "layer"]
    return frame


def inner_outliers_reading(results: LayerResults, inner: LayerResults | None) -> Reading:
    """The inner layer's extremes against the profile's layer, in words (one sentence per score kind), and how rare
    and how far its alphas outside [0, 1] are (``RARE``; orders of magnitude beyond the border of [0, 1]);
    ``inner-outliers``, empty without an inner layer."""
    if inner is None:
        return {"inner-outliers": Markdown("")}
    sentences, outlier_kinds, shares, farthest_all = [], [], [], []
    for kind in inner.score_kinds:
        column, default = inner.alpha_extremes(kind), results.alpha_extremes(kind)
        far = int(column["far_from_half"])
        share, farthest = column["share_far_from_half"], float(inner.farthest_alpha_from_half(kind).max())
        if far:
            outlier_kinds.append(kind)
            shares.append(share)
            farthest_all.append(farthest)
        sentences.append(
            f"With {SCORE_KIND_LABELS[kind]} gradients the alphas at {inner.provenance.layer} range from "
            f"{significant(column['alpha_min'], 4)} to {significant(column['alpha_max'], 4)} (at "
            f"{results.provenance.layer}: {significant(default['alpha_min'], 4)} to "
            f"{significant(default['alpha_max'], 4)}); "
            + (f"{far} of its {int(column['nonzero_alphas'])} non-zero alphas (a share of {share:.2e}), in "
               f"{int(column['images_far_from_half'])} images, lie outside [0, 1], the farthest at "
               f"|α − 1/2| = {significant(farthest, 4)}, {significant(farthest / 0.5)} times the half-width of "
               f"[0, 1], and the denominator terms reach down to {significant(column['term_min'], 4)}. "
               if far else f"none of its {int(column['nonzero_alphas'])} non-zero alphas lies outside [0, 1]. ")
            + f"Still {percent(column['share_near_half'], 2)} of them lie within {NEAR_HALF} of one half "
            f"(at {results.provenance.layer}: {percent(default['share_near_half'], 2)}). ")
    if outlier_kinds:
        orders = int(np.floor(np.log10(max(farthest_all) / 0.5)))
        rarity = (f"rare (at most {percent(max(shares), 3)} of the non-zero alphas)" if max(shares) < RARE
                  else f"not rare (up to {percent(max(shares), 2)} of the non-zero alphas)")
        distance = (f"the farthest {orders} order{'s' if orders > 1 else ''} of magnitude beyond the border of [0, 1]"
                    if orders >= 1 else "the farthest within an order of magnitude of the border of [0, 1]")
        verdict = ("Once the gradients vary within the maps, alphas outside [0, 1] appear with "
                   + " and ".join(SCORE_KIND_LABELS[kind] for kind in outlier_kinds) + f" gradients: {rarity}, {distance}.")
    else:
        verdict = "Even where the gradients vary within the maps, no alpha leaves [0, 1] on this model and data."
    return {"inner-outliers": Markdown("".join(sentences) + verdict)}


#: One explained image and its non-zero alphas, as :func:`farthest_image` returns them.
ExplainedImage = tuple[int, Explanation, NonZeroAlphas]


def conditioning_reading(inner: LayerResults | None, image: ExplainedImage | None) -> Reading:
    """How sensitive an image's alpha farthest from one half is to the last digits of ``t`` (``inner-conditioning``,
    empty without an inner layer): eq. (13)'s condition number ``|t / (2 + t)|``, the move of one unit in the last
    place of ``t`` in the captured precision, and the difference from the value the study stored."""
    if inner is None or image is None:
        return {"inner-conditioning": Markdown("")}
    image_id, explanation, found = image
    row = inner.images.loc[image_id]
    alpha, terms = found.alphas.cpu().numpy(), found.terms.cpu().numpy()
    worst = farthest_unit(found)
    stored_min = row[alpha_column("pre_softmax", "alpha_min")]
    stored_max = row[alpha_column("pre_softmax", "alpha_max")]
    stored_alpha = stored_min if abs(stored_min - 0.5) > abs(stored_max - 0.5) else stored_max
    t = float(terms[worst])
    # One unit in the last place of t in the precision of the captured activations and gradients.
    dtype = explanation.gradients.dtype
    t_captured = float(torch.tensor(t, dtype=dtype))
    last_place = float(np.spacing(np.abs(torch.tensor(t, dtype=dtype).numpy())))
    ulp_move = abs(1 / (2 + t_captured + last_place) - 1 / (2 + t_captured))
    condition = abs(t / (2 + t))
    stored_move = abs(alpha[worst] - stored_alpha)
    return {"inner-conditioning": Markdown(
        "How sensitive is that alpha to the last digits of t? Since dα/dt = −α², a relative change of t becomes a "
        "relative change of α multiplied by |t / (2 + t)|, the condition number of eq. (13). "
        f"The alpha farthest from one half in this image is {significant(alpha[worst], 6)}, at t = "
        f"{significant(t, 8)}: its denominator 2 + t is {significant(2 + t, 4)}, and the condition number "
        f"|t / (2 + t)| is {significant(condition)}. One unit in the last place of t in the captured precision "
        f"({str(dtype).removeprefix('torch.')}, {significant(last_place)}) moves this alpha by "
        f"{significant(ulp_move)}. The study stored {significant(stored_alpha, 6)} for it (smallest term "
        f"{significant(row[alpha_column('pre_softmax', 'denominator_term_min')], 8)}), "
        + ("the same value as this single-image pass. " if stored_move == 0 else
           "so the rounding differences between the study's batched pass and this single-image pass move the alpha "
           f"by {significant(stored_move)}. ")
        + (f"So close to the pole, eq. (13) turns the rounding of t into an error of the alpha {significant(condition)} "
           f"times larger, relatively: about {int(np.log10(condition))} of the decimal digits that t carries are lost "
           "in the alpha, the instability of eq. (13) in practice." if condition >= 10 else
           "At this distance from the pole, eq. (13) loses less than one decimal digit of the precision of t."))}


def inner_sign_reading(inner: LayerResults | None, image: ExplainedImage | None) -> Reading:
    """The sign argument re-checked on one image at the inner layer (``inner-sign``, empty without an inner layer):
    alphas outside [0, 1] at a positive gradient, in maps with a negative activation sum, the share of the
    Grad-CAM++ weight mass they carry, and the correlation of the image's Grad-CAM++ and Grad-CAM+ heatmaps there."""
    if inner is None or image is None:
        return {"inner-sign": Markdown("")}
    _, explanation, found = image
    alpha, gradient, sums = (x.cpu().numpy() for x in (found.alphas, found.gradients, found.activation_sums))
    far = np.abs(alpha - 0.5) > 0.5
    far_count, at_positive = int(far.sum()), int((far & (gradient > 0)).sum())
    negative_sums = int((far & (sums < 0)).sum())
    non_negative = bool((explanation.activations >= 0).all())
    # How much of the Grad-CAM++ weights (eq. (4)) those alphas carry: |alpha * relu(g)| summed over them, as a share
    # of the same sum over every unit of the image.
    contribution = np.abs(alpha * np.clip(gradient, 0, None))
    weight_share = contribution[far].sum() / contribution.sum() if contribution.sum() else 0.0
    correlation = pearson_per_image(explanation.heatmaps["grad_cam_plus_plus"],
                                    explanation.heatmaps["grad_cam_plus"]).item()
    text = (f"At {inner.provenance.layer} the activations are {'non-negative' if non_negative else 'not all non-negative'}"
            " on this image" + ("" if non_negative else " (no ReLU comes before this layer's output)") + ". ")
    text += (f"Of its {far_count} alphas outside [0, 1], {at_positive} sit at a positive gradient ({negative_sums} of "
             f"the {far_count} lie in maps whose activation sum is negative, where t has the opposite sign to the "
             "gradient). " if far_count else "It has no alpha outside [0, 1] to test. ")
    if far_count and at_positive == 0:
        text += "So the sign argument holds here as well: the ReLU in eq. (4) zeroes every alpha that the instability blows up. "
    elif at_positive:
        text += ("So the sign argument fails at this layer, as the end of the previous section anticipated for "
                 "activations of both signs: those alphas meet a positive gradient and enter the weights of eq. (4), "
                 f"where they carry {percent(weight_share, 2)} of the sum of |alpha times the positive gradient| over "
                 "the image. ")
    text += f"The Grad-CAM++ and Grad-CAM+ heatmaps of this image at the inner layer correlate at {correlation:.4f}."
    return {"inner-sign": Markdown(text)}


def explained_alphas(
    results: LayerResults, image: int, kind: ScoreKind = "pre_softmax", classifier: Classifier | None = None
) -> tuple[Explanation, NonZeroAlphas]:
    """One image of ``results`` explained live at its layer (:func:`~gradcam_study.explain.explain_study_image`), and
    its non-zero alphas (eq. (9)) with their denominator terms, gradients and map sums."""
    explanation = explain_study_image(results, image, score_kind=kind, classifier=classifier)
    return explanation, nonzero_alphas(explanation.activations, explanation.gradients)


def farthest_image(results: LayerResults, classifier: Classifier | None = None) -> ExplainedImage:
    """The image holding the layer's pre-softmax alpha farthest from one half, explained live, and its alphas."""
    image = int(results.farthest_alpha_from_half("pre_softmax").idxmax())
    return (image, *explained_alphas(results, image, classifier=classifier))


def pole_display(pole: pd.DataFrame) -> pd.DataFrame:
    """:func:`pole_table` for display: percentages, rows ``(score, layer)`` and columns labelled."""
    shown = pole.map(lambda share: percent(share, 3)).rename(columns=QUANTITIES)
    shown.index = pd.MultiIndex.from_tuples([(SCORE_KIND_LABELS[kind], layer_label(layer)) for kind, layer in pole.index],
                                            names=["score", "layer"])
    return shown


def image_caption(results: LayerResults, image: int, probability: bool = True) -> str:
    """The provenance line of a table or figure of one image (pre-softmax): the study's, the image and its class."""
    row = results.images.loc[image]
    text = f"{results.provenance.caption(score_kind='pre_softmax')}; image {row['path']}"
    if probability:
        text += f" ({class_name(int(row['label']))}, probability of the true class {row['probability']:.3f})"
    return text


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
    span = lambda s: s["pooled_q99"] - s["pooled_q01"]
    closer = post["share_near_half"] >= pre["share_near_half"] and span(post) <= span(pre)
    return {
        "post-near-half": percent(post["share_near_half"], 3),
        "pre-near-half": percent(pre["share_near_half"], 3),
        "post-span": significant(span(post)),
        "pre-span": significant(span(pre)),
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
    "POLE_COLUMNS",
    "ExplainedImage",
    "Reading",
    "alpha_summary",
    "both_layers_extremes",
    "box_summary",
    "box_table",
    "by_kind",
    "central_shares",
    "central_table",
    "conditioning_reading",
    "constancy_reading",
    "data_set_reading",
    "equation_14_check",
    "equation_14_reading",
    "equation_14_table",
    "explained_alphas",
    "extreme_unit_reading",
    "farthest_image",
    "farthest_unit",
    "gradient_constancy",
    "image_caption",
    "image_extremes",
    "inner_layer_reading",
    "inner_outliers_reading",
    "inner_sign_reading",
    "layer_constancy_sentence",
    "near_half_reading",
    "paper_range_reading",
    "pole_display",
    "pole_reading",
    "pole_table",
    "pooled_sample_reading",
    "score_kinds_reading",
    "sign_reading",
    "typical_image_reading",
    "typical_reading",
]
