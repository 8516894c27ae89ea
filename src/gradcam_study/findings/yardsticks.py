"""The yardsticks for people: which method is best under each, how a pair compares, the overview of the conclusions."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..capture import ScoreKind
from ..presentation.formats import decimals, listing, percent, ratio
from ..presentation.labels import METHOD_LABELS, SCORE_KIND_LABELS, label
from ..presentation.tables import YARDSTICK_DECIMALS
from ..study import verdicts
from ..study.config import DEFAULT_THRESHOLD
from ..study.results import HIGHER_IS_BETTER, YARDSTICKS, LayerResults, verdict_column
from ..study.verdicts import PRACTICAL_BOUNDS, SHOWN_MARGINS, Verdict, verdict_words
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


def winners(results: LayerResults, kind: ScoreKind, threshold: float = DEFAULT_THRESHOLD) -> dict[str, dict]:
    """Per yardstick other than Win %: the best methods (equal at the printed precision, as methods drawing the same
    maps up to rounding are), the best of the others, and the verdict of the best against it (``verdict``, of
    :func:`paired_comparison`); ``None`` where the yardstick has fewer than :data:`MIN_IMAGES_FOR_VERDICT` images."""
    table = results.yardsticks(kind, threshold)
    found: dict[str, dict] = {}
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
    Verdict.TOO_FEW_IMAGES.value: "(too few images for a verdict) beside",
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


__all__ = ["overview", "pair_finding", "relative_performance_reading", "standing", "winners", "winners_finding",
           "yardstick_findings"]
