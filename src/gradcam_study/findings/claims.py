"""The paper's claims, checked: the readings of the chapter "Conclusions".

Each function reads a study (or its frames) and returns what the chapter glues: a value formatted for a sentence, a
clause whose words depend on the result, a Markdown list with one item per score kind, or the table "What held and
what did not". Every verdict is the one the study decided by the declared criteria of
:mod:`gradcam_study.study.verdicts`; the words for the criteria themselves are :func:`criterion_words`.

>>> study = book.study("main")                                                      # doctest: +SKIP
>>> last = study.at_role("last_map")                                                # doctest: +SKIP
>>> claims_table(last).loc[("performs_like_plus", "pre_softmax"), "held"]           # doctest: +SKIP
'yes'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import paper
from ..methods import PAPER_PAIR_IDS, PLUS_PAIR, PLUS_PAIR_ID
from ..presentation.formats import (
    decimals,
    finite_or_dash,
    listing,
    percent,
    significant,
)
from ..presentation.labels import SCORE_KIND_LABELS, pair_label
from ..study import ALPHA_QUANTILES, DEFAULT_THRESHOLD
from ..study.results import (
    LayerResults,
    StudyResults,
    statistics_over_layers,
    verdict_column,
)
from ..study.verdicts import (
    ABOUT_HALF_SHARE,
    EQUIVALENCE_MARGIN,
    NEAR_HALF,
    NEARLY_EQUAL_OVERLAP,
    SIGNIFICANCE_LEVEL,
    STRICT_EQUIVALENCE_MARGIN,
    TOP_SHARE,
    Verdict,
    shown_alike,
    shown_nearly_equal,
    verdict_words,
)
from .pairs import PairReading, held_for, read_pair

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

#: The pairs against Grad-CAM, as Table 1 orders them: Grad-CAM++ vs Grad-CAM, Grad-CAM+ vs Grad-CAM.
AGAINST_GRAD_CAM: tuple[str, ...] = tuple(pair for pair in PAPER_PAIR_IDS if pair.endswith("/grad_cam"))
_PLUS_VS_GRAD_CAM = AGAINST_GRAD_CAM[0]

#: The paper's claims checked in :func:`claims_table`, by identifier, as the table prints them.
CLAIM_LABELS: dict[str, str] = {
    "alphas_about_half": "alphas nearly constant, about 1/2",
    "alphas_unstable": "alphas numerically unstable",
    "heatmaps_nearly_equal": "Grad-CAM++ and Grad-CAM+ heatmaps nearly equal",
    "performs_like_plus": "Grad-CAM++ performs like Grad-CAM+",
    "plus_plus_better": "Grad-CAM++ better than Grad-CAM",
    "plus_better": "Grad-CAM+ better than Grad-CAM",
}

#: Columns of :func:`claims_table`, with their labels.
CLAIM_COLUMNS: dict[str, str] = {"paper": "paper", "this_build": "this build", "held": "held"}

#: The claim "better than Grad-CAM" read from the verdict at the strict margin; any other verdict reads as
#: :func:`~gradcam_study.study.verdicts.verdict_words` says it.
_BETTER_HELD: dict[str, str] = {
    Verdict.FIRST_AHEAD.value: "yes",
    Verdict.SECOND_AHEAD.value: "no (reversed)",
    Verdict.ALIKE.value: "no (alike)",
    Verdict.IDENTICAL.value: "no (identical)",
}


def criterion_words() -> dict[str, str]:
    """The declared criteria of "perform alike" (``alike``), "nearly equal" heatmaps (``nearly_equal``) and
    "better" (``better``), in words with their values, for a sentence "... means {criterion}".

    >>> criterion_words()["nearly_equal"]
    "a median overlap of the two heatmaps' top 10% of pixels of at least 0.9"
    """
    return {
        "alike": (
            f"equivalence within a margin of {percent(EQUIVALENCE_MARGIN, 0)} (two one-sided tests at the "
            f"{percent(SIGNIFICANCE_LEVEL, 0)} level, Holm-adjusted over the table, show that the relative performance "
            f"lies between {decimals(1 / (1 + EQUIVALENCE_MARGIN))} and {decimals(1 + EQUIVALENCE_MARGIN)}), or "
            "identical heatmaps"
        ),
        "nearly_equal": (f"a median overlap of the two heatmaps' top {percent(TOP_SHARE, 0)} of pixels of at least "
                         f"{NEARLY_EQUAL_OVERLAP}"),
        "better": (f"the verdict \"ahead\" at the {percent(STRICT_EQUIVALENCE_MARGIN, 0)} margin (bootstrap 95% "
                   "interval of the relative performance wholly above 1, Holm-adjusted Wilcoxon test significant, "
                   "median on the same side)"),
    }


def setting_reading(results: LayerResults, threshold: float = DEFAULT_THRESHOLD,
                    same_setting: bool = False) -> dict[str, str]:
    """The study behind a build and the paper's setting, each value formatted for a sentence, keyed by glue key:
    ``study-profile``, ``study-model``, ``study-layer``, ``study-data``, ``study-images``, ``study-device``,
    ``study-kept``, ``study-threshold``, ``paper-setting``, ``paper-kept``, ``paper-images`` and
    ``settings-differ``, a sentence (with a leading space) where the two settings differ, else empty."""
    provenance = results.provenance
    return {
        "study-profile": provenance.profile,
        "study-model": provenance.model,
        "study-layer": provenance.layer,
        "study-data": provenance.dataset,
        "study-images": str(provenance.images),
        "study-device": provenance.device,
        "study-kept": str(len(results.require_kept(threshold))),
        "study-threshold": str(threshold),
        "paper-setting": paper.SETTING,
        "paper-kept": str(paper.KEPT),
        "paper-images": f"{paper.IMAGES:,}",
        "settings-differ": "" if same_setting else (
            " The two settings differ, so the paper's values below are references from another model and data set, "
            "not targets."),
    }


def _interval(reading: PairReading) -> str:
    return f"{reading.interval} (95% CI)"


def _kinds(statistics: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(statistics.index.get_level_values("score")))


def plus_items(statistics: pd.DataFrame) -> str:
    """Grad-CAM++ against Grad-CAM+, one Markdown item per score kind of ``statistics``
    (:meth:`~gradcam_study.study.LayerResults.statistics`): the relative performance with its interval beside the
    paper's, whether the equivalence test shows the two alike at the declared margin, and the Wilcoxon test."""
    items = []
    for kind in _kinds(statistics):
        reading = read_pair(statistics, PLUS_PAIR_ID, kind)
        shows = "shows" if reading.alike() else "does not show"
        items.append(
            f"- With {reading.kind_label} explanation maps, Grad-CAM++ vs Grad-CAM+ has relative performance "
            f"{_interval(reading)} over {reading.images} images (paper: {decimals(paper.table1().loc[PLUS_PAIR_ID, kind], 2)}). "
            f"The equivalence test {shows} that the two methods perform alike ({reading.tost()}). "
            f"The Wilcoxon signed-rank test {reading.wilcoxon()}."
        )
    return "\n".join(items)


