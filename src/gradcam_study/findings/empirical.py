"""Readings of the empirical tests chapter: the live example of eq. (15), the images kept, Table 1 against the
verdicts, Figure 6's numbers, the verdicts in a list, the equivalence margins, the threshold sweep and the inner layer.

Each ``*_reading`` returns the values a chapter glues (:data:`Reading`: plain strings for ``{glue:text}``, Markdown
clauses for ``{glue:md}``), keyed by glue key; the verdicts are those :meth:`~gradcam_study.study.LayerResults.
statistics` decided, read through :mod:`.pairs`, and become words only through
:func:`~gradcam_study.study.verdicts.verdict_words`.

>>> reading = kept_reading(book.study("main").at(), 0.5)                       # doctest: +SKIP
>>> reading["kept-count"], reading["paper-kept"]                              # doctest: +SKIP
('21', '4219')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from IPython.display import Markdown
from torch import Tensor

from .. import paper
from ..capture import ScoreKind
from ..explain import Explanation, explain_study_image
from ..libraries import explanation_log_probs
from ..methods import METHOD_PAIRS, PAPER_METHODS, PLUS_PAIR_ID, pair_id
from ..metrics import explanation_maps
from ..models import Classifier
from ..presentation.formats import decimals, listing, p_equals, percent, ratio
from ..presentation.labels import METHOD_LABELS, SCORE_KIND_LABELS, pair_label
from ..study import NoImageKeptError, log_prob_column
from ..study.provenance import Provenance
from ..study.results import LayerResults
from ..study.verdicts import (
    EQUIVALENCE_MARGIN,
    SHOWN_MARGINS,
    SIGNIFICANCE_LEVEL,
    STRICT_EQUIVALENCE_MARGIN,
    Verdict,
)
from .pairs import (
    POSITIVE_GRADIENTS_PAIR_ID,
    alphas_move_less_by_kind,
    alphas_move_less_clause,
    read_pair,
)

#: Glued values: plain strings (``{glue:text}``) or Markdown clauses (``{glue:md}``).
Reading = dict[str, "str | Markdown"]

#: Short names of the paper's pairs in glue keys: ``"t1-gcpp-gc-pre"`` is Table 1's Grad-CAM++ against Grad-CAM,
#: pre-softmax.
PAIR_KEYS: dict[str, str] = {
    pair_id("grad_cam_plus_plus", "grad_cam"): "gcpp-gc",
    POSITIVE_GRADIENTS_PAIR_ID: "gcp-gc",
    PLUS_PAIR_ID: "gcpp-gcp",
}
GRAD_CAM_PAIR_ID = pair_id("grad_cam_plus_plus", "grad_cam")
#: The score thresholds of the sweep: 0 (every image) to 0.9.
THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.round(np.arange(0.0, 1.0, 0.1), 1))
#: Figure 6's band about 1: a per-image relative performance within ``1 ± ONE_PERCENT`` counts as "within 1%".
ONE_PERCENT = 0.01


def kind_key(kind: str) -> str:
    """A score kind in a glue key: ``"pre"`` for ``"pre_softmax"``."""
    return kind.split("_")[0]


@dataclass(frozen=True)
class MapExample:
    """One image's explanation maps (eq. (15)) computed live: the study's row of the image, the explanation, each
    paper method's map (``3 x H x W`` pixels in [0, 1]) and the probability of the true class on it, live and as
    the study stored it."""

    image: int
    row: pd.Series
    explanation: Explanation
    maps: dict[str, Tensor]
    probability: dict[str, float]
    stored: dict[str, float]


def example_image(kept: pd.DataFrame, kind: ScoreKind = "pre_softmax", quantile: float = 0.9) -> int:
    """The kept image whose ``|log(p_Grad-CAM++ / p_Grad-CAM)|`` is closest to its ``quantile`` over the kept images:
    an image where the methods differ visibly, since on most they do not."""
    gap = (kept[log_prob_column(kind, "grad_cam_plus_plus")] - kept[log_prob_column(kind, "grad_cam")]).abs()
    return int((gap - gap.quantile(quantile)).abs().idxmin())


def map_example(results: LayerResults, image: int, kind: ScoreKind = "pre_softmax",
                classifier: Classifier | None = None) -> MapExample:
    """Image ``image`` of ``results`` explained live (:func:`~gradcam_study.explain.explain_study_image`), its
    explanation maps :math:`E = I \\odot H` and the probability of the true class on each, by the study's own
    protocol (:func:`~gradcam_study.libraries.explanation_log_probs`)."""
    classifier = classifier or results.load_classifier()
    explanation = explain_study_image(results, image, kind, classifier)
    row = results.images.loc[image]
    return MapExample(
        image=image,
        row=row,
        explanation=explanation,
        maps={m: explanation_maps(explanation.pixels, explanation.upsampled[m].unsqueeze(1).cpu(), lambda x: x)[0]
              for m in PAPER_METHODS},
        probability={m: float(explanation_log_probs(classifier, explanation.pixels, explanation.heatmaps[m],
                                                    explanation.targets).exp()[0]) for m in PAPER_METHODS},
        stored={m: float(np.exp(row[log_prob_column(kind, m)])) for m in PAPER_METHODS},
    )


def map_example_reading(example: MapExample) -> Reading:
    """The example's probabilities in words (``example-*``): live on each map, as stored, on the whole image, and the
    two relative performances of Grad-CAM++."""
    p = example.probability
    return {
        "example-probabilities": ", ".join(f"{decimals(p[m])} on the {METHOD_LABELS[m]} map" for m in PAPER_METHODS),
        "example-stored": ", ".join(decimals(example.stored[m]) for m in PAPER_METHODS),
        "example-whole": decimals(example.row["probability"]),
        "example-gcpp-gc": decimals(p["grad_cam_plus_plus"] / p["grad_cam"]),
        "example-gcpp-gcp": decimals(p["grad_cam_plus_plus"] / p["grad_cam_plus"]),
    }


def top1_reading(results: LayerResults) -> Reading:
    """The classifier's top-1 accuracy on the analysed images (``top1-*``)."""
    images = results.images
    return {
        "top1-accuracy": percent(float((images["predicted"] == images["label"]).mean())),
        "top1-model": results.provenance.model,
        "top1-images": str(len(images)),
    }


