"""The analysis plan: every declared criterion of :mod:`gradcam_study.study.verdicts` as a table."""

from __future__ import annotations

import pandas as pd

from ..presentation.formats import percent
from ..presentation.labels import label
from ..presentation.tables import YARDSTICK_UNITS
from ..study.verdicts import (
    ABOUT_HALF_SHARE,
    DEPENDENCE_CRITERION,
    EQUIVALENCE_MARGIN,
    EQUIVALENCE_MARGINS,
    IDENTICAL_CORRELATION,
    IDENTICAL_TOLERANCE,
    MIN_IMAGES_FOR_VERDICT,
    NEAR_HALF,
    NEARLY_EQUAL_CORRELATION,
    NEARLY_EQUAL_OVERLAP,
    P_VALUE_FLOOR,
    PRACTICAL_BOUNDS,
    RARE,
    ROUNDING_LOG_RATIO,
    SIGNIFICANCE_LEVEL,
    STANDS_OUT,
    STRICT_EQUIVALENCE_MARGIN,
    TOP_SHARE,
    WILCOXON_ZERO_METHOD,
)


def criteria() -> pd.DataFrame:
    """Every declared criterion (rows, keyed by the constant's name): its value, what it decides, and its source
    (the constant in :mod:`gradcam_study.study.verdicts`), for the book's section "How verdicts are decided".

    >>> criteria().loc["MIN_IMAGES_FOR_VERDICT", "value"] == MIN_IMAGES_FOR_VERDICT
    True
    """
    rows = [
        ("SIGNIFICANCE_LEVEL", SIGNIFICANCE_LEVEL, "level of every test and of every interval (95% intervals)"),
        ("MIN_IMAGES_FOR_VERDICT", MIN_IMAGES_FOR_VERDICT,
         "fewest images for any verdict word; below it the numbers are shown without one"),
        ("STRICT_EQUIVALENCE_MARGIN", STRICT_EQUIVALENCE_MARGIN,
         "relative performance: alike within 1% (TOST, Holm-adjusted), shown beside the 5% margin"),
        ("EQUIVALENCE_MARGIN", EQUIVALENCE_MARGIN, "relative performance: alike within 5% (TOST, Holm-adjusted)"),
        ("ROUNDING_LOG_RATIO", ROUNDING_LOG_RATIO, "a per-image log ratio this close to 0 is a tie"),
        ("WILCOXON_ZERO_METHOD", WILCOXON_ZERO_METHOD, "Wilcoxon signed-rank test: how ties (zero log ratios) count"),
        ("P_VALUE_FLOOR", P_VALUE_FLOOR, "smallest p-value printed"),
        ("IDENTICAL_CORRELATION", IDENTICAL_CORRELATION,
         "identical heatmaps: every image's correlation at least this (equal up to float rounding)"),
        ("TOP_SHARE", TOP_SHARE, "share of a heatmap's pixels whose overlap decides 'nearly equal'"),
        ("NEARLY_EQUAL_OVERLAP", NEARLY_EQUAL_OVERLAP,
         "heatmaps nearly equal: median Jaccard overlap of the top pixels at least this"),
        ("NEARLY_EQUAL_CORRELATION", NEARLY_EQUAL_CORRELATION,
         "shown beside the overlap: median correlation at least this"),
        *((f"PRACTICAL_BOUNDS[{name!r}]", bound,
           f"{label(name)}: paired difference alike within ±{bound:g} {YARDSTICK_UNITS[name]}")
          for name, bound in PRACTICAL_BOUNDS.items()),
        ("NEAR_HALF", NEAR_HALF, "an alpha near 1/2: within this distance of 1/2"),
        ("ABOUT_HALF_SHARE", ABOUT_HALF_SHARE, f"alphas about 1/2: more than this share within {NEAR_HALF:g} of 1/2"),
        ("RARE", RARE, "rare: fewer than this share of the non-zero alphas"),
        ("DEPENDENCE_CRITERION", DEPENDENCE_CRITERION,
         "sanity checks: the heatmaps depend on the model where the median |Spearman| after the full cascade is below this"),
        ("IDENTICAL_TOLERANCE", IDENTICAL_TOLERANCE,
         "choice of score: two kinds' heatmaps are identical where no normalised value differs by more than this"),
        ("STANDS_OUT", STANDS_OUT, "a unit stands out: among the largest 1% of the image's units"),
    ]
    return pd.DataFrame(
        [{"criterion": name, "value": value, "decides": decides,
          "source": f"gradcam_study.study.verdicts.{name.split('[')[0]}"} for name, value, decides in rows]
    ).set_index("criterion")


def criteria_table():
    """:func:`criteria` as the analysis plan prints it: values in the shortest form (``f"{value:g}"``) that
    still tells them apart, text as it is."""
    return criteria().style.format(lambda v: f"{v:g}" if isinstance(v, float) else v)


def plan_values() -> dict[str, str]:
    """The criteria the analysis plan quotes in its prose, formatted for its glue keys (``plan-level``,
    ``plan-margin``, ``plan-bound-<yardstick>``, ...): percentages as percentages, the rest in their shortest form.

    >>> plan_values()["plan-min-images"] == str(MIN_IMAGES_FOR_VERDICT)
    True
    """
    return {
        "plan-level": percent(SIGNIFICANCE_LEVEL, 0),
        "plan-confidence": percent(1 - SIGNIFICANCE_LEVEL, 0),
        "plan-min-images": str(MIN_IMAGES_FOR_VERDICT),
        "plan-strict-margin": percent(STRICT_EQUIVALENCE_MARGIN, 0),
        "plan-margin": percent(EQUIVALENCE_MARGIN, 0),
        "plan-margins": ", ".join(percent(m, 1) for m in EQUIVALENCE_MARGINS),
        "plan-rounding": f"{ROUNDING_LOG_RATIO:g}",
        "plan-zero-method": WILCOXON_ZERO_METHOD,
        "plan-p-floor": f"{P_VALUE_FLOOR:g}",
        "plan-identical-correlation": f"{IDENTICAL_CORRELATION:.7f}",
        "plan-top-share": percent(TOP_SHARE, 0),
        "plan-overlap": f"{NEARLY_EQUAL_OVERLAP:g}",
        "plan-correlation": f"{NEARLY_EQUAL_CORRELATION:g}",
        **{f"plan-bound-{name}": f"{bound:g}" for name, bound in PRACTICAL_BOUNDS.items()},
    }


__all__ = ["criteria", "criteria_table", "plan_values"]