def grad_cam_items(statistics: pd.DataFrame) -> str:
    """Grad-CAM++ and Grad-CAM+ against Grad-CAM, one Markdown item per score kind and pair: the relative
    performance with its interval, the verdict at the strict margin, and the paper's point value."""
    items = []
    for kind in _kinds(statistics):
        for pair in AGAINST_GRAD_CAM:
            reading = read_pair(statistics, pair, kind)
            reported = paper.table1().loc[pair, kind]
            items.append(
                f"- {reading.label}, {reading.kind_label}: {_interval(reading)}, verdict "
                f"**{reading.verdict_words(STRICT_EQUIVALENCE_MARGIN)}** at the "
                f"{percent(STRICT_EQUIVALENCE_MARGIN, 0)} margin (paper: {decimals(reported, 2)}, "
                f"{'better' if reported > 1 else 'not better'}, as a point value)."
            )
    return "\n".join(items)


def log_gaps(table1: pd.DataFrame) -> str:
    """How far apart Grad-CAM++ and Grad-CAM+ stand from Grad-CAM in a Table 1 (:meth:`LayerResults.table1` or the
    paper's): the difference of their log relative performances against it, per score kind,
    ``"0.0209 (pre-softmax) and 0.0017 (post-softmax)"``. By eq. (17) it is the absolute log relative performance of
    Grad-CAM++ against Grad-CAM+."""
    gaps = (np.log(table1.loc[AGAINST_GRAD_CAM[0]]) - np.log(table1.loc[AGAINST_GRAD_CAM[1]])).abs()
    return " and ".join(f"{decimals(float(gap), 4)} ({SCORE_KIND_LABELS[kind]})" for kind, gap in gaps.items())