def kept_reading(results: LayerResults, threshold: float) -> Reading:
    """How many images ``threshold`` keeps beside the paper's share, the threshold that would keep the paper's share
    here, and the skipped images (``kept-*``, ``paper-*``)."""
    images, kept = results.images, results.require_kept(threshold)
    paper_share = paper.KEPT / paper.IMAGES
    skipped = len(results.skipped)
    return {
        "kept-threshold": f"{threshold}",
        "kept-count": str(len(kept)),
        "kept-total": str(len(images)),
        "kept-share": percent(len(kept) / len(images)),
        "paper-kept": str(paper.KEPT),
        "paper-images": f"{paper.IMAGES:,}",
        "paper-share": percent(paper_share),
        "paper-setting": paper.SETTING,
        "kept-matching-threshold": decimals(float(np.quantile(images["probability"], 1 - paper_share))),
        "kept-skipped": (f"{skipped} images could not be read and were skipped by the study." if skipped
                         else "No image was skipped: every file of the data set could be read."),
    }


def setting_clause(provenance: Provenance, same_setting: bool) -> str:
    """Whether the paper's values beside ours come from the same setting (then a difference is shown) or another."""
    if same_setting:
        return "This build runs in the paper's setting, so the difference from the paper's values is shown."
    return (f"This build runs on {provenance.model} and {provenance.dataset}, not on the paper's {paper.SETTING}: the "
            "paper's values stand beside ours as a reference from another model and data set, and no difference is "
            "computed.")


