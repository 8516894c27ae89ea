"""One pair of methods at one layer and score kind, read for a sentence: the relative performance with its interval,
the verdict at each shown margin, the equivalence test, the Wilcoxon test and whether the heatmaps are identical.

Every verdict is the one :meth:`~gradcam_study.study.LayerResults.statistics` decided by the declared criteria of
:mod:`gradcam_study.study.verdicts`; this module only reads it.

>>> statistics = book.study("main").at().statistics()                                # doctest: +SKIP
>>> reading = read_pair(statistics, "grad_cam_plus_plus/grad_cam_plus", "pre_softmax")  # doctest: +SKIP
>>> reading.interval, reading.alike(), reading.verdict_words(0.01)                   # doctest: +SKIP
('0.995 [0.993, 0.997]', True, 'alike')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..methods import PLUS_PAIR_ID, pair_id, pair_methods
from ..presentation.formats import interval, p_equals, percent, ratio
from ..presentation.labels import METHOD_LABELS, SCORE_KIND_LABELS, pair_label
from ..study.results import raw_tost_column, tost_column, verdict_column
from ..study.verdicts import EQUIVALENCE_MARGIN, SHOWN_MARGINS, shown_alike, verdict_words
from .words import wilcoxon_reading


@dataclass(frozen=True)
class PairReading:
    """What :meth:`~gradcam_study.study.LayerResults.statistics` says of one pair (``"first/second"``) and score
    kind: relative performance of ``first`` over ``second`` with its bootstrap 95% interval, the verdict and the
    Holm-adjusted TOST p-value at each shown margin, the Holm-adjusted Wilcoxon p-value and the median per-image log
    ratio that gives its direction, the images, and whether the two heatmaps are identical up to rounding."""

    pair: str
    kind: str
    relative_performance: float
    ci_low: float
    ci_high: float
    verdicts: Mapping[float, str]
    tost_p: Mapping[float, float]
    p_value_holm: float
    median_log_ratio: float
    images: int
    identical: bool

    @property
    def methods(self) -> tuple[str, str]:
        """The two methods' identifiers."""
        return pair_methods(self.pair)

    @property
    def labels(self) -> tuple[str, str]:
        """The two methods' labels: ``("Grad-CAM++", "Grad-CAM+")``."""
        first, second = self.methods
        return METHOD_LABELS[first], METHOD_LABELS[second]

    @property
    def label(self) -> str:
        """``"Grad-CAM++ vs Grad-CAM+"``."""
        return pair_label(self.pair)

    @property
    def kind_label(self) -> str:
        """``"pre-softmax"``."""
        return SCORE_KIND_LABELS[self.kind]

    @property
    def interval(self) -> str:
        """``"0.995 [0.993, 0.997]"``: the relative performance and its interval."""
        return interval(self.relative_performance, self.ci_low, self.ci_high)

    @property
    def interval_ends(self) -> str:
        """``"0.993 to 0.997"``: the interval alone."""
        return f"{ratio(self.ci_low)} to {ratio(self.ci_high)}"

    def verdict(self, margin: float = EQUIVALENCE_MARGIN) -> str:
        """The verdict (a :class:`~gradcam_study.study.verdicts.Verdict` value) at ``margin``."""
        return self.verdicts[margin]

    def alike(self, margin: float = EQUIVALENCE_MARGIN) -> bool:
        """Whether the pair is shown to perform alike at ``margin``, or draws identical heatmaps."""
        return shown_alike(self.verdict(margin))

    def verdict_words(self, margin: float = EQUIVALENCE_MARGIN) -> str:
        """The verdict at ``margin`` in words, naming the methods: ``"Grad-CAM++ ahead"``, ``"alike"``."""
        return verdict_words(self.verdict(margin), *self.labels)

    def tost(self, margin: float = EQUIVALENCE_MARGIN) -> str:
        """``"TOST p = 0.012 at 5%, Holm-adjusted"``."""
        return f"TOST p {p_equals(self.tost_p[margin])} at {percent(margin, 0)}, Holm-adjusted"

    def wilcoxon(self, still: bool | None = None) -> str:
        """The Wilcoxon test as a clause after "the Wilcoxon signed-rank test" (direction from the median log
        ratio); ``still`` (default: whether the pair is shown alike) says "still detects" beside an equivalence."""
        still = self.alike() if still is None else still
        return wilcoxon_reading(*self.labels, self.p_value_holm, self.median_log_ratio, still=still)