def distance_clause(statistics: pd.DataFrame) -> str:
    """Whether Grad-CAM++ and Grad-CAM+ stand at the same distance from Grad-CAM: shown where they perform alike
    for every score kind (the equivalence test decides)."""
    together = all(read_pair(statistics, PLUS_PAIR_ID, kind).alike() for kind in _kinds(statistics))
    return ("stand at nearly the same distance from Grad-CAM" if together
            else "are not shown to stand at the same distance from Grad-CAM")


def narrowest_spread(table2: pd.DataFrame, digits: int = 3, beside: str | None = _PLUS_VS_GRAD_CAM) -> str:
    """Per score kind of a Table 2 (:meth:`LayerResults.table2` or the paper's), the pair with the narrowest
    per-image spread of the log relative performance, with its standard deviation and, where ``beside`` names a
    pair, that pair's: ``"Grad-CAM++ vs Grad-CAM+'s with pre-softmax maps (std 0.054, against 0.347 for Grad-CAM++
    vs Grad-CAM); ..."``."""
    parts = []
    for kind in dict.fromkeys(table2.columns.get_level_values(0)):
        spread = table2[(kind, "std")]
        pair = spread.idxmin()
        against = "" if beside is None else f", against {decimals(spread[beside], digits)} for {pair_label(beside)}"
        parts.append(f"{pair_label(pair)}'s with {SCORE_KIND_LABELS[kind]} maps "
                     f"(std {decimals(float(spread[pair]), digits)}{against})")
    return "; ".join(parts)


def layer_count(layers: int) -> str:
    """How many layers a study explains, for "on one model and ...": ``"one layer"``, ``"two layers"``, ``"5 layers"``.

    >>> layer_count(1), layer_count(2)
    ('one layer', 'two layers')
    """
    words = {1: "one", 2: "two", 3: "three"}
    return f"{words.get(layers, str(layers))} layer{'' if layers == 1 else 's'}"


def spread_story(table2: pd.DataFrame) -> str:
    """Whether the per-image spread of a Table 2 tells the story of the means (Grad-CAM++ closest to Grad-CAM+): the
    narrowest spread of the log relative performance is Grad-CAM++ vs Grad-CAM+'s with every score kind.

    >>> spread_story(paper.table2())
    'The per-image spread tells the same story as the means.'
    """
    kinds = dict.fromkeys(table2.columns.get_level_values(0))
    if all(table2[(kind, "std")].idxmin() == PLUS_PAIR_ID for kind in kinds):
        return "The per-image spread tells the same story as the means."
    return (f"The per-image spread does not single out {pair_label(PLUS_PAIR_ID)} as the closest pair with every kind "
            "of score.")


def _heatmaps_nearly_equal(similarity: pd.DataFrame, pair: str, kind: str) -> bool:
    return shown_nearly_equal(similarity.loc[(pair, kind), "verdict"])


