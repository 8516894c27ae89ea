"""Other yardsticks, compared: paired differences between two methods under each yardstick, the best method under
each, and the sentences the book states from them.

Every yardstick is a mean over images of a per-image value (a drop in %, an indicator in %, an area), so two
methods are compared image by image: the mean of the paired differences and its percentile bootstrap interval,
read by :func:`~gradcam_study.study.verdicts.paired_verdict`: identical heatmaps are "identical", a difference
whose interval lies within the yardstick's practical bound (:data:`~gradcam_study.study.verdicts.PRACTICAL_BOUNDS`)
is "alike", an interval wholly on one side of 0 puts one method ahead, anything else is "not separated".
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..capture import ScoreKind
from ..metrics import bootstrap_mean
from .config import DEFAULT_THRESHOLD
from .results import HIGHER_IS_BETTER, YARDSTICKS, LayerResults
from .verdicts import (
    MIN_IMAGES_FOR_VERDICT,
    PRACTICAL_BOUNDS,
    SIGNIFICANCE_LEVEL,
    Verdict,
    paired_verdict,
)


def paired_values(
    results: LayerResults, kind: ScoreKind, first: str, second: str, yardstick: str,
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image values of ``yardstick`` for two methods, on the same images (:meth:`LayerResults.per_image`). For
    ``"win_percent"`` the pair is each one's win over the other (100 or 0)."""
    return (results.per_image(kind, first, yardstick, threshold, over=second),
            results.per_image(kind, second, yardstick, threshold, over=first))


def paired_comparison(
    results: LayerResults, kind: ScoreKind, first: str, second: str, threshold: float = DEFAULT_THRESHOLD,
    resamples: int = 2000, seed: int = 0, yardsticks: tuple[str, ...] = YARDSTICKS,
) -> pd.DataFrame:
    """Per yardstick (rows): each method's value, the mean paired difference ``first - second`` with its bootstrap
    interval, the images, whether the two heatmaps are identical up to rounding (``identical``), the ``verdict``
    (:func:`~gradcam_study.study.verdicts.paired_verdict`, a :class:`~gradcam_study.study.verdicts.Verdict`
    value), whether one method is ahead (``separated``) and which (``better``: ``"first"``, ``"second"`` or
    ``"neither"``). No images: NaN values, no verdict."""
    records = []
    identical = results.identical(kind, first, second, threshold)
    for yardstick in yardsticks:
        a, b = paired_values(results, kind, first, second, yardstick, threshold)
        difference = a - b
        interval = bootstrap_mean(difference, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples, seed=seed)
        mean = float(difference.mean()) if len(difference) else float("nan")
        verdict = paired_verdict(len(difference), interval.low, interval.high, PRACTICAL_BOUNDS[yardstick],
                                 HIGHER_IS_BETTER[yardstick], identical)
        records.append({
            "yardstick": yardstick,
            "first_value": float(a.mean()) if len(a) else float("nan"),
            "second_value": float(b.mean()) if len(b) else float("nan"),
            "difference": mean, "low": interval.low, "high": interval.high, "images": len(difference),
            "identical": identical, "verdict": verdict.value,
            "separated": verdict in (Verdict.FIRST_AHEAD, Verdict.SECOND_AHEAD),
            "better": {Verdict.FIRST_AHEAD: "first", Verdict.SECOND_AHEAD: "second"}.get(verdict, "neither"),
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


















def head_to_head(results: LayerResults, kind: ScoreKind, threshold: float = DEFAULT_THRESHOLD,
                 baseline: str = "grad_cam") -> pd.DataFrame:
    """Every other method against ``baseline`` by Win %, head-to-head: its wins, the baseline's wins over it, and
    the verdict of :func:`paired_comparison` and whether one of them is ahead (``separated``) (rows: methods)."""
    records = {}
    for method in results.methods:
        if method == baseline:
            continue
        row = paired_comparison(results, kind, method, baseline, threshold, yardsticks=("win_percent",)).loc["win_percent"]
        records[method] = {"wins": row["first_value"], "losses": row["second_value"], "verdict": row["verdict"],
                           "separated": row["separated"]}
    return pd.DataFrame.from_dict(records, orient="index")














__all__ = ["MIN_IMAGES_FOR_VERDICT", "best_methods", "head_to_head", "paired_comparison", "paired_values"]
