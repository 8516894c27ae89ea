"""The yardsticks for people: which method is best under each, how a pair compares, the overview of the conclusions."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..capture import ScoreKind
from .. import paper
from ..methods import METHOD_PAIRS, PIXEL_WISE_PAIRS
from ..presentation.formats import decimals, interval, listing, percent, ratio
from ..presentation.labels import METHOD_LABELS, SCORE_KIND_LABELS, label, layer_label
from ..presentation.tables import YARDSTICK_DECIMALS
from ..study import verdicts
from ..study.config import DEFAULT_THRESHOLD
from ..study.results import HIGHER_IS_BETTER, YARDSTICKS, LayerResults, StudyResults, verdict_column
from ..study.verdicts import MIN_IMAGES_FOR_VERDICT, NEARLY_EQUAL_OVERLAP, PRACTICAL_BOUNDS, SHOWN_MARGINS, Verdict, verdict_words
from ..study.yardsticks import head_to_head, paired_comparison


#: Where a difference is read as a number of points rather than a value (percentages of images).
POINTS = {"average_drop", "increase_in_confidence", "win_percent"}


def _format(yardstick: str, values: tuple[float, ...]) -> tuple[str, ...]:
    """``values`` (a value and its interval ends, say) at one precision: the yardstick's decimals, or 2 significant
    digits of the smallest non-zero magnitude where those decimals would print it as 0."""
    digits = YARDSTICK_DECIMALS[yardstick]
    smallest = min((abs(v) for v in values if v != 0 and np.isfinite(v)), default=0.0)
    if smallest and round(smallest, digits) == 0:
        digits = max(digits, 1 - int(np.floor(np.log10(smallest))))
    return tuple(decimals(v, digits) for v in values)


def _value(yardstick: str, value: float) -> str:
    """One value of ``yardstick`` as the sentences print it (see :func:`_format`)."""
    return _format(yardstick, (value,))[0]


def _methods(methods: list[str]) -> str:
    return listing([METHOD_LABELS[m] for m in methods])


def _what(yardstick: str, images: int) -> str:
    """The yardstick's name in a sentence, with its image count where that is a subset (the areas)."""
    head_to_head = " head-to-head" if yardstick == "win_percent" else ""
    subset = f" ({images} images)" if yardstick in ("deletion_auc", "insertion_auc") else ""
    return f"{label(yardstick)}{head_to_head}{subset}"


def pair_finding(results: LayerResults, kind: ScoreKind, first: str, second: str,
                 threshold: float = DEFAULT_THRESHOLD) -> str:
    """Sentences: under which yardsticks ``first`` and ``second`` are identical (the same heatmaps up to rounding),
    alike (the paired interval within the practical bound), not separated, and under which one of them is ahead,
    by how much. Win % is head-to-head here: each one's wins over the other. A yardstick with fewer than
    :data:`~gradcam_study.study.verdicts.MIN_IMAGES_FOR_VERDICT` images gets no verdict."""
    comparison = paired_comparison(results, kind, first, second, threshold)
    pair = f"{METHOD_LABELS[first]} and {METHOD_LABELS[second]}"
    sentences = []
    by_verdict = {v: [_what(y, row["images"]) for y, row in comparison.iterrows() if row["verdict"] == v.value]
                  for v in Verdict}
    if by_verdict[Verdict.IDENTICAL]:
        sentences.append(f"{pair} draw the same heatmaps up to float rounding: identical under "
                         f"{listing(by_verdict[Verdict.IDENTICAL])}.")
    if by_verdict[Verdict.ALIKE]:
        sentences.append(f"Under {listing(by_verdict[Verdict.ALIKE])} {pair} are alike (the 95% interval of the "
                         "paired difference lies within the practical bound).")
    if by_verdict[Verdict.NOT_SEPARATED]:
        found = by_verdict[Verdict.NOT_SEPARATED]
        sentences.append(f"{listing(found)} {'does' if len(found) == 1 else 'do'} not separate {pair} (the 95% "
                         "interval of the paired difference contains 0 and reaches beyond the practical bound).")
    for y, row in comparison[comparison["separated"]].iterrows():
        # The gap as a positive number, its interval turned the same way.
        sign = 1.0 if row["difference"] > 0 else -1.0
        low, high = sorted((sign * row["low"], sign * row["high"]))
        gap, low, high = _format(y, (sign * row["difference"], low, high))
        winner = first if row["better"] == "first" else second
        unit = " points" if y in POINTS else ""
        detail = (f" ({METHOD_LABELS[first]} wins {_value(y, row['first_value'])}% of the images, "
                  f"{METHOD_LABELS[second]} {_value(y, row['second_value'])}%)" if y == "win_percent" else
                  f" ({METHOD_LABELS[first]} {_value(y, row['first_value'])}, "
                  f"{METHOD_LABELS[second]} {_value(y, row['second_value'])})")
        sentences.append(f"Under {_what(y, row['images'])}, {METHOD_LABELS[winner]} is ahead by {gap}{unit} "
                         f"[{low}, {high}]{detail}: its interval excludes 0 and reaches beyond the practical bound of "
                         f"{_value(y, PRACTICAL_BOUNDS[y])}{unit}.")
    few = by_verdict[Verdict.TOO_FEW_IMAGES]
    if few:
        sentences.append(f"{listing(few)} {'has' if len(few) == 1 else 'have'} too few images for a verdict "
                         f"(fewer than {verdicts.MIN_IMAGES_FOR_VERDICT}).")
    return " ".join(sentence[0].upper() + sentence[1:] for sentence in sentences)