def ahead_clause(statistics: pd.DataFrame) -> Markdown:
    """Whether Grad-CAM++ is ahead of Grad-CAM with every score kind, at the strict margin, as in the paper, with
    the intervals (MyST: it refers to the analysis plan)."""
    readings = [read_pair(statistics, GRAD_CAM_PAIR_ID, kind) for kind in dict.fromkeys(statistics.index.get_level_values(1))]
    strict = STRICT_EQUIVALENCE_MARGIN
    if all(r.verdict(strict) == Verdict.FIRST_AHEAD.value for r in readings):
        return Markdown(
            "and, as in the paper, Grad-CAM++ is ahead of Grad-CAM in both columns (verdicts of {ref}`analysis-plan`, "
            f"at the {percent(strict, 0)} margin; bootstrap 95% intervals "
            + " and ".join(f"{r.interval_ends}, {r.kind_label}" for r in readings) + ")."
        )
    return Markdown(
        "unlike the paper, though, Grad-CAM++ is not ahead of Grad-CAM in both columns on this model and data: "
        + "; ".join(f"with {r.kind_label} maps the verdict is \"{r.verdict_words(strict)}\" at the "
                    f"{percent(strict, 0)} margin (95% interval {r.interval_ends})"
                    for r in readings if r.verdict(strict) != Verdict.FIRST_AHEAD.value)
        + " (verdicts of {ref}`analysis-plan`; intervals from the section on certainty below)."
    )


def table1_reading(table1: pd.DataFrame, statistics: pd.DataFrame) -> Reading:
    """Table 1 beside the paper's in words: each value (``t1-<pair>-<kind>``, ``t1-paper-<pair>-<kind>``), how
    close Grad-CAM++ and Grad-CAM+ are against Grad-CAM++ and Grad-CAM (``t1-within``, ``t1-upto``), whether the
    alphas move the result less than the positive gradients (``t1-alphas``) and whether Grad-CAM++ is ahead of
    Grad-CAM (``t1-ahead``, MyST)."""
    reference = paper.table1()
    reading: Reading = {}
    for pair, short in PAIR_KEYS.items():
        for kind in table1.columns:
            reading[f"t1-{short}-{kind_key(kind)}"] = decimals(table1.loc[pair, kind])
            reading[f"t1-paper-{short}-{kind_key(kind)}"] = decimals(reference.loc[pair, kind], paper.DECIMALS)
    reading["t1-within"] = percent(max(abs(table1.loc[PLUS_PAIR_ID] - 1)))
    reading["t1-upto"] = percent(max(abs(table1.loc[GRAD_CAM_PAIR_ID] - 1)))
    reading["t1-alphas"] = alphas_move_less_clause(table1)
    reading["t1-ahead"] = ahead_clause(statistics)
    return reading


def per_image_relative_performance(results: LayerResults, threshold: float) -> pd.DataFrame:
    """Figure 6's data: one row per kept image, pair and score kind (``pair``, ``score``: identifiers) with its
    relative performance :math:`p^A_i / p^B_i`."""
    return pd.concat(
        [
            pd.DataFrame({
                "relative_performance": np.exp(results.log_relative_performance(kind, first, second, threshold)),
                "pair": pair_id(first, second),
                "score": kind,
            })
            for kind in results.score_kinds
            for first, second in METHOD_PAIRS
        ],
        ignore_index=True,
    )


