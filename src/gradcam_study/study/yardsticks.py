"""Other yardsticks, compared: paired differences between two methods under each yardstick, the best method under
each, and the sentences the book states from them.

Every yardstick is a mean over images of a per-image value (a drop in %, an indicator in %, an area), so two
methods are compared image by image: the mean of the paired differences and its percentile bootstrap interval.
A difference whose interval contains 0 does not separate the two methods.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..capture import ScoreKind
from ..display import METHOD_LABELS, SCORE_KIND_LABELS, YARDSTICK_DECIMALS, decimals, label, listing, significant
from ..metrics import bootstrap_mean, confidence_drops, confidence_increases, wins
from .analysis import auc_column, log_prob_column
from .config import DEFAULT_THRESHOLD
from .results import HIGHER_IS_BETTER, YARDSTICKS, LayerResults
from .verdicts import SIGNIFICANCE_LEVEL


def paired_values(
    results: LayerResults, kind: ScoreKind, first: str, second: str, yardstick: str,
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image values of ``yardstick`` for two methods, on the same images (the kept ones; for the areas, the
    kept ones with curves). For ``"win_percent"`` the pair is each one's win over the other (100 or 0)."""
    if yardstick in ("deletion_auc", "insertion_auc"):
        images = results.curve_images(threshold)
        curve = yardstick.removesuffix("_auc")
        return (images[auc_column(curve, kind, first)].to_numpy(dtype=float),
                images[auc_column(curve, kind, second)].to_numpy(dtype=float))
    kept = results.require_kept(threshold)
    log_y, log_a, log_b = (kept["log_probability"], kept[log_prob_column(kind, first)],
                           kept[log_prob_column(kind, second)])
    if yardstick == "average_drop":
        return 100 * confidence_drops(log_y, log_a), 100 * confidence_drops(log_y, log_b)
    if yardstick == "increase_in_confidence":
        return 100 * confidence_increases(log_y, log_a), 100 * confidence_increases(log_y, log_b)
    if yardstick == "win_percent":
        return 100 * wins(log_y, log_a, log_b), 100 * wins(log_y, log_b, log_a)
    raise ValueError(f"Unknown yardstick {yardstick!r}; known: {', '.join(YARDSTICKS)}.")


def paired_comparison(
    results: LayerResults, kind: ScoreKind, first: str, second: str, threshold: float = DEFAULT_THRESHOLD,
    resamples: int = 2000, seed: int = 0,
) -> pd.DataFrame:
    """Per yardstick (rows): each method's value, the mean paired difference ``first - second`` with its bootstrap
    interval, the images, whether the interval excludes 0 (``separated``) and which method is better
    (``"first"``, ``"second"`` or ``"neither"`` where they are not separated). No images: NaN values, not separated."""
    records = []
    for yardstick in YARDSTICKS:
        a, b = paired_values(results, kind, first, second, yardstick, threshold)
        difference = a - b
        interval = bootstrap_mean(difference, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples, seed=seed)
        separated = bool(len(difference) > 1 and (interval.low > 0 or interval.high < 0))
        mean = float(difference.mean()) if len(difference) else float("nan")
        first_better = (mean > 0) == HIGHER_IS_BETTER[yardstick]
        records.append({
            "yardstick": yardstick,
            "first_value": float(a.mean()) if len(a) else float("nan"),
            "second_value": float(b.mean()) if len(b) else float("nan"),
            "difference": mean, "low": interval.low, "high": interval.high, "images": len(difference),
            "separated": separated,
            "better": ("first" if first_better else "second") if separated else "neither",
        })
    return pd.DataFrame.from_records(records).set_index("yardstick")


def best_methods(yardsticks: pd.DataFrame, yardstick: str, rtol: float = 1e-9) -> list[str]:
    """The methods with the best value of ``yardstick`` in a :meth:`LayerResults.yardsticks` table (several where
    their values are equal, as identical heatmaps give); empty where no method has a value."""
    values = yardsticks[(yardstick, "value")].dropna()
    if values.empty:
        return []
    best = values.max() if HIGHER_IS_BETTER[yardstick] else values.min()
    return [method for method, value in values.items() if np.isclose(value, best, rtol=rtol, atol=0)]