def _printed_best(yardsticks: pd.DataFrame, yardstick: str, candidates: list[str]) -> list[str]:
    """The candidates whose value of ``yardstick``, as printed, is the best printed value."""
    printed = {m: _value(yardstick, yardsticks.loc[m, (yardstick, "value")]) for m in candidates}
    values = {m: float(v) for m, v in printed.items() if v != "nan"}
    if not values:
        return []
    best = max(values.values()) if HIGHER_IS_BETTER[yardstick] else min(values.values())
    return [m for m, v in values.items() if v == best]


def winners(results: LayerResults, kind: ScoreKind, threshold: float = DEFAULT_THRESHOLD) -> dict[str, dict | None]:
    """Per yardstick other than Win %: the best methods (equal at the printed precision, as methods drawing the same
    maps up to rounding are), the best of the others, and the verdict of the best against it (``verdict``, of
    :func:`paired_comparison`); ``None`` where the yardstick has fewer than :data:`MIN_IMAGES_FOR_VERDICT` images."""
    table = results.yardsticks(kind, threshold)
    found: dict[str, dict | None] = {}
    for yardstick in YARDSTICKS:
        if yardstick == "win_percent":
            continue
        images = int(table[(yardstick, "images")].max())
        best = _printed_best(table, yardstick, list(table.index))
        if images < verdicts.MIN_IMAGES_FOR_VERDICT or not best:
            found[yardstick] = None
            continue
        runner = _printed_best(table, yardstick, [m for m in table.index if m not in best])
        verdict = paired_comparison(results, kind, best[0], runner[0], threshold,
                                    yardsticks=(yardstick,)).loc[yardstick, "verdict"] if runner else None
        found[yardstick] = {"best": best, "runner": runner, "verdict": verdict,
                            "separated": verdict in (Verdict.FIRST_AHEAD.value, Verdict.SECOND_AHEAD.value),
                            "images": images,
                            "value": table.loc[best[0], (yardstick, "value")],
                            "runner_value": table.loc[runner[0], (yardstick, "value")] if runner else float("nan")}
    return found


