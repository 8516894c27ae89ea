"""The book's headline: what holds of the paper's claims at each kind of layer, under each yardstick, with what goes
against the paper first.

The paper makes three claims this module checks, each with the book's declared verdicts
(:mod:`~gradcam_study.study.verdicts`): Grad-CAM++ and Grad-CAM+ perform alike; both do better than Grad-CAM; their
heatmaps nearly coincide. A finding *agrees* with a claim, goes *against* it, or leaves it *not settled* (not
separated, or too few images):

- "alike" (Grad-CAM++ against Grad-CAM+): agrees where the verdict is identical or alike (at the declared margin,
  :data:`~gradcam_study.study.verdicts.EQUIVALENCE_MARGIN`, or within a yardstick's practical bound), goes against
  it where one of them is ahead;
- "better" (Grad-CAM++ or Grad-CAM+ against Grad-CAM): agrees where the first is ahead (at the strict margin,
  :data:`~gradcam_study.study.verdicts.STRICT_EQUIVALENCE_MARGIN`, for the relative performance), goes against it
  where Grad-CAM is ahead or where the two are identical or alike (no gain);
- "nearly equal heatmaps": agrees where the heatmaps are identical or nearly equal, goes against it where they differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd

from ..capture import ScoreKind
from ..methods import pair_id
from ..presentation.formats import decimals, interval, listing, percent
from ..presentation.labels import METHOD_LABELS, ROLE_LABELS, SCORE_KIND_LABELS, label
from ..study import verdicts
from ..study.config import DEFAULT_THRESHOLD
from ..study.results import YARDSTICKS, LayerResults, StudyResults, verdict_column
from ..study.verdicts import (
    EQUIVALENCE_MARGIN,
    STRICT_EQUIVALENCE_MARGIN,
    TOP_SHARE,
    Verdict,
    shown_alike,
    shown_nearly_equal,
    verdict_words,
)
from ..study.yardsticks import paired_comparison

Standing = Literal["against", "agrees", "not_settled"]
Claim = Literal["alike", "better", "nearly_equal"]

#: The pairs the paper makes a claim about, and the claim.
CLAIMS: tuple[tuple[str, str, Claim], ...] = (
    ("grad_cam_plus_plus", "grad_cam_plus", "alike"),
    ("grad_cam_plus_plus", "grad_cam", "better"),
    ("grad_cam_plus", "grad_cam", "better"),
)

#: How each standing opens its clauses in a headline sentence, in the order the sentence gives them.
STANDING_WORDS: dict[Standing, str] = {
    "against": "Against the paper",
    "agrees": "As the paper",
    "not_settled": "Not settled",
}


def standing(claim: Claim, verdict: Verdict | str) -> Standing:
    """Whether a verdict on a pair agrees with the paper's claim about it, goes against it, or settles nothing.

    >>> standing("alike", "second_ahead"), standing("better", "alike"), standing("better", "not_separated")
    ('against', 'against', 'not_settled')
    """
    verdict = Verdict(verdict)
    if verdict in (Verdict.NOT_SEPARATED, Verdict.TOO_FEW_IMAGES):
        return "not_settled"
    if claim == "alike":
        return "agrees" if shown_alike(verdict) else "against"
    if claim == "better":
        return "agrees" if verdict == Verdict.FIRST_AHEAD else "against"
    return "agrees" if shown_nearly_equal(verdict) else "against"


def findings(results: LayerResults, kind: ScoreKind, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Every finding about the paper's claims at one layer and score kind (rows): the evidence (``"relative
    performance"``, ``"heatmaps"`` or a yardstick), the pair, the claim, the verdict, the standing, a clause
    that states it with its numbers, and the evidence the clause covers (``covers``: yardsticks that give one pair
    the same verdict share one clause, one row)."""
    statistics = results.statistics(threshold).xs(kind, level="score")
    similarity = results.heatmap_similarity(threshold).xs(kind, level="score")
    records = []
    for first, second, claim in CLAIMS:
        names = METHOD_LABELS[first], METHOD_LABELS[second]
        row = statistics[(statistics["first"] == first) & (statistics["second"] == second)].iloc[0]
        # The declared margin decides "alike"; the strict one, that a gain is more than negligible.
        margin = EQUIVALENCE_MARGIN if claim == "alike" else STRICT_EQUIVALENCE_MARGIN
        verdict = row[verdict_column(margin)]
        records.append({
            "evidence": "relative performance", "first": first, "second": second, "claim": claim,
            "verdict": verdict, "standing": standing(claim, verdict),
            "clause": f"{names[0]} vs {names[1]} by relative performance "
                      f"{interval(row['relative_performance'], row['ci_low'], row['ci_high'])}: "
                      f"{verdict_words(verdict, *names)} at the {percent(margin, 0)} margin",
        })
        if claim == "alike":
            found = similarity.loc[pair_id(first, second)]
            records.append({
                "evidence": "heatmaps", "first": first, "second": second, "claim": "nearly_equal",
                "verdict": found["verdict"], "standing": standing("nearly_equal", found["verdict"]),
                "clause": f"the {names[0]} and {names[1]} heatmaps are {verdict_words(found['verdict'])} (median overlap of the top "
                          f"{percent(TOP_SHARE, 0)} of pixels {decimals(found['median_overlap'], 2)}, median "
                          f"correlation {decimals(found['median_correlation'], 3)})",
            })
        comparison = paired_comparison(results, kind, first, second, threshold, yardsticks=YARDSTICKS)
        for yardstick, found in comparison.iterrows():
            records.append({
                "evidence": yardstick, "first": first, "second": second, "claim": claim,
                "verdict": found["verdict"], "standing": standing(claim, found["verdict"]), "clause": None,
            })
    frame = pd.DataFrame.from_records(records)
    frame["covers"] = [(e,) for e in frame["evidence"]]  # the evidence each row's clause covers
    # Yardsticks giving one pair the same verdict share one clause: "under Average Drop % and Win %, ...".
    for (first, second, verdict), group in frame[frame["clause"].isna()].groupby(
            ["first", "second", "verdict"], sort=False):
        names = METHOD_LABELS[first], METHOD_LABELS[second]
        words = verdict_words(verdict, *names)
        if verdict in (Verdict.FIRST_AHEAD, Verdict.SECOND_AHEAD):
            subject = f"{words} of {names[1] if verdict == Verdict.FIRST_AHEAD else names[0]}"
        else:
            subject = f"{names[0]} and {names[1]} are {words}"
        frame.loc[group.index[0], "clause"] = f"under {listing(label(y) for y in group['evidence'])}, {subject}"
        frame.at[group.index[0], "covers"] = tuple(group["evidence"])
        frame = frame.drop(index=group.index[1:])
    return frame.reset_index(drop=True)


