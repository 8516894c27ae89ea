"""The depth and architecture sweeps for people: tables and sentences from a :func:`~gradcam_study.study.sweeps.sweep_summary`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..capture import ScoreKind
from ..data import class_name
from ..methods import METHOD_PAIRS, PLUS_PAIR_ID
from ..models import model_spec
from ..presentation.formats import decimals, interval, listing
from ..presentation.labels import (
    METHOD_LABELS,
    SCORE_KIND_LABELS,
    layer_label,
    pair_label,
)
from ..study.config import DEFAULT_THRESHOLD
from ..study.results import LayerResults, StudyResults
from ..study.sweeps import LAST_MAP, NON_NEGATIVE, PLUS_PAIR, SIGNED, DepthPlace
from ..study.verdicts import EQUIVALENCE_MARGIN, NEAR_HALF, NEARLY_EQUAL_CORRELATION

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..models import Classifier

_PLUS = PLUS_PAIR_ID


#: Every quantity of a sweep, with its label. Per pair (``pair`` set): the relative performance, the median
#: per-image log ratio, the shares of images whose ratio is below 1/2 and above 2 (kept images). Per setting: the
#: rest (alphas over all analysed images; correlations and constant maps over the kept images).
QUANTITIES: dict[str, str] = {
    "relative_performance": "relative performance",
    "median_log_ratio": "median log ratio",
    "share_ratio_below_half": "images with ratio < 1/2",
    "share_ratio_above_two": "images with ratio > 2",
    "median_correlation": "median r, GC++ and GC+ maps",
    "negative_activation_share": "negative activations",
    "share_near_half": f"alphas within {NEAR_HALF:g} of 1/2",
    "share_outside_units": "alphas outside [0, 1], share of units",
    "positive_outside_share": "positive-gradient alphas outside [0, 1]",
    "outside_weight_share": "GC++ weight mass they carry (median image)",
    "constant_grad_cam": "constant Grad-CAM maps",
    "constant_grad_cam_plus": "constant Grad-CAM+ maps",
    "constant_grad_cam_plus_plus": "constant Grad-CAM++ maps",
}


#: The columns of the performance table (:func:`sweep_table`): ``(quantity, pair)``.
PERFORMANCE_COLUMNS: tuple[tuple[str, str], ...] = (
    *(("relative_performance", f"{a}/{b}") for a, b in METHOD_PAIRS),
    ("median_log_ratio", _PLUS), ("share_ratio_below_half", _PLUS), ("share_ratio_above_two", _PLUS),
    ("median_correlation", ""),
)


#: The columns of the sign table: what the sign of the activations does to the alphas, and the constant maps.
SIGN_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (quantity, "") for quantity in (
        "negative_activation_share", "share_near_half", "share_outside_units", "positive_outside_share",
        "outside_weight_share", "constant_grad_cam", "constant_grad_cam_plus", "constant_grad_cam_plus_plus",
    )
)


#: The per-setting quantities :func:`~gradcam_study.plots.sweep_figure` draws beside the relative performances.
FIGURE_QUANTITIES: dict[str, str] = {
    "negative_activation_share": "negative activations",
    "positive_outside_share": "positive-gradient α outside [0, 1]",
    "outside_weight_share": "their GC++ weight mass (median)",
    "median_correlation": "median r, GC++ and GC+ maps",
}


#: The methods in the narrow columns of the sweep tables (the captions spell them out).
_SHORT_LABELS = {"grad_cam": "GC", "grad_cam_plus": "GC+", "grad_cam_plus_plus": "GC++"}


MAP_LABELS: dict[str, str] = {SIGNED: "signed (block output)", NON_NEGATIVE: "non-negative", LAST_MAP: "last map"}


def _share(value: float) -> str:
    """A share as a percentage: one decimal, or two significant digits below 0.1% so that a small share is not 0.0%."""
    if value == 0:
        return "0%"
    return f"{100 * value:.2g}%" if 100 * value < 0.1 else f"{100 * value:.1f}%"


def _cell(row: pd.Series) -> str:
    quantity, value = row["quantity"], row["value"]
    if not np.isfinite(value):
        return "–"  # a median correlation with no defined correlation: every heatmap pair had a constant map
    if quantity == "relative_performance":
        words = (["equivalent"] if row["equivalent"] else []) + ([row["verdict"]] if row["verdict"] in ("better", "worse") else [])
        return interval(value, row["low"], row["high"]) + (f" {', '.join(words)}" if words else "")
    if quantity.startswith("constant_"):
        return f"{int(value)}"
    if quantity == "median_log_ratio":
        return f"{value:+.3f}"
    if quantity == "median_correlation":
        return decimals(value, 4)
    return _share(value)


def _column_label(quantity: str, pair: str) -> str:
    if quantity == "relative_performance":
        return pair_label(*pair.split("/"))
    if pair:
        first, second = pair.split("/")
        return f"{_SHORT_LABELS[first]}/{_SHORT_LABELS[second]}: {QUANTITIES[quantity]}"
    return QUANTITIES[quantity]


def sweep_table(
    summary: pd.DataFrame, kind: str, columns: Sequence[tuple[str, str]] = PERFORMANCE_COLUMNS,
) -> pd.DataFrame:
    """The sweep for one score kind as a table for people: one row per setting, one column per ``(quantity, pair)``
    of ``columns`` (:data:`PERFORMANCE_COLUMNS` or :data:`SIGN_COLUMNS`). Relative performances read
    ``"0.995 [0.993, 0.997]"`` followed by their verdicts (:func:`decide`: "equivalent", "better", "worse"); shares
    are percentages, counts integers. With the ``map`` column of :func:`sweep_summary` (a depth sweep), rows go by
    stage, each stage's signed map before its non-negative one, under a two-level index (depth, layer), and the
    first column names the kind of map."""
    part = summary[summary["kind"] == kind]
    part = part[[(q, p) in set(columns) for q, p in zip(part["quantity"], part["pair"])]]
    frame = part.assign(cell=part.apply(_cell, axis=1),
                        column=[_column_label(q, p) for q, p in zip(part["quantity"], part["pair"])])
    order = [_column_label(q, p) for q, p in columns if ((part["quantity"] == q) & (part["pair"] == p)).any()]
    table = frame.pivot(index="setting", columns="column", values="cell")
    settings = list(dict.fromkeys(summary["setting"]))
    if "map" in summary:
        places = summary.groupby("setting", sort=False)[["stage", "map"]].first()
        rank = {SIGNED: 0, NON_NEGATIVE: 1, LAST_MAP: 2}
        settings.sort(key=lambda s: (places.loc[s, "stage"], rank[places.loc[s, "map"]]))
        table = table.loc[settings, order]
        table.insert(0, "activations", [MAP_LABELS[places.loc[s, "map"]] for s in settings])
        table.index = pd.MultiIndex.from_tuples(
            [(DepthPlace(int(places.loc[s, "stage"]), places.loc[s, "map"]).depth_label, s) for s in settings],
            names=["depth", "layer"],
        )
    else:
        table = table.loc[settings, order]
        table.index.name = None
    table.columns.name = SCORE_KIND_LABELS[kind]
    return table


def _settings(names: list[str], what: str, total: int) -> str:
    """``"all 6 settings"``, ``"2 of 8 layers (a and b)"``, ``"none of the 8 layers"``."""
    plural = f"{what}s"
    if not names:
        return f"none of the {total} {plural}"
    if len(names) == total:
        return f"all {total} {plural}"
    return f"{len(names)} of {total} {plural} ({listing(names)})"


def _tests(summary: pd.DataFrame, kind: str) -> int:
    return int(((summary["quantity"] == "relative_performance") & (summary["kind"] == kind)).sum())


def sweep_findings(summary: pd.DataFrame, what: str = "layer") -> str:
    """Sentences, computed from a :func:`sweep_summary`, one paragraph per score kind: at which settings Grad-CAM++ and
    Grad-CAM+ are shown equivalent (TOST within the declared margin, Holm-adjusted over the table) and their heatmaps
    nearly equal (median correlation at least the declared criterion), what the intervals say where equivalence is not
    shown, and where each method is better or worse than Grad-CAM (:func:`decide`). Each paragraph says how many kept
    images the relative performances rest on."""
    rp = summary[summary["quantity"] == "relative_performance"]
    median = summary[summary["quantity"] == "median_correlation"]
    kept = summary.groupby("setting", sort=False)["kept"].first()
    counts = sorted(set(kept))
    basis = (f"{counts[0]} kept images" if len(counts) == 1
             else f"{counts[0]} to {counts[-1]} kept images per {what}")
    paragraphs = []
    for kind in dict.fromkeys(summary["kind"]):
        plus = rp[(rp["kind"] == kind) & (rp["pair"] == _PLUS)]
        total = len(plus)
        equivalent = plus[plus["equivalent"].astype(bool)]["setting"].tolist()
        text = (
            f"With {SCORE_KIND_LABELS[kind]} maps (over {basis}; Holm's adjustment over the {_tests(summary, kind)} "
            f"tests of the table), Grad-CAM++ and Grad-CAM+ are shown to perform alike (equivalence within "
            f"{EQUIVALENCE_MARGIN:.0%} by two one-sided tests) at {_settings(equivalent, what, total)}"
        )
        others = plus[~plus["equivalent"].astype(bool)]
        if len(others):
            worse = [f"{row.setting} ({interval(row.value, row.low, row.high)})"
                     for row in others.itertuples() if row.verdict == "worse"]
            better = [f"{row.setting} ({interval(row.value, row.low, row.high)})"
                      for row in others.itertuples() if row.verdict == "better"]
            open_ = [row.setting for row in others.itertuples() if row.verdict not in ("better", "worse")]
            parts = []
            if worse:
                parts.append(f"Grad-CAM++ is worse than Grad-CAM+ at {listing(worse)}")
            if better:
                parts.append(f"Grad-CAM++ is better than Grad-CAM+ at {listing(better)}")
            if open_:
                parts.append(f"neither equivalence nor a difference is shown at {listing(open_)}")
            text += "; elsewhere " + "; ".join(parts)
        correlation = median[median["kind"] == kind]
        alike_maps = correlation[correlation["value"] >= NEARLY_EQUAL_CORRELATION]["setting"].tolist()
        defined = correlation[np.isfinite(correlation["value"])]
        undefined = correlation[~np.isfinite(correlation["value"])]["setting"].tolist()
        text += (
            f". Their heatmaps are nearly equal (median per-image correlation at least {NEARLY_EQUAL_CORRELATION}) at "
            f"{_settings(alike_maps, what, len(correlation))}"
        )
        if len(defined) and len(alike_maps) < len(correlation):
            lowest = defined.loc[defined["value"].idxmin()]
            text += f"; the lowest median correlation is {decimals(lowest['value'], 4)} ({lowest['setting']})"
        if undefined:
            text += f"; at {listing(undefined)} no correlation is defined (every heatmap was constant)"
        text += ". "
        for first in ("grad_cam_plus_plus", "grad_cam_plus"):
            versus = rp[(rp["kind"] == kind) & (rp["pair"] == f"{first}/grad_cam")]
            better = versus[versus["verdict"] == "better"]["setting"].tolist()
            worse = versus[versus["verdict"] == "worse"]["setting"].tolist()
            name = METHOD_LABELS[first]
            if not better and not worse:
                text += f"{name} is shown neither better nor worse than Grad-CAM at any {what}. "
                continue
            clauses = []
            if better:
                clauses.append(f"better than Grad-CAM at {listing(better)}")
            if worse:
                clauses.append(f"worse{'' if better else ' than Grad-CAM'} at {listing(worse)}")
            text += f"{name} is {' and '.join(clauses)}; elsewhere no difference from Grad-CAM is shown. "
        paragraphs.append(text.strip())
    return "\n\n".join(paragraphs)


def depth_or_sign(summary: pd.DataFrame) -> str:
    """Sentences, one paragraph per score kind, on whether the breakdown of "Grad-CAM++ ≈ Grad-CAM+" follows depth or
    the sign of the activations, from a depth :func:`sweep_summary` with ``places``. A map "breaks" the equivalence
    where Grad-CAM++ is shown to differ from Grad-CAM+ ("better" or "worse" by :func:`decide`) and not shown
    equivalent; where neither is shown, the images do not decide. Over the stages that have both a signed and a
    non-negative map: the breakdown follows the sign where, at every stage with a broken map, only the signed one is
    broken; depth where, at every such stage, both are; else neither alone. The paragraph adds the extremes of the
    relative performance and of the positive-gradient alphas outside [0, 1] on either kind of map."""
    rp = summary[(summary["quantity"] == "relative_performance") & (summary["pair"] == _PLUS)]
    per_layer = summary[summary["pair"] == ""]
    paragraphs = []
    for kind in dict.fromkeys(summary["kind"]):
        mine = rp[(rp["kind"] == kind) & rp["map"].isin((SIGNED, NON_NEGATIVE))]
        mine = mine.assign(shown_equivalent=mine["equivalent"].astype(bool),
                           broken=~mine["equivalent"].astype(bool) & mine["verdict"].isin(("better", "worse")))
        equivalent = mine.pivot(index="stage", columns="map", values="shown_equivalent")
        broken = mine.pivot(index="stage", columns="map", values="broken")
        if SIGNED not in broken or NON_NEGATIVE not in broken or broken.dropna().empty:
            paragraphs.append(f"With {SCORE_KIND_LABELS[kind]} maps no stage has both a signed and a non-negative map: "
                              "on this model depth cannot be separated from the sign of the activations.")
            continue
        complete = broken.dropna().index
        equivalent, broken = equivalent.loc[complete].astype(bool), broken.loc[complete].astype(bool)
        signed_broken, nonneg_broken = broken[SIGNED], broken[NON_NEGATIVE]
        stages = len(complete)
        only_signed = signed_broken & ~nonneg_broken
        only_nonneg = int((~signed_broken & nonneg_broken).sum())
        both = int((signed_broken & nonneg_broken).sum())
        text = (
            f"With {SCORE_KIND_LABELS[kind]} maps, Grad-CAM++ and Grad-CAM+ are shown to perform alike at "
            f"{int(equivalent[SIGNED].sum())} of the {stages} signed block outputs and at "
            f"{int(equivalent[NON_NEGATIVE].sum())} of the {stages} non-negative maps at the same depths, and shown to "
            f"differ at {int(signed_broken.sum())} signed and {int(nonneg_broken.sum())} non-negative maps; at the rest "
            "the images show neither. "
        )
        for kind_of_map, name in ((SIGNED, "signed outputs"), (NON_NEGATIVE, "non-negative maps")):
            rows = mine[mine["map"] == kind_of_map]
            far = rows.loc[np.log(rows["value"]).abs().idxmax()]
            text += (f"Among the {name} the relative performance lies farthest from 1 at {far['setting']} "
                     f"({interval(far['value'], far['low'], far['high'])}). ")
        if not broken.to_numpy().any():
            text += "So on these images neither depth nor sign is shown to break the equivalence. "
        elif only_nonneg == 0 and both == 0:
            partners = int(equivalent.loc[only_signed, NON_NEGATIVE].sum())
            count = int(only_signed.sum())
            where = "the one stage" if count == 1 else f"each of the {count} stages"
            text += (f"So the breakdown follows the sign of the activations, not depth: at {where} where the signed "
                     f"output breaks the equivalence, the non-negative map at the same depth does not ({partners} of "
                     f"{count} shown equivalent). ")
        elif int(only_signed.sum()) == 0 and only_nonneg == 0:
            text += (f"So the breakdown follows depth, not sign: at each of the {both} stages where one map breaks "
                     "the equivalence, so does the other. ")
        else:
            text += (f"So the breakdown follows neither depth nor sign alone: the equivalence breaks at the signed map "
                     f"only at {int(only_signed.sum())} stages, at the non-negative map only at {only_nonneg} and at "
                     f"both at {both}. ")
        outside = per_layer[(per_layer["kind"] == kind) & (per_layer["quantity"] == "positive_outside_share")]
        mass = per_layer[(per_layer["kind"] == kind) & (per_layer["quantity"] == "outside_weight_share")]
        for kind_of_map, name in ((SIGNED, "signed outputs"), (NON_NEGATIVE, "non-negative maps")):
            shares = outside[outside["map"] == kind_of_map]
            top = shares.loc[shares["value"].idxmax()]
            if top["value"] == 0:
                text += f"At the {name} no alpha at a positive gradient lies outside [0, 1]. "
                continue
            carried = mass[mass["setting"] == top["setting"]]["value"].item()
            text += (f"At the {name} up to {_share(top['value'])} of the positive-gradient alphas lie outside [0, 1] "
                     f"({top['setting']}), where they carry a median {_share(carried)} of an image's Grad-CAM++ "
                     "weight mass. ")
        paragraphs.append(text.strip())
    return "\n\n".join(paragraphs)


def depth_facts(depth: StudyResults, places: Mapping[str, DepthPlace],
                threshold: float = DEFAULT_THRESHOLD) -> dict[str, str]:
    """What the depth chapter's prose quotes about its study, formatted for its glue keys: the model, how many
    layers (signed and non-negative) of how many stages, the last map, the images (analysed, in the data set,
    kept at ``threshold``), and the declared criteria its figure draws (the equivalence margin, the correlation of
    nearly equal heatmaps, the distance from 1/2 of an alpha near 1/2).

    >>> facts = depth_facts(book.study("depth"), places)   # doctest: +SKIP
    >>> facts["depth-near-half"]                             # doctest: +SKIP
    '0.03'
    """
    spec = model_spec(depth.config.model)
    return {
        "depth-model": depth.config.model,
        "depth-layer-count": str(len(places)),
        "depth-stage-count": str(len(spec.stages)),
        "depth-last-map": layer_label(spec.layer),
        "depth-images": str(len(depth.images)),
        "depth-total": str(depth.provenance.total or len(depth.images)),
        "depth-kept": str(len(depth.at().kept(threshold))),
        "depth-threshold": str(threshold),
        "depth-signed-count": str(sum(place.map == SIGNED for place in places.values())),
        "depth-nonnegative-count": str(sum(place.map == NON_NEGATIVE for place in places.values())),
        "depth-near-half": f"{NEAR_HALF:g}",
        "equivalence-margin": f"{EQUIVALENCE_MARGIN:.0%}",
        "nearly-equal-correlation": str(NEARLY_EQUAL_CORRELATION),
    }


def sign_table(summary: pd.DataFrame, layers: Mapping[str, LayerResults], kind: ScoreKind) -> pd.DataFrame:
    """:func:`sweep_table` of :data:`SIGN_COLUMNS`, with a column that says at how many images the gradient is
    constant within every feature map of each layer (``layers``: the sweep's settings by label)."""
    table = sweep_table(summary, kind, SIGN_COLUMNS)
    table.insert(1, "gradient constant within maps",
                 [f"{layers[name].gradient_constant_share(kind):.0%} of images" for _, name in table.index])
    return table


def partner_layer(places: Mapping[str, DepthPlace], name: str) -> str:
    """The other map at the depth of ``name`` (its stage's signed output or non-negative map), or ``name`` itself
    where the stage has only one.

    >>> partner_layer({"a": DepthPlace(1, SIGNED), "b": DepthPlace(1, NON_NEGATIVE)}, "a")
    'b'
    """
    return next((other for other, place in places.items() if place.stage == places[name].stage and other != name),
                name)


def worst_images(results: LayerResults, threshold: float = DEFAULT_THRESHOLD, kind: ScoreKind = "pre_softmax",
                 count: int = 2) -> list[int]:
    """By rule: the ``count`` kept images on which Grad-CAM++ does worst against Grad-CAM+ (smallest per-image
    log ratio), then the median one."""
    log_ratio = pd.Series(results.log_relative_performance(kind, *PLUS_PAIR, threshold),
                          index=results.kept(threshold).index).sort_values()
    return [*log_ratio.index[:count], log_ratio.index[len(log_ratio) // 2]]


def ratio_figure(results: LayerResults, name: str, place: DepthPlace, images: Sequence[int],
                 threshold: float = DEFAULT_THRESHOLD, classifier: Classifier | None = None) -> Figure:
    """The paper's three pre-softmax heatmaps of ``images`` (kept images of the study) at the layer of ``results``
    (``name`` at ``place`` of a depth sweep), one row per image titled with its class and its ratio of Grad-CAM++
    to Grad-CAM+."""
    from ..explain import explain, load_pixels
    from ..presentation.plots import heatmap_grid

    classifier = classifier or results.load_classifier()
    kept = results.kept(threshold)
    labels = [int(kept.loc[image, "label"]) for image in images]
    pixels = load_pixels(classifier, [results.image_path(image) for image in images])
    explanation = explain(classifier, pixels, labels, score_kind="pre_softmax", layer=results.layer)
    ratios = pd.Series(results.log_relative_performance("pre_softmax", *PLUS_PAIR, threshold), index=kept.index)
    titles = [f"{class_name(label)}\nGC++/GC+ = {np.exp(ratios[image]):.3g}" for label, image in zip(labels, images)]
    figure = heatmap_grid(explanation, titles)
    figure.suptitle(f"{name} ({place.depth_label}, {place.map.replace('_', '-')})", fontsize=10)
    figure.tight_layout()
    return figure


def architecture_table(summary: pd.DataFrame, studies: Mapping[str, StudyResults], kind: str) -> pd.DataFrame:
    """The architecture sweep for one score kind (:func:`sweep_table` of the performance columns and the sign
    columns the figure draws), with each model's top-1 on the compared images and its input size first."""
    columns = (*PERFORMANCE_COLUMNS, *(column for column in SIGN_COLUMNS if column[0] in FIGURE_QUANTITIES))
    top1 = {
        name: f"{(study.images['predicted'] == study.images['label']).mean():.1%} ({model_spec(name).crop} px)"
        for name, study in studies.items()
    }
    table = sweep_table(summary, kind, columns)
    table.insert(0, "top-1 (input)", [top1[setting.split(" at ")[0]] for setting in table.index])
    return table


def left_out_note(left_out: Sequence[str]) -> str:
    """Why models are missing from the architecture comparison, or that none is.

    >>> left_out_note([])
    "Every registered model's weights are present."
    """
    return " ".join(left_out) if left_out else "Every registered model's weights are present."


__all__ = ["FIGURE_QUANTITIES", "MAP_LABELS", "PERFORMANCE_COLUMNS", "QUANTITIES", "SIGN_COLUMNS", "architecture_table",
           "depth_facts", "depth_or_sign", "left_out_note", "partner_layer", "ratio_figure", "sign_table",
           "sweep_findings", "sweep_table", "worst_images"]