def _nearly_equal_pairs(similarity: pd.DataFrame, kind: str) -> str:
    """Whether Grad-CAM++ draws nearly the heatmaps of Grad-CAM+ (the first pair) and of Grad-CAM (the second)."""
    first = _heatmaps_nearly_equal(similarity, PLUS_PAIR_ID, kind)
    second = _heatmaps_nearly_equal(similarity, _PLUS_VS_GRAD_CAM, kind)
    if first and second:
        return "both pairs' heatmaps are nearly equal"
    if first:
        return "the first pair's heatmaps are nearly equal and the second pair's are not"
    if second:
        return "the first pair's heatmaps are not nearly equal and the second pair's are"
    return "neither pair's heatmaps are nearly equal"


def alpha_heatmap_items(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> str:
    """The alphas and the heatmaps, one Markdown item per score kind: the share of non-zero alphas near 1/2 and the
    central range of a pooled sample beside the paper's one image, the extremes (and whether any alpha strays more
    than 1/2 from 1/2, the instability the paper reports), and the top-pixel overlap of Grad-CAM++ with Grad-CAM+
    and with Grad-CAM over the kept images, read by the criterion of "nearly equal"."""
    low_share, high_share = ALPHA_QUANTILES[0], ALPHA_QUANTILES[-1]
    similarity = results.heatmap_similarity(threshold)
    kept = len(results.require_kept(threshold))
    paper_low, paper_high = paper.ONE_IMAGE_ALPHA_RANGE
    items = []
    for kind in results.score_kinds:
        low, high = np.quantile(results.alpha_arrays(kind).alphas, (low_share, high_share))
        extremes = results.alpha_extremes(kind)
        smallest, largest, far = extremes["alpha_min"], extremes["alpha_max"], int(extremes["far_from_half"])
        same, versus = similarity.loc[(PLUS_PAIR_ID, kind)], similarity.loc[(_PLUS_VS_GRAD_CAM, kind)]
        if far:
            extremes_text = (f"The extremes are {significant(smallest)} and {significant(largest)}; {far} alphas in "
                             f"{int(extremes['images_far_from_half'])} images are more than 1/2 away from 1/2, the "
                             "instability the paper reports. ")
        else:
            extremes_text = (f"The extremes are only {decimals(smallest)} and {decimals(largest)}: no alpha is more "
                             "than 1/2 away from 1/2, so the instability the paper reports does not show up here; the "
                             f"second term of the denominator of eq. (13) came no closer than "
                             f"{decimals(extremes['closest_to_pole'])} to −2. ")
        items.append(
            f"- **{SCORE_KIND_LABELS[kind]}.** Of all non-zero alphas over the {len(results.images)} images, "
            f"{percent(extremes['share_near_half'], 2)} lie within {NEAR_HALF} of 1/2, and "
            f"{percent(high_share - low_share, 0)} of a sample that draws the same number of non-zero alphas from "
            f"every image lie between {decimals(low)} and {decimals(high)} (paper, one image, outliers removed: "
            f"{paper_low} to {paper_high}). {extremes_text}"
            f"Over the {kept} kept images, the median overlap of the top {percent(TOP_SHARE, 0)} of pixels of the "
            f"Grad-CAM++ and Grad-CAM+ heatmaps is {decimals(same['median_overlap'], 2)} (median correlation "
            f"{decimals(same['median_correlation'], 4)}), against {decimals(versus['median_overlap'], 2)} for "
            f"Grad-CAM++ and Grad-CAM (median correlation {decimals(versus['median_correlation'], 4)}): by the "
            f"criterion of a median overlap of at least {NEARLY_EQUAL_OVERLAP}, {_nearly_equal_pairs(similarity, kind)}."
        )
    return "\n".join(items)


def _better_held(reading: PairReading) -> str:
    verdict = reading.verdict(STRICT_EQUIVALENCE_MARGIN)
    return _BETTER_HELD.get(verdict, verdict_words(verdict))


def _alike_held(reading: PairReading) -> str:
    verdict = reading.verdict(EQUIVALENCE_MARGIN)
    if reading.alike():
        return "yes"
    if verdict in (Verdict.FIRST_AHEAD.value, Verdict.SECOND_AHEAD.value):
        return f"no ({reading.verdict_words(EQUIVALENCE_MARGIN)})"
    return verdict_words(verdict) if verdict == Verdict.TOO_FEW_IMAGES.value else "not shown"


def claims_table(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """What held and what did not at one layer: per claim of the paper (:data:`CLAIM_LABELS`) and score kind (the
    index, identifiers), the paper's evidence, this build's (``this_build``) and whether the claim ``held`` under
    the declared criteria (:func:`claims_criteria` states them). Cells are text for display; :func:`shown_claims`
    labels the table."""
    statistics, similarity = results.statistics(threshold), results.heatmap_similarity(threshold)
    reported = paper.table1()
    paper_alphas = "–".join(str(end) for end in paper.ONE_IMAGE_ALPHA_RANGE) + " (one image)"
    rows: dict[tuple[str, str], tuple[str, str, str]] = {}
    for kind in results.score_kinds:
        extremes = results.alpha_extremes(kind)
        near, far = float(extremes["share_near_half"]), int(extremes["far_from_half"])
        same, versus = similarity.loc[(PLUS_PAIR_ID, kind)], similarity.loc[(_PLUS_VS_GRAD_CAM, kind)]
        plus = read_pair(statistics, PLUS_PAIR_ID, kind)
        rows[("alphas_about_half", kind)] = (paper_alphas, f"{percent(near, 2)} within {NEAR_HALF} of 1/2",
                                             "yes" if near > ABOUT_HALF_SHARE else "no")
        rows[("alphas_unstable", kind)] = ("extreme values on ImageNetV2", f"{far} alphas with |α − 1/2| > 1/2",
                                           "yes" if far else "not observed")
        rows[("heatmaps_nearly_equal", kind)] = (
            "Figure 5 (examples)",
            (f"median top-pixel overlap {decimals(same['median_overlap'], 2)} (criterion ≥ {NEARLY_EQUAL_OVERLAP}; "
             f"with Grad-CAM: {decimals(versus['median_overlap'], 2)}); median correlation "
             f"{decimals(same['median_correlation'], 4)}"),
            "yes" if _heatmaps_nearly_equal(similarity, PLUS_PAIR_ID, kind) else "no",
        )
        rows[("performs_like_plus", kind)] = (decimals(reported.loc[PLUS_PAIR_ID, kind], 2),
                                              f"{_interval(plus)}; {plus.tost()}", _alike_held(plus))
        for claim, pair in zip(("plus_plus_better", "plus_better"), AGAINST_GRAD_CAM):
            against = read_pair(statistics, pair, kind)
            rows[(claim, kind)] = (decimals(reported.loc[pair, kind], 2), _interval(against), _better_held(against))
    # One block of rows per claim, in the order of CLAIM_LABELS, its score kinds within it.
    rows = {(claim, kind): rows[(claim, kind)] for claim in CLAIM_LABELS for kind in results.score_kinds}
    index = pd.MultiIndex.from_tuples(list(rows), names=["claim", "score"])
    return pd.DataFrame(list(rows.values()), index=index, columns=list(CLAIM_COLUMNS))


def shown_claims(table: pd.DataFrame) -> Styler:
    """A :func:`claims_table` for display: claims, score kinds and columns labelled."""
    shown = table.rename(index={**CLAIM_LABELS, **SCORE_KIND_LABELS}, columns=CLAIM_COLUMNS)
    return shown.style


def claims_criteria(same_setting: bool = False) -> str:
    """The criteria of :func:`claims_table`, as the legend beside it, and which setting the paper's column is from."""
    words = criterion_words()
    setting = ("The paper's column is from its own setting, this build's." if same_setting else
               f"The paper's column is from its own setting, {paper.SETTING}: another model and data set.")
    return (
        "Criteria. \"About 1/2\": more than half of all non-zero alphas, over all images, within "
        f"{NEAR_HALF} of 1/2. \"Unstable\": at least one alpha more than 1/2 away from 1/2. \"Nearly equal\": "
        f"{words['nearly_equal']}, over the kept images. \"Performs like\": {words['alike']}, over the kept images "
        f"(\"not shown\": neither alike nor one ahead). \"Better\": {words['better']}, over the kept images "
        "(\"reversed\": Grad-CAM ahead; \"alike\": within the margin). All criteria: {ref}`analysis-plan`. "
        + setting
    )


def inner_items(last: LayerResults, inner: LayerResults | None, threshold: float = DEFAULT_THRESHOLD) -> str:
    """Two claims at the model's inner layer (``inner``, whose gradients vary within the feature maps) beside the
    last map (``last``), as Markdown items: whether the alphas are unstable there (an alpha more than 1/2 away
    from 1/2), and whether Grad-CAM++ performs like Grad-CAM+ there, for which score kinds (:func:`held_for`), with
    the equivalence and Wilcoxon tests. Without an inner layer, one item says why there is none to add."""
    if inner is None:
        return (f"- The profile's layer, {last.provenance.layer} of {last.provenance.model}, already has gradients "
                "that vary within the feature maps, so the claims above were tested at such a layer and there is no "
                "inner layer to add.")
    layer, last_layer = inner.provenance.layer, last.provenance.layer
    statistics, last_statistics = inner.statistics(threshold), last.statistics(threshold)
    kinds = inner.score_kinds
    extremes = {kind: inner.alpha_extremes(kind) for kind in kinds}
    far = {kind: int(extremes[kind]["far_from_half"]) for kind in kinds}
    readings = {kind: read_pair(statistics, PLUS_PAIR_ID, kind) for kind in kinds}
    last_readings = {kind: read_pair(last_statistics, PLUS_PAIR_ID, kind) for kind in kinds}
    unstable = " ".join(
        f"With {SCORE_KIND_LABELS[kind]} gradients, {far[kind]} of {int(extremes[kind]['nonzero_alphas'])} non-zero "
        f"alphas are more than 1/2 away from 1/2, with extremes {significant(extremes[kind]['alpha_min'], 4)} and "
        f"{significant(extremes[kind]['alpha_max'], 4)} (at {last_layer}: "
        f"{int(last.alpha_extremes(kind)['far_from_half'])} such alphas)."
        for kind in kinds
    )
    alike = held_for({kind: readings[kind].alike() for kind in kinds})
    tests = " and ".join(f"{_interval(r)}, {r.tost()} ({r.kind_label})" for r in readings.values())
    last_tests = " and ".join(f"{_interval(r)}, {r.tost()} ({r.kind_label})" for r in last_readings.values())
    wilcoxon = " ".join(f"With {r.kind_label} maps, the Wilcoxon signed-rank test {r.wilcoxon()}."
                        for r in readings.values())
    images = next(iter(readings.values())).images
    return "\n".join([
        f"- **Alphas numerically unstable, at {layer}: {'held' if any(far.values()) else 'not observed'}.** "
        + unstable,
        (f"- **Grad-CAM++ performs like Grad-CAM+, at {layer}: {alike}.** {tests} over {images} images, against "
        f"{last_tests} at {last_layer}; \"alike\" means {criterion_words()['alike']}. {wilcoxon}"),
    ])


def depth_items(depth: StudyResults, layers: Mapping[str, LayerResults], threshold: float = DEFAULT_THRESHOLD) -> str:
    """Grad-CAM++ against Grad-CAM+ along the depth of a model (``layers``: the depth sweep's layers by label,
    :func:`gradcam_study.book.depth_settings` of the study ``depth``), one Markdown item per score kind: at which
    layers the two are shown alike with nearly equal heatmaps, and where either is ahead. The verdicts are at the
    declared margin, with Holm's adjustment over the layers."""
    verdicts = statistics_over_layers(layers, threshold, pairs=(PLUS_PAIR,)).xs(PLUS_PAIR_ID, level="methods")
    heatmaps = {name: at_layer.heatmap_similarity(threshold, pairs=(PLUS_PAIR,)).xs(PLUS_PAIR_ID, level="methods")
                for name, at_layer in layers.items()}
    items = []
    for kind in depth.config.score_kinds:
        rows = verdicts.xs(kind, level="score")
        verdict_at = rows[verdict_column(EQUIVALENCE_MARGIN)]
        alike = [name for name in rows.index
                 if shown_alike(verdict_at[name]) and shown_nearly_equal(heatmaps[name].loc[kind, "verdict"])]
        plus_ahead = [name for name in rows.index if verdict_at[name] == Verdict.SECOND_AHEAD.value]
        plus_plus_ahead = [name for name in rows.index if verdict_at[name] == Verdict.FIRST_AHEAD.value]
        items.append(
            f"- **{SCORE_KIND_LABELS[kind]}, along the depth of {depth.config.model}** ({len(depth.images)} images, "
            f"{int(rows['images'].iloc[0])} kept): Grad-CAM++ and Grad-CAM+ are shown alike with nearly equal heatmaps "
            f"at {len(alike)} of {len(rows)} layers ({listing(alike) or 'none'}). "
            + (f"Grad-CAM+ is ahead of Grad-CAM++ at {listing(plus_ahead)}. " if plus_ahead else "")
            + (f"Grad-CAM++ is ahead of Grad-CAM+ at {listing(plus_plus_ahead)}. " if plus_plus_ahead else
               "Grad-CAM++ is ahead of Grad-CAM+ at no layer.")
            + f" (Verdicts at the {percent(EQUIVALENCE_MARGIN, 0)} margin, Holm-adjusted over the layers; "
            "{ref}`analysis-plan`.)"
        )
    return "\n".join(items)


def architecture_items(summary: pd.DataFrame, studies: Mapping[str, object]) -> str:
    """Grad-CAM++ against Grad-CAM+ across models, one Markdown item per score kind of an architecture
    :func:`~gradcam_study.study.sweeps.sweep_summary`: at how many settings the two are shown alike, and the lowest
    median heatmap correlation; then the models left out (those of ``studies``,
    :func:`gradcam_study.book.architecture_studies`, given as a reason rather than a study)."""
    items = []
    for kind in dict.fromkeys(summary["kind"]):
        mine = summary[summary["kind"] == kind]
        rows = mine[(mine["quantity"] == "relative_performance") & (mine["pair"] == PLUS_PAIR_ID)].set_index("setting")
        alike = [name for name in rows.index if rows.loc[name, "equivalent"]]
        lowest = mine.loc[mine["quantity"] == "median_correlation", "value"].min()
        shown = (f"{len(alike)} of {len(rows)} settings (not at {listing(sorted(set(rows.index) - set(alike)))})"
                 if len(alike) < len(rows) else f"all {len(rows)} settings")
        items.append(
            f"- **{SCORE_KIND_LABELS[kind]}, across the EfficientNet-Lite sizes** (each at its last map and its last "
            f"block's output): Grad-CAM++ and Grad-CAM+ are shown alike at {shown}; the lowest median heatmap "
            f"correlation is {finite_or_dash(lowest, 4)}."
        )
    left_out = [name for name, found in studies.items() if isinstance(found, str)]
    if left_out:
        items.append(f"- Left out for want of weights on this machine: {listing(left_out)}.")
    return "\n".join(items)


__all__ = ["AGAINST_GRAD_CAM", "CLAIM_COLUMNS", "CLAIM_LABELS", "alpha_heatmap_items", "architecture_items",
           "claims_criteria", "claims_table", "criterion_words", "depth_items", "distance_clause", "grad_cam_items",
           "inner_items", "layer_count", "log_gaps", "narrowest_spread", "plus_items", "setting_reading", "shown_claims", "spread_story"]