def _value(yardstick: str, value: float) -> str:
    """``value`` with the yardstick's decimals, or with 2 significant digits where those would print a non-zero
    difference as 0."""
    digits = YARDSTICK_DECIMALS[yardstick]
    return significant(value, 2) if value != 0 and round(value, digits) == 0 else decimals(value, digits)


def _methods(methods: list[str]) -> str:
    return listing([METHOD_LABELS[m] for m in methods])


def pair_finding(results: LayerResults, kind: ScoreKind, first: str, second: str,
                 threshold: float = DEFAULT_THRESHOLD) -> str:
    """One sentence: under which yardsticks ``first`` and ``second`` are not separated, and under which one is
    better, by how much."""
    comparison = paired_comparison(results, kind, first, second, threshold)
    defined = comparison[comparison["images"] > 1]
    alike = [label(y) for y in defined.index[~defined["separated"]]]
    apart = []
    for y, row in defined[defined["separated"]].iterrows():
        # The gap as a positive number, its interval turned the same way.
        sign = 1.0 if row["difference"] > 0 else -1.0
        low, high = sorted((sign * row["low"], sign * row["high"]))
        winner = METHOD_LABELS[first if row["better"] == "first" else second]
        apart.append(f"{label(y)} ({winner} better by {_value(y, sign * row['difference'])} "
                     f"[{_value(y, low)}, {_value(y, high)}])")
    pair = f"{METHOD_LABELS[first]} and {METHOD_LABELS[second]}"
    parts = []
    if alike:
        parts.append(f"{listing(alike)} {'does' if len(alike) == 1 else 'do'} not separate {pair} (the 95% interval "
                     "of the paired difference contains 0)")
    if apart:
        parts.append(f"{listing(apart)} {'separates' if len(apart) == 1 else 'separate'} them")
    missing = [label(y) for y in comparison.index[comparison["images"] <= 1]]
    if missing:
        parts.append(f"{listing(missing)} {'has' if len(missing) == 1 else 'have'} too few images to compare")
    return "; ".join(parts) + "."


def winners_finding(results: LayerResults, kind: ScoreKind, threshold: float = DEFAULT_THRESHOLD) -> str:
    """One sentence: the best method(s) under each yardstick, and whether the best is separated from the best of
    the others (paired interval excluding 0)."""
    table = results.yardsticks(kind, threshold)
    parts = []
    for yardstick in YARDSTICKS:
        best = best_methods(table, yardstick)
        if not best:
            continue
        others = table.drop(index=best)
        runner = best_methods(others, yardstick)
        text = f"{label(yardstick)}: {_methods(best)} ({_value(yardstick, table.loc[best[0], (yardstick, 'value')])})"
        if runner and yardstick != "win_percent":
            comparison = paired_comparison(results, kind, best[0], runner[0], threshold).loc[yardstick]
            verdict = "ahead of" if comparison["separated"] else "not separated from"
            text += f", {verdict} {_methods(runner)} ({_value(yardstick, table.loc[runner[0], (yardstick, 'value')])})"
        parts.append(text)
    return f"Best with {SCORE_KIND_LABELS[kind]} maps, by yardstick — " + "; ".join(parts) + "."


def yardstick_findings(settings: Mapping[str, LayerResults], kind: ScoreKind,
                       threshold: float = DEFAULT_THRESHOLD) -> str:
    """The chapter's sentences for ``kind``, per setting (label -> results): does each yardstick separate
    Grad-CAM++ from Grad-CAM+, and which method is best under each."""
    lines = []
    for name, results in settings.items():
        lines.append(f"- **{name}.** {pair_finding(results, kind, 'grad_cam_plus_plus', 'grad_cam_plus', threshold)} "
                     f"{winners_finding(results, kind, threshold)}")
    return "\n".join(lines)


__all__ = ["best_methods", "pair_finding", "paired_comparison", "paired_values", "winners_finding",
           "yardstick_findings"]
