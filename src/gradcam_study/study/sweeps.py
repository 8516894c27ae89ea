"""The same quantities at many layers or on many models: the depth and architecture sweeps of the book.

:func:`layer_summary` reduces one layer's results to the numbers that decide whether Grad-CAM++ behaves
like Grad-CAM+ there; :func:`sweep_summary` stacks them over layers or models (a tidy frame, one row per
setting, score kind and quantity) and decides its verdicts with Holm's adjustment over the whole table;
:func:`sweep_findings` and :func:`depth_or_sign` turn such a frame into sentences. :func:`depth_places` says, for
the layers of a depth sweep, at which stage each lies and whether its activations are signed or non-negative.

>>> from gradcam_study import book
>>> depth = book.study("depth")                                       # doctest: +SKIP
>>> summary = sweep_summary(book.depth_settings(depth))               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..capture import ScoreKind, layer_label
from ..methods import METHOD_PAIRS, PLUS_PAIR, PLUS_PAIR_ID, pair_id
from ..models import ModelSpec
from .analysis import NEGATIVE_SHARE_COLUMN, UNITS_COLUMN, alpha_column, constant_map_column
from .config import DEFAULT_THRESHOLD
from .results import LayerResults
from .verdicts import MIN_IMAGES_FOR_VERDICT, SIGNIFICANCE_LEVEL, holm

_PLUS = PLUS_PAIR_ID

#: A per-image ratio this far from 1 (below 1/RATIO_FAR or above RATIO_FAR) counts in the shares of the tables.
RATIO_FAR = 2.0

#: Kinds of map in a depth sweep, with their labels.
SIGNED, NON_NEGATIVE, LAST_MAP = "signed", "non_negative", "last_map"


@dataclass(frozen=True)
class DepthPlace:
    """Where a layer of a depth sweep lies: its stage (1 from the input side; one past the last stage for the last
    map) and its kind of map (:data:`SIGNED`, :data:`NON_NEGATIVE` or :data:`LAST_MAP`)."""

    stage: int
    map: str

    @property
    def depth_label(self) -> str:
        return "last map" if self.map == LAST_MAP else f"stage {self.stage}"


def depth_places(spec: ModelSpec, layers: Iterable[str]) -> dict[str, DepthPlace]:
    """For each layer key of a depth study, keyed by its label (as :func:`gradcam_study.book.depth_settings`): its
    stage and kind of map. A stage output is signed where the model names a non-negative map at its depth
    (``spec.nonnegative_stages``: the stage outputs are linear bottlenecks), else non-negative (post-ReLU, as
    VGG16's); the model's last map comes last. A layer that is none of these is left out.

    >>> from gradcam_study.models import model_spec
    >>> places = depth_places(model_spec("efficientnet_lite0"), ["_blocks.0", "_blocks.0._project_conv:input"])
    >>> [(p.stage, p.map) for p in places.values()]
    [(1, 'signed'), (1, 'non_negative')]
    """
    stage_kind = SIGNED if spec.nonnegative_stages else NON_NEGATIVE
    known: dict[str, DepthPlace] = {}
    for number, layer in enumerate(spec.stages, start=1):
        known[layer] = DepthPlace(number, stage_kind)
    for number, layer in enumerate(spec.nonnegative_stages, start=1):
        known[layer] = DepthPlace(number, NON_NEGATIVE)
    known.setdefault(spec.layer, DepthPlace(len(spec.stages) + 1, LAST_MAP))
    if known[spec.layer].map != LAST_MAP:  # a model whose last stage output is its explained layer (VGG16)
        known[spec.layer] = DepthPlace(known[spec.layer].stage, LAST_MAP)
    return {layer_label(layer): known[layer] for layer in layers if layer in known}


def _per_image_ratio_rows(kind: str, pair: str, log_rp: np.ndarray) -> list[dict]:
    """The per-pair quantities beyond the relative performance, from the per-image log ratios."""
    found = {
        "median_log_ratio": float(np.median(log_rp)),
        "share_ratio_below_half": float(np.mean(log_rp < -np.log(RATIO_FAR))),
        "share_ratio_above_two": float(np.mean(log_rp > np.log(RATIO_FAR))),
    }
    return [{"kind": kind, "pair": pair, "quantity": q, "value": v} for q, v in found.items()]


def sign_quantities(results: LayerResults, kind: ScoreKind, threshold: float = DEFAULT_THRESHOLD) -> dict[str, float]:
    """What the sign of the activations does to the alphas at one layer, for one score kind:

    - ``negative_activation_share``: share of negative activations (all units of all analysed images);
    - ``share_outside_units``: alphas outside [0, 1] (:math:`|\\alpha - 1/2| > 1/2`) as a share of all units, so that
      layers of different sizes compare (all analysed images);
    - ``positive_outside_share``: share of the positive-gradient units whose alpha lies outside [0, 1], the ones that
      reach Grad-CAM++'s weights (pooled over all analysed images);
    - ``outside_weight_share``: the median over all analysed images of the share of the Grad-CAM++ weight mass
      :math:`\\sum |\\alpha\\, \\mathrm{ReLU}(g)|` those alphas carry (:func:`~gradcam_study.study.analysis.sign_statistics`);
    - ``constant_<method>``: how many kept images have a constant (all-zero) heatmap of each paper method.
    """
    images = results.images
    column = lambda statistic: images[alpha_column(kind, statistic)]  # noqa: E731
    positive = column("positive_gradient_units").sum()
    kept = results.kept(threshold)
    found = {
        "negative_activation_share": float(images[NEGATIVE_SHARE_COLUMN].mean()),
        # The column is absent where no image has a non-zero alpha: then no alpha is outside [0, 1] either.
        "share_outside_units": float(images.get(alpha_column(kind, "alpha_far_from_half"), pd.Series(0.0)).fillna(0).sum()
                                     / images[UNITS_COLUMN].sum()),
        "positive_outside_share": float(column("positive_outside").sum() / positive) if positive else 0.0,
        "outside_weight_share": float(column("outside_weight_share").median()),
    }
    for method in ("grad_cam", "grad_cam_plus", "grad_cam_plus_plus"):
        found[f"constant_{method}"] = float(kept[constant_map_column(kind, method)].sum())
    return found


#: The verdict of a relative performance over fewer than :data:`~.verdicts.MIN_IMAGES_FOR_VERDICT` kept images.
TOO_FEW_IMAGES = "too few images"


def decide(summary: pd.DataFrame, level: float = SIGNIFICANCE_LEVEL) -> pd.DataFrame:
    """The verdicts of a summary's relative performances, with Holm's adjustment (:func:`~.verdicts.holm`) over all
    its rows of one score kind (one table: every setting and pair):

    - ``equivalent``: the Holm-adjusted TOST p-value (``tost_p_holm``) is below ``level``;
    - ``verdict``: ``"better"`` (``"worse"``) where the Holm-adjusted Wilcoxon p-value (``p_holm``) is below ``level``
      and the bootstrap interval lies above (below) 1, both agreeing; else ``"not distinguishable"``;
    - below :data:`~.verdicts.MIN_IMAGES_FOR_VERDICT` kept images neither: ``equivalent`` is False and ``verdict``
      is ``"too few images"`` (the numbers are still shown).
    """
    summary = summary.copy()
    rp = summary["quantity"] == "relative_performance"
    for column in ("p_holm", "tost_p_holm"):
        summary[column] = np.nan
    for kind in summary.loc[rp, "kind"].unique():
        rows = rp & (summary["kind"] == kind)
        summary.loc[rows, "p_holm"] = holm(summary.loc[rows, "p_value"].to_numpy(dtype=float))
        summary.loc[rows, "tost_p_holm"] = holm(summary.loc[rows, "tost_p_value"].to_numpy(dtype=float))
    shown = summary["p_holm"] < level
    summary["equivalent"] = np.where(rp, summary["tost_p_holm"] < level, np.array(None))
    summary["verdict"] = np.where(
        rp,
        np.where(shown & (summary["low"] > 1), "better",
                 np.where(shown & (summary["high"] < 1), "worse", "not distinguishable")),
        np.array(None),
    )
    if "kept" in summary:
        too_few = rp & (summary["kept"] < MIN_IMAGES_FOR_VERDICT)
        summary.loc[too_few, "equivalent"] = False
        summary.loc[too_few, "verdict"] = TOO_FEW_IMAGES
    return summary


def layer_summary(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """One layer in a few numbers, per score kind (:data:`QUANTITIES`): per pair the relative performance with its
    bootstrap interval, Wilcoxon and equivalence (TOST) p-values, and the per-image ratio quantities (kept images);
    per layer :func:`sign_quantities`, the share of non-zero alphas near 1/2 (all analysed images) and the median
    correlation of the Grad-CAM++ and Grad-CAM+ heatmaps (kept images). Verdicts by :func:`decide`, with the layer's
    pairs as the family.

    Columns: ``kind``, ``pair`` (``"first/second"`` identifiers, empty for per-layer quantities), ``quantity``,
    ``value``, ``low``, ``high``, ``p_value``, ``tost_p_value``, ``p_holm``, ``tost_p_holm``, ``equivalent``,
    ``verdict``, ``kept``, ``images``.
    """
    statistics = results.statistics(threshold)
    similarity = results.heatmap_similarity(threshold)
    rows: list[dict] = []
    for kind in results.score_kinds:
        for first, second in METHOD_PAIRS:
            pair = pair_id(first, second)
            row = statistics.loc[(pair, kind)]
            rows.append({
                "kind": kind, "pair": pair, "quantity": "relative_performance",
                "value": row["relative_performance"], "low": row["ci_low"], "high": row["ci_high"],
                "p_value": row["p_value"], "tost_p_value": row["tost_p_value"],
            })
            rows += _per_image_ratio_rows(kind, pair, results.log_relative_performance(kind, first, second, threshold))
        extremes = results.alpha_extremes(kind)
        median = similarity.loc[(PLUS_PAIR_ID, kind), "median_correlation"]
        per_layer = {"share_near_half": float(extremes["share_near_half"]), "median_correlation": float(median),
                     **sign_quantities(results, kind, threshold)}
        rows += [{"kind": kind, "pair": "", "quantity": q, "value": v} for q, v in per_layer.items()]
    frame = pd.DataFrame.from_records(rows)
    for column in ("low", "high", "p_value", "tost_p_value"):
        frame[column] = frame[column].astype(float)
    frame = decide(frame)
    frame["kept"] = len(results.kept(threshold))
    frame["images"] = len(results.images)
    return frame


def sweep_summary(
    settings: Mapping[str, LayerResults], threshold: float = DEFAULT_THRESHOLD,
    places: Mapping[str, DepthPlace] | None = None,
) -> pd.DataFrame:
    """:func:`layer_summary` of each setting (a layer, or a model at a layer), in the given order, with a
    ``setting`` column and ``position`` (0, 1, ...) for plotting; with ``places`` (:func:`depth_places`) also
    ``stage`` and ``map``, and ``position`` is the stage. Verdicts by :func:`decide` over each score kind's table."""
    parts = []
    for position, (name, results) in enumerate(settings.items()):
        part = layer_summary(results, threshold).assign(setting=name, position=position)
        if places is not None:
            place = places[name]
            part = part.assign(stage=place.stage, map=place.map, position=place.stage)
        parts.append(part)
    return decide(pd.concat(parts, ignore_index=True))
















def worst_setting(summary: pd.DataFrame, kind: str = "pre_softmax", pair: str = _PLUS) -> str:
    """The setting where ``pair``'s relative performance (``"first/second"``) lies farthest from 1 on a log scale."""
    rp = summary[(summary["quantity"] == "relative_performance") & (summary["kind"] == kind) & (summary["pair"] == pair)]
    return str(rp.loc[np.log(rp["value"]).abs().idxmax(), "setting"])




__all__ = [
    "LAST_MAP", "NON_NEGATIVE", "PLUS_PAIR", "RATIO_FAR", "SIGNED", "DepthPlace", "decide", "depth_places",
    "layer_summary", "sign_quantities", "sweep_summary", "worst_setting",
]