def read_pair(statistics: pd.DataFrame, pair: str, kind: str) -> PairReading:
    """The :class:`PairReading` of ``pair`` and ``kind`` from a statistics frame (its margins: those of its verdict
    columns, :data:`~gradcam_study.study.verdicts.SHOWN_MARGINS` by default)."""
    row = statistics.loc[(pair, kind)]
    margins = [m for m in SHOWN_MARGINS if verdict_column(m) in row.index]
    return PairReading(
        pair=pair,
        kind=kind,
        relative_performance=float(row["relative_performance"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        verdicts={m: str(row[verdict_column(m)]) for m in margins},
        tost_p={m: float(row[tost_column(m)] if tost_column(m) in row.index else row[raw_tost_column(m)])
                for m in margins},
        p_value_holm=float(row["p_value_holm"]),
        median_log_ratio=float(row["median_log_ratio"]),
        images=int(row["images"]),
        identical=bool(row["identical"]),
    )


def read_pairs(statistics: pd.DataFrame) -> dict[tuple[str, str], PairReading]:
    """Every ``(pair, kind)`` of a statistics frame, read."""
    return {(pair, kind): read_pair(statistics, pair, kind) for pair, kind in statistics.index}


def held_for(held: Mapping[str, bool], what: str = "maps", yes: str = "held", no: str = "not shown") -> str:
    """Whether a claim held for each score kind, in words: ``yes`` where it held for all, ``no`` where for none,
    else ``"held for pre-softmax maps but not for post-softmax maps"``.

    >>> held_for({"pre_softmax": True, "post_softmax": False})
    'held for pre-softmax maps but not for post-softmax maps'
    >>> held_for({"pre_softmax": True, "post_softmax": True})
    'held'
    """
    if all(held.values()):
        return yes
    if not any(held.values()):
        return no

    def kinds(found: Iterable[str]) -> str:
        return ", ".join(SCORE_KIND_LABELS[kind] for kind in found) + f" {what}"

    return (f"{yes} for {kinds(k for k, h in held.items() if h)} but not for "
            f"{kinds(k for k, h in held.items() if not h)}")


#: The pair whose gap measures what the positive gradients do (Grad-CAM+ against Grad-CAM), beside the pair whose gap
#: measures what the alphas do (:data:`~gradcam_study.methods.PLUS_PAIR_ID`, Grad-CAM++ against Grad-CAM+).
POSITIVE_GRADIENTS_PAIR_ID: str = pair_id("grad_cam_plus", "grad_cam")


def alphas_move_less_by_kind(table1: pd.DataFrame) -> dict[str, bool]:
    r"""Per score kind (a column of a Table 1, :meth:`~gradcam_study.study.LayerResults.table1`), whether the alphas
    move the relative performance less than the positive gradients do:
    :math:`|\log R_{\text{Grad-CAM++}, \text{Grad-CAM+}}| < |\log R_{\text{Grad-CAM+}, \text{Grad-CAM}}|`, the
    paper's hypothesis.

    >>> table = pd.DataFrame({"pre_softmax": [1.02, 0.99]}, index=[POSITIVE_GRADIENTS_PAIR_ID, PLUS_PAIR_ID])
    >>> alphas_move_less_by_kind(table)
    {'pre_softmax': True}
    """
    alphas = np.abs(np.log(table1.loc[PLUS_PAIR_ID].astype(float)))
    positive = np.abs(np.log(table1.loc[POSITIVE_GRADIENTS_PAIR_ID].astype(float)))
    return {str(kind): bool(alphas[kind] < positive[kind]) for kind in table1.columns}


def alphas_move_less(table1: pd.DataFrame) -> bool:
    """Whether the alphas move the relative performance less than the positive gradients do with every score kind
    (:func:`alphas_move_less_by_kind`)."""
    return all(alphas_move_less_by_kind(table1).values())


def alphas_move_less_clause(table1: pd.DataFrame) -> str:
    """The clause of :func:`alphas_move_less` over a Table 1's columns, ending in a semicolon: what the paper's
    hypothesis predicts, or that it fails in at least one column."""
    if alphas_move_less(table1):
        return ("In both columns the alphas move the result less than the positive gradients do, as the paper's "
                "hypothesis predicts;")
    return "In at least one column the alphas move the result more than the positive gradients do;"


__all__ = ["POSITIVE_GRADIENTS_PAIR_ID", "PairReading", "alphas_move_less", "alphas_move_less_by_kind",
           "alphas_move_less_clause", "held_for", "read_pair", "read_pairs"]
