"""Result frames (keyed by identifiers) made into tables for display: rows and columns labelled, numbers formatted.

Nothing here computes a result.
"""

from __future__ import annotations

import math

import pandas as pd

from .formats import decimals, p_value, ratio, significant
from ..study.verdicts import verdict_words
from .labels import METHOD_LABELS, STUDY_TIME_LABELS, label, labelled


def labelled_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every index and column value that is an identifier replaced by its label (pairs, score kinds,
    methods, columns): how a result frame is shown.

    >>> labelled_frame(pd.DataFrame({"relative_performance": [1.0]}, index=["grad_cam_plus/grad_cam"])).columns[0]
    'relative performance'
    """

    def relabel(index: pd.Index) -> pd.Index:
        if isinstance(index, pd.MultiIndex):
            return pd.MultiIndex.from_tuples([tuple(label(str(v)) for v in values) for values in index],
                                             names=index.names)
        return pd.Index([label(str(v)) for v in index], name=index.name)

    shown = frame.copy()
    shown.index = relabel(frame.index)
    shown.columns = relabel(frame.columns)
    return shown


#: Identifiers of summaries that are counts (printed as integers) and shares (printed as percentages).
COUNT_IDENTIFIERS = frozenset({"nonzero_alphas", "far_from_half", "far_at_positive_gradient", "images_far_from_half",
                               "images_term_below_pole", "constant_grad_cam_plus_plus_maps"})
SHARE_IDENTIFIERS = frozenset({"share_far_from_half", "share_near_half"})


def styled_summary(frame, number_format: str = "{:.5g}"):
    """A summary whose rows are keyed by identifiers, for display: rows labelled, counts as integers, shares as
    percentages with 3 decimals, every other number with ``number_format``."""
    counts = [label(i) for i in frame.index if i in COUNT_IDENTIFIERS]
    shares = [label(i) for i in frame.index if i in SHARE_IDENTIFIERS]
    frame = frame.rename(index=label)
    return (frame.style.format(number_format)
            .format("{:.0f}", subset=(counts, slice(None)))
            .format("{:.3%}", subset=(shares, slice(None))))


#: Decimals of each yardstick as printed: percentages with 1, areas under curves with 3.
YARDSTICK_DECIMALS = {"average_drop": 1, "increase_in_confidence": 1, "win_percent": 1, "deletion_auc": 3,
                      "insertion_auc": 3}
#: The unit of a difference of each yardstick, in a sentence: percentages differ by points, areas by plain units.
YARDSTICK_UNITS = {"average_drop": "points", "increase_in_confidence": "points", "win_percent": "points",
                   "deletion_auc": "(area units)", "insertion_auc": "(area units)"}


def yardstick_table(frame):
    """:meth:`~gradcam_study.study.LayerResults.yardsticks` for display: one row per method (labelled), one column
    per yardstick (labelled), each cell ``"value [low, high]"`` with :data:`YARDSTICK_DECIMALS`, or a dash where
    the value is undefined (Win % of the baseline over itself, areas without curves)."""
    def cell(row, yardstick: str) -> str:
        digits = YARDSTICK_DECIMALS[yardstick]
        value = row[(yardstick, "value")]
        low, high = (row.get((yardstick, part), float("nan")) for part in ("low", "high"))
        if not math.isfinite(value):
            return "–"
        if not (math.isfinite(low) and math.isfinite(high)):
            return decimals(value, digits)
        return f"{decimals(value, digits)} [{decimals(low, digits)}, {decimals(high, digits)}]"

    yardsticks = list(dict.fromkeys(frame.columns.get_level_values(0)))
    return pd.DataFrame(
        {label(y): [cell(row, y) for _, row in frame.iterrows()] for y in yardsticks},
        index=pd.Index(labelled(frame.index), name="method"),
    )


def statistics_table(frame):
    """:meth:`~gradcam_study.study.LayerResults.statistics` for display: the relative performance with its interval,
    the Wilcoxon test and the equivalence tests (p-values Holm-adjusted over the table, floored by :func:`p_value`),
    and the verdict at each shown margin in words; the raw p-values and the single-margin columns are left out,
    since the verdicts do not rest on them. Extra index levels (a layer, say) are kept."""
    verdicts = [c for c in frame.columns if c.startswith("verdict_within_")]
    tests = [c for c in frame.columns if c.startswith("tost_p_holm_within_")]
    shown = frame[["relative_performance", "ci_low", "ci_high", "wilcoxon_statistic", "p_value_holm",
                   "median_log_ratio", *tests, *verdicts, "identical", "images"]].copy()
    for column in verdicts:
        shown[column] = [verdict_words(v, METHOD_LABELS[a], METHOD_LABELS[b])
                         for v, a, b in zip(frame[column], frame["first"], frame["second"])]
    shown["identical"] = shown["identical"].map({True: "yes", False: "no"})
    # Rows are keyed by identifiers (pair, score kind) like the columns: both are labelled for display.
    shown = labelled_frame(shown)
    return (
        shown.style.format(precision=3, na_rep="–")
        .format(ratio, subset=[label(c) for c in ("relative_performance", "ci_low", "ci_high")], na_rep="–")
        .format(p_value, subset=[label(c) for c in ("p_value_holm", *tests)], na_rep="–")
        .format(lambda m: significant(m, 2), subset=[label("median_log_ratio")], na_rep="–")
        .format("{:.0f}", subset=[label("wilcoxon_statistic"), label("images")], na_rep="–")
    )




def study_times_table(times: pd.DataFrame):
    """:func:`gradcam_study.book.study_times` for display: columns labelled (``STUDY_TIME_LABELS``), seconds
    without decimals, images per second to two.

    >>> study_times_table(book.study_times())   # doctest: +SKIP
    """
    return times.rename(columns=STUDY_TIME_LABELS).style.format(
        {"time (s)": "{:.0f}", "images per second": "{:.2f}", "compiling (s)": "{:.0f}"}
    )


__all__ = ["COUNT_IDENTIFIERS", "SHARE_IDENTIFIERS", "YARDSTICK_DECIMALS", "YARDSTICK_UNITS", "labelled_frame",
           "statistics_table", "study_times_table", "styled_summary", "yardstick_table"]