def winners_finding(results: LayerResults, kind: ScoreKind, threshold: float = DEFAULT_THRESHOLD) -> str:
    """Sentences: the best method(s) under each yardstick and whether the best is separated from the best of the
    others; then Win % head-to-head against Grad-CAM, the Grad-CAM++ paper's comparison."""
    parts = []
    for yardstick, found in winners(results, kind, threshold).items():
        if found is None:
            parts.append(f"{label(yardstick)}: too few images for a verdict")
            continue
        text = f"{_what(yardstick, found['images'])}: {_methods(found['best'])} ({_value(yardstick, found['value'])})"
        if found["runner"]:
            text += (f", {RELATION[found['verdict']]} {_methods(found['runner'])} "
                     f"({_value(yardstick, found['runner_value'])})")
        parts.append(text)
    sentences = [f"Best by yardstick — {'; '.join(parts)}."]
    duel = head_to_head(results, kind, threshold)
    groups = {
        ("wins more images than it loses against", "win more images than they lose against"):
            duel[duel["separated"] & (duel["wins"] > duel["losses"])],
        ("loses more images than it wins against", "lose more images than they win against"):
            duel[duel["separated"] & (duel["wins"] < duel["losses"])],
        ("draws the same heatmaps (identical) as", "draw the same heatmaps (identical) as"):
            duel[duel["verdict"] == Verdict.IDENTICAL.value],
        ("is alike by Win % head-to-head with", "are alike by Win % head-to-head with"):
            duel[duel["verdict"] == Verdict.ALIKE.value],
        ("is not separated by Win % head-to-head from", "are not separated by Win % head-to-head from"):
            duel[duel["verdict"] == Verdict.NOT_SEPARATED.value],
        ("has too few images for a verdict against", "have too few images for a verdict against"):
            duel[duel["verdict"] == Verdict.TOO_FEW_IMAGES.value],
    }
    clauses = [
        f"{_methods(list(group.index))} {what[len(group) > 1]} Grad-CAM ("
        + ", ".join(f"{METHOD_LABELS[m]} {_value('win_percent', r['wins'])}% against {_value('win_percent', r['losses'])}%"
                    for m, r in group.iterrows()) + ")"
        for what, group in groups.items() if len(group)
    ]
    sentences.append("By Win %, " + "; ".join(clauses) + ".")
    return " ".join(sentences)


#: How the first method of a comparison stands against the second, by verdict, in a clause.
RELATION = {
    Verdict.IDENTICAL.value: "identical to",
    Verdict.ALIKE.value: "alike with",
    Verdict.FIRST_AHEAD.value: "ahead of",
    Verdict.SECOND_AHEAD.value: "behind",
    Verdict.NOT_SEPARATED.value: "not separated from",
    Verdict.TOO_FEW_IMAGES.value: "shown without a verdict (too few images) beside",
}


def standing(comparison: pd.DataFrame, yardstick: str, second: str) -> str:
    """A clause: how the first method of a :func:`paired_comparison` stands against ``second`` under ``yardstick``
    (identical to, alike with, ahead of, behind, not separated from), with both values.

    >>> row = {"first_value": 20.1, "second_value": 19.3, "verdict": "second_ahead"}
    >>> standing(pd.DataFrame([row], index=["average_drop"]), "average_drop", "grad_cam")
    'behind Grad-CAM under Average Drop % (20.1 against 19.3)'
    """
    row = comparison.loc[yardstick]
    verdict = RELATION[row["verdict"]]
    first_value, second_value = _value(yardstick, row["first_value"]), _value(yardstick, row["second_value"])
    if yardstick == "win_percent":
        return (f"{verdict} {METHOD_LABELS[second]} under {label(yardstick)} head-to-head ({first_value}% against "
                f"{second_value}% of the images)")
    return f"{verdict} {METHOD_LABELS[second]} under {label(yardstick)} ({first_value} against {second_value})"


def relative_performance_reading(statistics: pd.DataFrame) -> str:
    """Per pair of a :meth:`LayerResults.statistics` table and per kind of score: the relative performance and its
    verdict at each shown margin (:data:`~gradcam_study.study.verdicts.SHOWN_MARGINS`), e.g. "alike within 5%,
    Grad-CAM ahead within 1%"."""
    readings = []
    for (first, second), rows in statistics.groupby(["first", "second"], sort=False):
        parts = []
        for _, row in rows.iterrows():
            words = [f"{verdict_words(row[verdict_column(m)], METHOD_LABELS[first], METHOD_LABELS[second])}"
                     + (f" within {percent(m, 0)}" if row[verdict_column(m)] == Verdict.ALIKE.value else
                        f" at a {percent(m, 0)} margin")
                     for m in SHOWN_MARGINS]
            if len(set(row[verdict_column(m)] for m in SHOWN_MARGINS)) == 1 and \
                    row[verdict_column(SHOWN_MARGINS[0])] != Verdict.ALIKE.value:
                words = [verdict_words(row[verdict_column(SHOWN_MARGINS[0])], METHOD_LABELS[first],
                                       METHOD_LABELS[second])]
            parts.append(f"{SCORE_KIND_LABELS[row['kind']]} {ratio(row['relative_performance'])} ({', '.join(words)})")
        readings.append(f"{METHOD_LABELS[first]} vs {METHOD_LABELS[second]}: {', '.join(parts)}")
    return "; ".join(readings)