def layer_kinds(study: StudyResults) -> dict[str, LayerResults]:
    """The study's layers by the role they play (:meth:`~gradcam_study.study.StudyResults.role_layers`), keyed by
    the role's label (``"last map"``, ``"inner layer, signed"``, ``"inner layer, non-negative"``)."""
    return {ROLE_LABELS[role]: study.at(layer) for role, layer in study.role_layers().items()}


def headline(layers: Mapping[str, LayerResults], threshold: float = DEFAULT_THRESHOLD) -> str:
    """The headline as Markdown: per kind of layer (``layers`` maps its name, e.g. ``"last map"``, to its results)
    and score kind, one item that states first what goes against the paper, then what agrees with it, then what
    is not settled, each clause with its numbers."""
    items = []
    for name, results in layers.items():
        for kind in results.score_kinds:
            found = findings(results, kind, threshold)
            # Evidence without a verdict is named once, at the end, not pair by pair.
            few = found["verdict"] == Verdict.TOO_FEW_IMAGES.value
            parts = [f"{STANDING_WORDS[s]}: {'; '.join(found.loc[~few & (found['standing'] == s), 'clause'])}."
                     for s in STANDING_WORDS if (~few & (found["standing"] == s)).any()]
            if few.any():
                evidence = dict.fromkeys(label(e) for covers in found.loc[few, "covers"] for e in covers)
                parts.append(f"No verdict under {listing(evidence)} (fewer than {verdicts.MIN_IMAGES_FOR_VERDICT} "
                             "images).")
            items.append(f"- **{name}, {results.provenance.layer}, {SCORE_KIND_LABELS[kind]}.** {' '.join(parts)}")
    return "\n".join(items)


__all__ = ["CLAIMS", "STANDING_WORDS", "findings", "headline", "layer_kinds", "standing"]
