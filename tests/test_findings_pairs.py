"""A pair's reading: the numbers and verdicts of a statistics frame, and the clauses built from them."""

from __future__ import annotations

import pandas as pd
import pytest

from gradcam_study.findings.pairs import (
    POSITIVE_GRADIENTS_PAIR_ID,
    alphas_move_less,
    alphas_move_less_by_kind,
    alphas_move_less_clause,
    held_for,
    read_pair,
    read_pairs,
)
from gradcam_study.methods import PLUS_PAIR_ID
from gradcam_study.study.results import tost_column, verdict_column
from gradcam_study.study.verdicts import (
    EQUIVALENCE_MARGIN,
    STRICT_EQUIVALENCE_MARGIN,
    Verdict,
)


def statistics(verdict_strict: str, verdict_wide: str, p_value: float = 0.2, median: float = 0.01) -> pd.DataFrame:
    row = {
        "first": "grad_cam_plus_plus", "second": "grad_cam_plus", "relative_performance": 0.99996,
        "ci_low": 0.98, "ci_high": 1.01, "p_value_holm": p_value, "median_log_ratio": median, "images": 40,
        "identical": False,
        verdict_column(STRICT_EQUIVALENCE_MARGIN): verdict_strict, verdict_column(EQUIVALENCE_MARGIN): verdict_wide,
        tost_column(STRICT_EQUIVALENCE_MARGIN): 0.3, tost_column(EQUIVALENCE_MARGIN): 0.0123,
    }
    index = pd.MultiIndex.from_tuples([("grad_cam_plus_plus/grad_cam_plus", "pre_softmax")], names=["methods", "score"])
    return pd.DataFrame([row], index=index)


def test_a_reading_carries_the_frames_numbers_and_verdicts() -> None:
    frame = statistics(Verdict.NOT_SEPARATED.value, Verdict.ALIKE.value)
    reading = read_pair(frame, "grad_cam_plus_plus/grad_cam_plus", "pre_softmax")
    assert reading.labels == ("Grad-CAM++", "Grad-CAM+") and reading.kind_label == "pre-softmax"
    # A ratio that rounds to 1 without being 1 is printed with more decimals.
    assert reading.interval == "0.99996 [0.980, 1.010]"
    assert reading.alike() and not reading.alike(STRICT_EQUIVALENCE_MARGIN)
    assert reading.verdict_words(STRICT_EQUIVALENCE_MARGIN) == "not separated"
    assert reading.tost() == "TOST p = 0.012 at 5%, Holm-adjusted"
    assert reading.wilcoxon() == "finds no systematic difference (p = 0.2)"
    assert list(read_pairs(frame)) == [("grad_cam_plus_plus/grad_cam_plus", "pre_softmax")]


def test_a_detected_difference_names_the_method_most_images_favour() -> None:
    reading = read_pair(statistics(Verdict.FIRST_AHEAD.value, Verdict.FIRST_AHEAD.value, p_value=0.001, median=-0.02),
                        "grad_cam_plus_plus/grad_cam_plus", "pre_softmax")
    assert reading.verdict_words() == "Grad-CAM++ ahead"
    assert "in favour of Grad-CAM+" in reading.wilcoxon() and "still" not in reading.wilcoxon()


@pytest.mark.parametrize(("held", "words"), [
    ({"pre_softmax": True, "post_softmax": True}, "held"),
    ({"pre_softmax": False, "post_softmax": False}, "not shown"),
    ({"pre_softmax": False, "post_softmax": True}, "held for post-softmax maps but not for pre-softmax maps"),
])
def test_held_for_names_the_score_kinds(held: dict[str, bool], words: str) -> None:
    assert held_for(held) == words


def test_alphas_move_less_compares_the_two_gaps_per_score_kind() -> None:
    # A ratio and its inverse are equally far from 1: the gap is |log R|, not R - 1.
    table = pd.DataFrame({"pre_softmax": [1.05, 1 / 1.04], "post_softmax": [1.01, 1.02]},
                         index=[POSITIVE_GRADIENTS_PAIR_ID, PLUS_PAIR_ID])
    assert alphas_move_less_by_kind(table) == {"pre_softmax": True, "post_softmax": False}
    assert not alphas_move_less(table)
    assert alphas_move_less_clause(table).startswith("In at least one column the alphas move the result more")
    assert alphas_move_less(table[["pre_softmax"]])
    assert alphas_move_less_clause(table[["pre_softmax"]]).endswith("as the paper's hypothesis predicts;")
