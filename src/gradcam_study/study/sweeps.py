"""The same quantities at many layers or on many models: the depth and architecture sweeps of the book.

:func:`layer_summary` reduces one layer's results to the numbers that decide whether Grad-CAM++ behaves
like Grad-CAM+ there; :func:`sweep_summary` stacks them over layers or models (a tidy frame, one row per
setting, score kind and quantity), and :func:`sweep_findings` turns such a frame into sentences.

>>> from gradcam_study import book
>>> depth = book.study("depth")                                       # doctest: +SKIP
>>> summary = sweep_summary({layer: depth.at(layer) for layer in depth.layers})   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..display import METHOD_LABELS, METHOD_PAIRS, SCORE_KIND_LABELS, decimals, interval, listing, pair_label
from .config import DEFAULT_THRESHOLD
from .results import LayerResults
from .verdicts import EQUIVALENCE_MARGIN, NEARLY_EQUAL_CORRELATION, interval_verdict

#: The quantities of a sweep, in display order, with their labels.
QUANTITIES: dict[str, str] = {
    "relative_performance": "relative performance",
    "share_near_half": "alphas within 0.03 of 1/2",
    "far_from_half": "alphas with |α − 1/2| > 1/2",
    "median_correlation": "median r, GC++ and GC+ maps",
}
PLUS_PAIR = ("grad_cam_plus_plus", "grad_cam_plus")


def layer_summary(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """One layer in a few numbers, per score kind: the relative performance of each pair with its bootstrap
    interval and equivalence test (kept images), the share of non-zero alphas near 1/2 and the count far from it
    (all analysed images), and the median correlation of the Grad-CAM++ and Grad-CAM+ heatmaps (kept images).

    Columns: ``kind``, ``pair`` (``"first/second"`` identifiers, empty for per-layer quantities), ``quantity``,
    ``value``, ``low``, ``high``, ``equivalent``, ``verdict`` (:func:`~gradcam_study.study.verdicts.interval_verdict`).
    """
    statistics = results.statistics(threshold)
    similarity = results.heatmap_similarity(threshold)
    rows = []
    for kind in results.score_kinds:
        for first, second in METHOD_PAIRS:
            row = statistics.loc[(pair_label(first, second), SCORE_KIND_LABELS[kind])]
            rows.append({
                "kind": kind, "pair": f"{first}/{second}", "quantity": "relative_performance",
                "value": row["relative_performance"], "low": row["ci_low"], "high": row["ci_high"],
                "equivalent": bool(row["equivalent"]), "verdict": interval_verdict(row["ci_low"], row["ci_high"]),
            })
        extremes = results.alpha_extremes(kind)
        median = similarity.loc[(pair_label(*PLUS_PAIR), SCORE_KIND_LABELS[kind]), "median_correlation"]
        for quantity, value in (
            ("share_near_half", float(extremes["share_near_half"])),
            ("far_from_half", float(extremes["far_from_half"])),
            ("median_correlation", float(median)),
        ):
            rows.append({"kind": kind, "pair": "", "quantity": quantity, "value": value, "low": np.nan,
                         "high": np.nan, "equivalent": None, "verdict": None})
    frame = pd.DataFrame.from_records(rows)
    frame["kept"] = len(results.kept(threshold))
    frame["images"] = len(results.images)
    return frame


def sweep_summary(settings: Mapping[str, LayerResults], threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """:func:`layer_summary` of each setting (a layer, or a model at a layer), in the given order, with a
    ``setting`` column and ``position`` (0, 1, ...) for plotting against depth."""
    parts = [
        layer_summary(results, threshold).assign(setting=name, position=position)
        for position, (name, results) in enumerate(settings.items())
    ]
    return pd.concat(parts, ignore_index=True)


def sweep_table(summary: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The sweep for one score kind as a table for people: one row per setting, one column per quantity;
    relative performances as ``"0.995 [0.993, 0.997]"`` (3 decimals), shares as percentages, counts as integers."""
    summary = summary[summary["kind"] == kind]

    def cell(row: pd.Series) -> str:
        if not np.isfinite(row["value"]):
            return "–"  # a median correlation with no defined correlation: every heatmap pair had a constant map
        if row["quantity"] == "relative_performance":
            return interval(row["value"], row["low"], row["high"])
        if row["quantity"] == "share_near_half":
            return f"{100 * row['value']:.1f}%"
        if row["quantity"] == "far_from_half":
            return f"{int(row['value'])}"
        return decimals(row["value"], 4)

    def column(row: pd.Series) -> str:
        if row["quantity"] == "relative_performance":
            return pair_label(*row["pair"].split("/"))
        return QUANTITIES[row["quantity"]]

    frame = summary.assign(cell=summary.apply(cell, axis=1), column=summary.apply(column, axis=1))
    table = frame.pivot(index="setting", columns="column", values="cell")
    table = table.loc[list(dict.fromkeys(summary["setting"])), list(dict.fromkeys(frame["column"]))]
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