def yardstick_findings(settings: Mapping[str, LayerResults], kind: ScoreKind,
                       threshold: float = DEFAULT_THRESHOLD) -> str:
    """The chapter's sentences for ``kind``, per setting (label -> results): does each yardstick separate
    Grad-CAM++ from Grad-CAM+, and which method is best under each."""
    lines = []
    for name, results in settings.items():
        lines.append(f"- **{name}.** {pair_finding(results, kind, 'grad_cam_plus_plus', 'grad_cam_plus', threshold)} "
                     f"{winners_finding(results, kind, threshold)}")
    return "\n".join(lines)


def overview(settings: Mapping[str, LayerResults], threshold: float = DEFAULT_THRESHOLD) -> str:
    """Plain answers over every setting and score kind: under which yardsticks Grad-CAM++ and Grad-CAM+ are
    separated, and in which direction; and which method is best under each yardstick, in how many settings."""
    cases = [(name, kind, results) for name, results in settings.items() for kind in results.score_kinds]
    total = len(cases)
    plus_plus_ahead: dict[str, int] = {y: 0 for y in YARDSTICKS}
    plus_ahead: dict[str, int] = {y: 0 for y in YARDSTICKS}
    best_counts: dict[str, dict[str, int]] = {y: {} for y in YARDSTICKS if y != "win_percent"}
    for _, kind, results in cases:
        comparison = paired_comparison(results, kind, "grad_cam_plus_plus", "grad_cam_plus", threshold)
        for y, row in comparison.iterrows():
            if row["separated"]:
                (plus_plus_ahead if row["better"] == "first" else plus_ahead)[y] += 1
        for y, found in winners(results, kind, threshold).items():
            for method in (found or {}).get("best", []):
                best_counts[y][method] = best_counts[y].get(method, 0) + 1
    def counted(counts: dict[str, int]) -> str:
        return listing([f"{_what(y, 0).replace(' (0 images)', '')} ({n} of {total})"
                        for y, n in counts.items() if n]) or "no yardstick"

    answer = (f"Over the {total} settings (layer and kind of score), Grad-CAM++ is ahead of Grad-CAM+ under "
              f"{counted(plus_plus_ahead)}, and Grad-CAM+ ahead of Grad-CAM++ under {counted(plus_ahead)}; in every "
              "other case the two are identical, alike within the practical bound, not separated, or there are too "
              "few images for a verdict.")
    best = "; ".join(
        f"{label(y)}: " + listing([f"{METHOD_LABELS[m]} in {n} of {total}" for m, n in
                                   sorted(counts.items(), key=lambda item: -item[1])])
        for y, counts in best_counts.items() if counts
    )
    return answer + f" Best (alone, or equal at the printed precision), by yardstick — {best}."


#: The layers the chapter on yardsticks compares, by its key for each: the role the layer plays in the study
#: (:meth:`~gradcam_study.study.StudyResults.role_layers`) and how the chapter names it.
CHAPTER_ROLES: dict[str, tuple[str, str]] = {"last": ("last_map", "last map"), "inner": ("inner_signed", "inner layer")}


def chapter_settings(study: StudyResults) -> dict[str, LayerResults]:
    """The study's layers the chapter compares (:data:`CHAPTER_ROLES`), by the chapter's key (``"last"``, and
    ``"inner"`` where the model has an inner layer)."""
    found = {key: study.at_role(role) for key, (role, _) in CHAPTER_ROLES.items()}
    return {key: results for key, results in found.items() if results is not None}


def setting_names(settings: Mapping[str, LayerResults]) -> dict[str, str]:
    """How the chapter names each of its settings: the layer and its role, ``"_blocks.15 (inner layer)"``."""
    return {key: f"{layer_label(results.layer)} ({CHAPTER_ROLES[key][1]})" for key, results in settings.items()}