def relative_performance_spread(per_image: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind Figure 6, per pair and score kind: the median and quartiles of the per-image relative
    performance, the share of images within ``1 ± ONE_PERCENT`` (``share_within_one_percent``) and above 1."""
    return per_image.groupby(["pair", "score"], sort=False)["relative_performance"].agg(
        median="median",
        q25=lambda r: r.quantile(0.25),
        q75=lambda r: r.quantile(0.75),
        share_within_one_percent=lambda r: ((r > 1 - ONE_PERCENT) & (r < 1 + ONE_PERCENT)).mean(),
        share_above_one=lambda r: (r > 1).mean(),
    )


def spread_reading(spread: pd.DataFrame) -> Reading:
    """The shares of images within 1% of 1 (``spread-<pair>-<kind>``) for Grad-CAM++ against Grad-CAM+ and against
    Grad-CAM, and that band itself (``spread-band``, :data:`ONE_PERCENT`)."""
    return {"spread-band": percent(ONE_PERCENT, 0),
            **{f"spread-{PAIR_KEYS[pair]}-{kind_key(kind)}": percent(share)
               for (pair, kind), share in spread["share_within_one_percent"].items()}}


def verdict_list(statistics: pd.DataFrame) -> Markdown:
    """Every pair (in :data:`~gradcam_study.methods.METHOD_PAIRS` order) and score kind as a list item: the relative
    performance and its interval, the verdict and TOST p-value at each shown margin, and the Wilcoxon test."""
    kinds = list(dict.fromkeys(statistics.index.get_level_values(1)))
    items = []
    for first, second in METHOD_PAIRS:
        for kind in kinds:
            r = read_pair(statistics, pair_id(first, second), kind)
            margins = "; ".join(f"{r.verdict_words(m)} at the {percent(m, 0)} margin (TOST p {p_equals(r.tost_p[m])})"
                                for m in SHOWN_MARGINS)
            items.append(f"- {r.label} ({r.kind_label}): {ratio(r.relative_performance)}, interval {r.interval_ends}; "
                         f"{margins}; the Wilcoxon signed-rank test {r.wilcoxon(still=False)}")
    return Markdown("\n".join(items))


def narrowest_margin(sweep: pd.DataFrame, pair: str, kind: str) -> str:
    """From which margin of an equivalence sweep (:meth:`~gradcam_study.study.LayerResults.equivalence_sweep`)
    equivalence is shown for ``pair`` and ``kind``, in words."""
    shown_at = [m for m in sweep.columns if sweep.loc[(pair, kind), m] < SIGNIFICANCE_LEVEL]
    return f"from a margin of {percent(min(shown_at))}" if shown_at else "at none of these margins"


def margins_reading(sweep: pd.DataFrame) -> Reading:
    """For each pair (Grad-CAM++ against Grad-CAM+ first), from which margin equivalence is shown with each score
    kind (``margins-shown``), the two shown margins (``margins-strict``, ``margins-declared``) and the level a
    TOST p-value is read at (``margins-level``)."""
    kinds = list(dict.fromkeys(sweep.index.get_level_values(1)))
    sentences = []
    for pair in (PLUS_PAIR_ID, GRAD_CAM_PAIR_ID, POSITIVE_GRADIENTS_PAIR_ID):
        found = {kind: narrowest_margin(sweep, pair, kind) for kind in kinds}
        if len(set(found.values())) == 1:
            sentences.append(f"For {pair_label(pair)}, equivalence is shown {found[kinds[0]]} with both kinds of score.")
        else:
            sentences.append(f"For {pair_label(pair)}, equivalence is shown "
                             + " and ".join(f"{found[k]} with {SCORE_KIND_LABELS[k]} maps" for k in kinds) + ".")
    return {"margins-shown": " ".join(sentences), "margins-strict": percent(STRICT_EQUIVALENCE_MARGIN, 0),
            "margins-declared": percent(EQUIVALENCE_MARGIN, 0), "margins-level": f"{SIGNIFICANCE_LEVEL:g}"}


def threshold_sweep(results: LayerResults, thresholds: Sequence[float] = THRESHOLDS) -> tuple[pd.DataFrame, list[float]]:
    """Table 1 at each threshold (rows; columns ``(score kind, pair)``, after ``("kept", "images")``, the number of
    images kept), and the thresholds that keep no image (left out of the table)."""
    tables, empty = {}, []
    for t in thresholds:
        try:
            tables[float(t)] = results.table1(t).stack()
        except NoImageKeptError:  # a threshold that keeps no image has no Table 1
            empty.append(float(t))
    sweep = pd.concat(tables, axis=1).T.rename_axis("threshold")
    sweep.columns = sweep.columns.set_names(["methods", "score"])
    sweep = sweep.reorder_levels(["score", "methods"], axis=1)[
        [(kind, pair) for kind in results.score_kinds for pair in PAIR_KEYS]
    ]
    sweep.insert(0, ("kept", "images"), [len(results.kept(t)) for t in sweep.index])
    return sweep, empty


def kept_shares(results: LayerResults, thresholds: Sequence[float] = THRESHOLDS) -> pd.Series:
    """The share of the analysed images each threshold keeps."""
    return pd.Series([len(results.kept(t)) / len(results.images) for t in thresholds],
                     index=pd.Index(list(thresholds), name="threshold"), name="share_kept")


def threshold_reading(sweep: pd.DataFrame, empty: Sequence[float]) -> Reading:
    """The thresholds that keep no image (``sweep-empty``), the range of Grad-CAM++ against Grad-CAM+ and against
    Grad-CAM over the thresholds (``sweep-<pair>-<kind>``, with its verb: "stays at x" or "lies between x and y")
    and the kept count from the first threshold to the last (``sweep-kept``: "falls from n to m images" or "stays
    at n images"), and the lowest and highest threshold of the sweep (``sweep-lowest``, ``sweep-highest``)."""
    first, last = sweep[("kept", "images")].iloc[0], sweep[("kept", "images")].iloc[-1]
    thresholds = sorted([*sweep.index, *empty])
    reading: Reading = {
        "sweep-lowest": f"{thresholds[0]:g}",
        "sweep-highest": f"{thresholds[-1]:g}",
        "sweep-empty": (f"No image is kept at the threshold{'s' if len(empty) > 1 else ''} "
                        f"{', '.join(decimals(t, 1) for t in empty)}, which the table and the figure therefore leave out."
                        if empty else "Every threshold keeps at least one image."),
        "sweep-kept": (f"falls from {first} to {last} images" if first != last else f"stays at {first} images"),
    }
    for kind, pair in sweep.columns:
        if pair in (PLUS_PAIR_ID, GRAD_CAM_PAIR_ID):
            low, high = decimals(sweep[(kind, pair)].min()), decimals(sweep[(kind, pair)].max())
            reading[f"sweep-{PAIR_KEYS[pair]}-{kind_key(kind)}"] = (f"stays at {low}" if low == high
                                                                 else f"lies between {low} and {high}")
    return reading


def inner_kept_clause(results: LayerResults, inner: LayerResults | None, threshold: float) -> str:
    """How many images the threshold keeps at the inner layer beside the profile's layer, or why the section is
    skipped (a model whose explained layer already has gradients that vary within each map)."""
    if inner is None:
        return (f"In this profile the explained layer, {results.provenance.layer} of {results.provenance.model}, "
                "already has gradients that vary within each feature map, so the tables above are already those of "
                "such a layer and this section is skipped.")
    return (f"At the threshold {threshold}, {len(inner.require_kept(threshold))} of the {len(inner.images)} images are "
            f"kept at {inner.provenance.layer} ({len(results.require_kept(threshold))} at {results.provenance.layer}; "
            "the filter looks only at the probability on the whole image, so the layer does not change it).")


def tables_by_layer(layers: Mapping[str, LayerResults], threshold: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 1 and Table 2 at each layer (``layers`` maps a printed layer name to results), one column per
    ``(score kind, layer)``; Table 2 one row per pair and statistic."""
    kinds = next(iter(layers.values())).score_kinds
    order = [(kind, name) for kind in kinds for name in layers]
    table1 = pd.concat({name: at_layer.table1(threshold) for name, at_layer in layers.items()}, axis=1)
    table2 = pd.concat({name: at_layer.table2(threshold).stack(level=1, future_stack=True)
                        for name, at_layer in layers.items()}, axis=1)
    table2.index.names = ["methods", "statistic"]
    for table in (table1, table2):
        table.columns.names = ["layer", "score"]
    return (table1.reorder_levels(["score", "layer"], axis=1)[order],
            table2.reorder_levels(["score", "layer"], axis=1)[order])


def inner_layer_reading(plus_statistics: pd.DataFrame, layers: Mapping[str, LayerResults], threshold: float) -> Markdown:
    """Grad-CAM++ against Grad-CAM+ at the inner layer beside the profile's (``layers``: the profile's layer first,
    then the inner one; ``plus_statistics`` from :func:`~gradcam_study.study.results.statistics_over_layers`): the
    relative performances with intervals and verdicts, how much wider the gap is, and whether the alphas move the
    result less than the positive gradients there (MyST: it refers to the analysis plan)."""
    default_name, inner_name = layers

    def described(name: str) -> str:
        frame = plus_statistics.xs(name, level="layer")
        parts = []
        for kind in layers[name].score_kinds:
            r = read_pair(frame, PLUS_PAIR_ID, kind)
            verdicts = "; ".join(f"{r.verdict_words(m)} at the {percent(m, 0)} margin" for m in SHOWN_MARGINS)
            parts.append(f"{ratio(r.relative_performance)} ({r.interval_ends}) with {r.kind_label} maps ({verdicts})")
        return " and ".join(parts)

    tables = {name: at_layer.table1(threshold) for name, at_layer in layers.items()}
    gaps = {name: float(max(abs(np.log(table.loc[PLUS_PAIR_ID])))) for name, table in tables.items()}
    inner_table = tables[inner_name]
    less = alphas_move_less_by_kind(inner_table)
    if all(less.values()):
        alphas = "less than the positive gradients do with every score, as the paper's hypothesis predicts."
    else:
        against = [kind for kind, held in less.items() if not held]
        alphas = ("more than the positive gradients do with " + listing([SCORE_KIND_LABELS[k] for k in against])
                  + " maps ("
                  + ", ".join(f"|log R| {decimals(abs(np.log(inner_table.loc[PLUS_PAIR_ID, k])), 4)} against "
                              f"{decimals(abs(np.log(inner_table.loc[POSITIVE_GRADIENTS_PAIR_ID, k])), 4)} for "
                              f"{pair_label(POSITIVE_GRADIENTS_PAIR_ID)}" for k in against)
                  + "), against the paper's hypothesis at this layer.")
    return Markdown(
        f"At {inner_name}, Grad-CAM++ against Grad-CAM+ scores {described(inner_name)}, "
        f"against {described(default_name)} at {default_name} (relative performance with its bootstrap 95% interval; "
        "verdicts of {ref}`analysis-plan`, Holm-adjusted over both layers): where the alphas can vary within the maps "
        f"the gap between the two methods is {decimals(gaps[inner_name] / max(gaps[default_name], 1e-12), 1)} times "
        f"{'wider' if gaps[inner_name] > gaps[default_name] else 'narrower'} (largest |log R| "
        f"{decimals(gaps[inner_name], 4)} against {decimals(gaps[default_name], 4)}). Measured against the gap between "
        "Grad-CAM+ and Grad-CAM at the same layer, the alphas move the result " + alphas
    )


__all__ = ["ONE_PERCENT", "PAIR_KEYS", "THRESHOLDS", "MapExample", "Reading", "ahead_clause", "example_image",
           "inner_kept_clause", "inner_layer_reading", "kept_reading", "kept_shares", "map_example",
           "map_example_reading", "margins_reading", "narrowest_margin", "per_image_relative_performance",
           "relative_performance_spread", "setting_clause", "spread_reading", "table1_reading", "tables_by_layer",
           "threshold_reading", "threshold_sweep", "top1_reading", "verdict_list"]
