"""Readings of the chapter on numerically unstable alphas: the typical and the extreme image, the data set's
extremes, the unit holding the alpha farthest from one half, the sign argument, the pole table at every layer and the
inner layer whose gradients vary within the maps; each clause whose words depend on the result.

Criteria (declared in :mod:`gradcam_study.study.verdicts`): an alpha is *outside [0, 1]* when ``|alpha - 1/2| > 1/2``;
such alphas are *rare* below a share of ``RARE``; a unit's value *stands out* when fewer than ``STANDS_OUT`` of the
image's units exceed it.

>>> import torch
>>> from gradcam_study.methods import nonzero_alphas
>>> found = nonzero_alphas(torch.tensor([[[[-1.0, -1.0]]]]), torch.tensor([[[[0.7, 0.1]]]]))  # t = -1.4 and -0.2
>>> farthest_unit(found)   # alpha = 1 / (2 - 1.4) = 5/3, the farthest from 1/2
0
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown

from ..data import class_name
from ..explain import Explanation, explain_study_image
from ..methods import NonZeroAlphas
from ..metrics import pearson_per_image
from ..models import Classifier
from ..presentation.formats import percent, significant
from ..presentation.labels import SCORE_KIND_LABELS, layer_label
from ..study import LayerResults, StudyResults, alpha_column
from ..study.sweeps import sign_quantities
from ..study.verdicts import NEAR_HALF, RARE, STANDS_OUT
from .alphas import Reading, explained_alphas, gradient_constancy, image_extremes
from .sweeps import QUANTITIES


#: The columns of the pole table (:func:`pole_table`), from :func:`~gradcam_study.study.sweeps.sign_quantities`.
POLE_COLUMNS = ("negative_activation_share", "share_outside_units", "positive_outside_share", "outside_weight_share")


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
    closest to the pole, and whether its gradient or its map's activation sum *stands out* (``STANDS_OUT``, printed
    as ``unit-stands-out``)."""
    alpha, term, gradient, sums = (x.cpu().numpy() for x in (found.alphas, found.terms, found.gradients,
                                                              found.activation_sums))
    worst = farthest_unit(found)
    extremes = image_extremes(found)
    comparison = {"|gradient|": _share_larger(np.abs(gradient), worst), "map's activation sum": _share_larger(sums, worst)}
    standing_out = [name for name, share in comparison.items() if share < STANDS_OUT]
    closest_here = bool(np.isclose(np.abs(2 + term[worst]), extremes["closest_to_pole"]))

    def describe(name: str) -> str:
        return ("the largest of the image" if comparison[name] == 0
                else f"among the largest {percent(STANDS_OUT, 0)} of the image's units")

    return {
        "unit-stands-out": percent(STANDS_OUT, 0),
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
            f"Neither is among the largest {percent(STANDS_OUT, 0)} of the image's units: what sets this alpha apart is "
            "only where their "
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


__all__ = [
    "ExplainedImage",
    "POLE_COLUMNS",
    "both_layers_extremes",
    "conditioning_reading",
    "data_set_reading",
    "extreme_unit_reading",
    "farthest_image",
    "farthest_unit",
    "image_caption",
    "inner_layer_reading",
    "inner_outliers_reading",
    "inner_sign_reading",
    "layer_constancy_sentence",
    "pole_display",
    "pole_reading",
    "pole_table",
    "sign_reading",
    "typical_reading",
]