def chapter_facts(study: StudyResults, settings: Mapping[str, LayerResults],
                  threshold: float = DEFAULT_THRESHOLD) -> dict[str, str]:
    """What the chapter's prose quotes, formatted for its glue keys: the model, the layers, the images and those
    kept, the threshold, the images the curves are drawn on, the minimum for a verdict and the practical bounds,
    and the name of each setting (``layer-last``, ``layer-inner``; "no inner layer" where there is none)."""
    names = setting_names(settings)
    last = settings["last"]
    return {
        "yardsticks-model": study.config.model,
        "yardsticks-layers": " and ".join(names.values()),
        "yardsticks-images": str(len(study.images)),
        "yardsticks-kept": str(len(last.kept(threshold))),
        "yardsticks-threshold": str(threshold),
        "yardsticks-curve-note": last.curve_note(threshold),
        "yardsticks-min-images": str(MIN_IMAGES_FOR_VERDICT),
        "nearly-equal-criterion": str(NEARLY_EQUAL_OVERLAP),
        "yardsticks-bounds": ", ".join(f"{label(y)} ±{bound:g}" for y, bound in PRACTICAL_BOUNDS.items()),
        **{f"layer-{key}": names.get(key, "no inner layer") for key in CHAPTER_ROLES},
    }


def findings_by_kind(settings: Mapping[str, LayerResults], threshold: float = DEFAULT_THRESHOLD) -> str:
    """:func:`yardstick_findings` of every score kind, as Markdown: a bold heading per kind, then its list."""
    named = dict(zip(setting_names(settings).values(), settings.values()))
    kinds = settings["last"].score_kinds
    return "\n\n".join(f"**{SCORE_KIND_LABELS[kind].capitalize()} maps.**\n\n"
                         + yardstick_findings(named, kind, threshold) for kind in kinds)