def sweep_findings(summary: pd.DataFrame, what: str = "layer") -> str:
    """Sentences, computed from a :func:`sweep_summary`, one paragraph per score kind: at which settings Grad-CAM++ and
    Grad-CAM+ are shown equivalent (TOST within the declared margin) and their heatmaps nearly equal (median
    correlation at least the declared criterion), what the intervals say where equivalence is not shown, and where
    each method is better or worse than Grad-CAM (interval verdicts). Each paragraph says how many kept images the
    relative performances rest on."""
    rp = summary[summary["quantity"] == "relative_performance"]
    median = summary[summary["quantity"] == "median_correlation"]
    kept = summary.groupby("setting", sort=False)["kept"].first()
    counts = sorted(set(kept))
    basis = (f"{counts[0]} kept images" if len(counts) == 1
             else f"{counts[0]} to {counts[-1]} kept images per {what}")
    paragraphs = []
    for kind in dict.fromkeys(summary["kind"]):
        plus = rp[(rp["kind"] == kind) & (rp["pair"] == "/".join(PLUS_PAIR))]
        total = len(plus)
        equivalent = plus[plus["equivalent"].astype(bool)]["setting"].tolist()
        text = (
            f"With {SCORE_KIND_LABELS[kind]} maps (over {basis}), Grad-CAM++ and Grad-CAM+ are shown to perform alike "
            f"(equivalence within {EQUIVALENCE_MARGIN:.0%} by two one-sided tests) at {_settings(equivalent, what, total)}"
        )
        others = plus[~plus["equivalent"].astype(bool)]
        if len(others):
            worse = [f"{row.setting} ({interval(row.value, row.low, row.high)})"
                     for row in others.itertuples() if row.high < 1]
            better = [f"{row.setting} ({interval(row.value, row.low, row.high)})"
                      for row in others.itertuples() if row.low > 1]
            open_ = [row.setting for row in others.itertuples() if row.low <= 1 <= row.high]
            parts = []
            if worse:
                parts.append(f"Grad-CAM++ is worse than Grad-CAM+ at {listing(worse)}")
            if better:
                parts.append(f"Grad-CAM++ is better than Grad-CAM+ at {listing(better)}")
            if open_:
                parts.append(f"the interval includes 1 but is too wide to show equivalence at {listing(open_)}")
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
                text += f"{name} is neither better nor worse than Grad-CAM at any {what} (every interval includes 1). "
                continue
            clauses = []
            if better:
                clauses.append(f"better than Grad-CAM at {listing(better)}")
            if worse:
                clauses.append(f"worse{'' if better else ' than Grad-CAM'} at {listing(worse)}")
            text += f"{name} is {' and '.join(clauses)}; elsewhere its interval includes 1. "
        paragraphs.append(text.strip())
    return "\n\n".join(paragraphs)


__all__ = ["QUANTITIES", "layer_summary", "sweep_findings", "sweep_summary", "sweep_table"]