def win_pairs_table(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The Win % of each pair of Table 1 and of the pixel-wise pairs, both ways, and the ties, per score kind, as
    printed: the first's Win % with its bootstrap 95% interval, the second's, the ties (one decimal)."""
    parts = {kind: results.win_table(kind, threshold, pairs=METHOD_PAIRS + PIXEL_WISE_PAIRS)
             for kind in results.score_kinds}
    table = pd.concat(parts, names=["score"]).reset_index()
    return pd.DataFrame({
        "score": [SCORE_KIND_LABELS[kind] for kind in table["score"]],
        "methods (first vs second)": [label(pair) for pair in table["methods"]],
        "Win % of the first [95% CI]": [interval(row.win_first, row.low, row.high, 1, number=decimals)
                                        for row in table.itertuples()],
        "Win % of the second": [decimals(value, 1) for value in table["win_second"]],
        "ties %": [decimals(value, 1) for value in table["ties"]],
    }).set_index(["score", "methods (first vs second)"])


def hires_reading(results: LayerResults, name: str, threshold: float = DEFAULT_THRESHOLD) -> str:
    """Where the gradient is constant within every map of every image (pre-softmax), HiResCAM draws Grad-CAM's maps
    up to rounding: a sentence on what Win % makes of two such methods; elsewhere nothing (``""``)."""
    if results.gradient_constant_share("pre_softmax") != 1:
        return ""
    wins = results.win_table("pre_softmax", threshold, pairs=(("hires_cam", "grad_cam"),)).iloc[0]
    similar = results.heatmap_similarity(threshold, pairs=(("hires_cam", "grad_cam"),)).iloc[0]
    closeness = (f"At {name}, where the gradient is constant within every feature map, HiResCAM and "
                 f"Grad-CAM draw the same maps up to rounding (median correlation "
                 f"{decimals(similar['median_correlation'], 6)}, pre-softmax)")
    if wins["win_first"] + wins["win_second"] > 0:
        return (f"Win % counts directions, not sizes. {closeness}, yet HiResCAM wins on {decimals(wins['win_first'], 1)}% "
                f"of the images and Grad-CAM on {decimals(wins['win_second'], 1)}%: between maps this close, who wins an "
                "image is decided by rounding, and the verdict is \"identical\", not a win for either.")
    return f"{closeness}, and they tie on every image: neither wins against the other."


def pixel_wise_table(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The pixel-wise pairs (:data:`~gradcam_study.methods.PIXEL_WISE_PAIRS`) by relative performance, per score
    kind, as printed: its bootstrap 95% interval, the median log ratio, the verdicts at the shown margins, the median
    top-pixel overlap and correlation of the two heatmaps and their verdict."""
    statistics = results.statistics(threshold, pairs=PIXEL_WISE_PAIRS)
    similarity = results.heatmap_similarity(threshold, pairs=PIXEL_WISE_PAIRS)
    table = pd.DataFrame({
        "relative performance [95% CI]": [interval(row.relative_performance, row.ci_low, row.ci_high)
                                          for row in statistics.itertuples()],
        label("median_log_ratio"): [f"{value:.2g}" for value in statistics["median_log_ratio"]],
        **{label(verdict_column(m)): [verdict_words(v, METHOD_LABELS[a], METHOD_LABELS[b]) for v, a, b in
                                      zip(statistics[verdict_column(m)], statistics["first"], statistics["second"])]
           for m in SHOWN_MARGINS},
        label("median_overlap"): [decimals(value, 2) for value in similarity["median_overlap"]],
        label("median_correlation"): [decimals(value) for value in similarity["median_correlation"]],
        "heatmaps": [verdict_words(v) for v in similarity["verdict"]],
    }, index=statistics.index)
    table.index = pd.MultiIndex.from_tuples([(label(pair), label(kind)) for pair, kind in table.index],
                                            names=statistics.index.names)
    return table


def pixel_wise_reading(settings: Mapping[str, LayerResults], threshold: float = DEFAULT_THRESHOLD) -> str:
    """Per setting, :func:`relative_performance_reading` of the pixel-wise pairs: ``"At <layer> (last map): ...."``."""
    names = setting_names(settings)
    return " ".join(
        f"At {names[key]}: {relative_performance_reading(results.statistics(threshold, pairs=PIXEL_WISE_PAIRS))}."
        for key, results in settings.items()
    )


#: The Grad-CAM++ paper's yardsticks that the chapter sets beside this build's, in its order.
PAPER_YARDSTICKS = ("average_drop", "increase_in_confidence", "win_percent")


def beside_grad_cam_plus_plus_paper(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Grad-CAM++ and Grad-CAM under the Grad-CAM++ paper's three yardsticks, pre-softmax: this build's values
    (Win % being each one's wins over the other) beside the paper's (:func:`gradcam_study.paper.grad_cam_plus_plus_yardsticks`),
    a reference from another setting."""
    comparison = paired_comparison(results, "pre_softmax", "grad_cam_plus_plus", "grad_cam", threshold)
    reference = paper.grad_cam_plus_plus_yardsticks()
    rows = []
    for yardstick in reference.columns:
        for method in reference.index:
            value = comparison.loc[yardstick, "first_value" if method == "grad_cam_plus_plus" else "second_value"]
            rows.append({
                "yardstick": label(yardstick),
                "method": METHOD_LABELS[method],
                "this build": decimals(value, 1),
                f"Grad-CAM++ paper ({paper.GRAD_CAM_PLUS_PLUS_SETTING}: another setting)":
                    decimals(reference.loc[method, yardstick], 2),
            })
    return pd.DataFrame(rows).set_index(["yardstick", "method"])


def against_grad_cam(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> dict[str, str | float]:
    """How Grad-CAM++ stands against Grad-CAM under the Grad-CAM++ paper's three yardsticks, pre-softmax
    (``standings``: clauses joined by semicolons, :func:`standing`), and the share of images, in %, that Win %
    counts as ties (``ties``)."""
    comparison = paired_comparison(results, "pre_softmax", "grad_cam_plus_plus", "grad_cam", threshold)
    duel = comparison.loc["win_percent"]
    return {
        "standings": "; ".join(standing(comparison, y, "grad_cam") for y in PAPER_YARDSTICKS),
        "ties": float(100 - duel["first_value"] - duel["second_value"]),
    }


__all__ = ["CHAPTER_ROLES", "PAPER_YARDSTICKS", "against_grad_cam", "beside_grad_cam_plus_plus_paper",
           "chapter_facts", "chapter_settings", "findings_by_kind", "hires_reading", "overview", "pair_finding",
           "pixel_wise_reading", "pixel_wise_table", "relative_performance_reading", "setting_names", "standing",
           "win_pairs_table", "winners", "winners_finding", "yardstick_findings"]
