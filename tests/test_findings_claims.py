"""The paper's claims, checked: the readings the chapter "Conclusions" glues, from frames whose verdicts are known."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from gradcam_study import paper
from gradcam_study.findings import claims
from gradcam_study.methods import METHOD_PAIRS, PLUS_PAIR_ID, pair_id
from gradcam_study.study.results import raw_tost_column, with_verdicts
from gradcam_study.study.verdicts import SHOWN_MARGINS, Verdict

KINDS = ("pre_softmax", "post_softmax")
GCPP_GC, GCP_GC = "grad_cam_plus_plus/grad_cam", "grad_cam_plus/grad_cam"

#: Raw numbers that make each verdict (40 images: enough for one).
OUTCOMES: dict[str, dict[str, float]] = {
    Verdict.ALIKE.value: {"relative_performance": 1.001, "ci_low": 0.999, "ci_high": 1.003, "p_value": 0.5,
        "median_log_ratio": 0.0, "tost": 1e-6},
    Verdict.FIRST_AHEAD.value: {"relative_performance": 1.3, "ci_low": 1.2, "ci_high": 1.4, "p_value": 1e-8,
        "median_log_ratio": 0.2, "tost": 0.9},
    Verdict.SECOND_AHEAD.value: {"relative_performance": 0.8, "ci_low": 0.7, "ci_high": 0.9, "p_value": 1e-8,
        "median_log_ratio": -0.2, "tost": 0.9},
    Verdict.NOT_SEPARATED.value: {"relative_performance": 1.0, "ci_low": 0.8, "ci_high": 1.2, "p_value": 0.5,
        "median_log_ratio": 0.0, "tost": 0.5},
}


def statistics(outcomes: dict[tuple[str, str], str], images: int = 40) -> pd.DataFrame:
    """A statistics frame (as :meth:`LayerResults.statistics`) whose verdict at each (pair, kind) is ``outcomes``'
    (not separated where not named), decided by the study's own rule from raw numbers."""
    records = []
    for kind in KINDS:
        for first, second in METHOD_PAIRS:
            pair = pair_id(first, second)
            numbers = dict(OUTCOMES[outcomes.get((pair, kind), Verdict.NOT_SEPARATED.value)])
            tost = numbers.pop("tost")
            records.append({"methods": pair, "score": kind, "first": first, "second": second, "images": images,
                            "identical": False, **numbers, **{raw_tost_column(m): tost for m in SHOWN_MARGINS}})
    return with_verdicts(pd.DataFrame.from_records(records).set_index(["methods", "score"]))


def similarity(overlap: float, overlap_with_grad_cam: float = 0.5) -> pd.DataFrame:
    rows = []
    for kind in KINDS:
        for first, second in METHOD_PAIRS:
            pair = pair_id(first, second)
            value = overlap if pair == PLUS_PAIR_ID else overlap_with_grad_cam
            verdict = Verdict.NEARLY_EQUAL.value if value >= 0.9 else Verdict.DIFFERENT.value
            rows.append({"methods": pair, "score": kind, "median_overlap": value, "median_correlation": 0.99,
                         "verdict": verdict})
    return pd.DataFrame(rows).set_index(["methods", "score"])


@dataclass
class Layer:
    """Just what the readings ask of a :class:`~gradcam_study.study.LayerResults`."""

    frame: pd.DataFrame
    similar: pd.DataFrame
    far: int = 0
    layer: str = "_avg_pooling (input)"
    score_kinds: tuple[str, ...] = KINDS
    images: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"probability": np.linspace(0, 1, 40)}))

    @property
    def provenance(self) -> SimpleNamespace:
        return SimpleNamespace(layer=self.layer, model="efficientnet_lite0", profile="quick", dataset="sample",
                               images=len(self.images), device="cpu")

    def statistics(self, threshold: float = 0.5, pairs=METHOD_PAIRS) -> pd.DataFrame:
        wanted = [pair_id(*pair) for pair in pairs]
        return self.frame[self.frame.index.get_level_values("methods").isin(wanted)]

    def heatmap_similarity(self, threshold: float = 0.5, pairs=METHOD_PAIRS) -> pd.DataFrame:
        wanted = [pair_id(*pair) for pair in pairs]
        return self.similar[self.similar.index.get_level_values("methods").isin(wanted)]

    def require_kept(self, threshold: float = 0.5) -> pd.DataFrame:
        return self.images[self.images["probability"] > threshold]

    def alpha_extremes(self, kind: str) -> pd.Series:
        return pd.Series({"nonzero_alphas": 1000, "alpha_min": -3.0 if self.far else 0.4,
                          "alpha_max": 0.6, "far_from_half": self.far, "images_far_from_half": min(self.far, 1),
                          "share_near_half": 0.9, "closest_to_pole": 1.5})

    def alpha_arrays(self, kind: str) -> SimpleNamespace:
        return SimpleNamespace(alphas=np.linspace(0.45, 0.55, 101))


def test_the_criteria_are_worded_from_their_declared_values() -> None:
    words = claims.criterion_words()
    assert "margin of 5%" in words["alike"] and "between 0.952 and 1.050" in words["alike"]
    assert words["better"].startswith('the verdict "ahead" at the 1% margin')
    assert 'neither alike nor one ahead' in claims.claims_criteria()
    assert claims.claims_criteria(same_setting=False).endswith("another model and data set.")


def test_the_setting_names_the_study_and_says_when_it_is_not_the_papers() -> None:
    layer = Layer(statistics({}), similarity(0.95))
    reading = claims.setting_reading(layer, threshold=0.5)
    assert reading["study-kept"] == "20" and reading["paper-images"] == "10,000"
    assert reading["settings-differ"].startswith(" The two settings differ")
    assert claims.setting_reading(layer, threshold=0.5, same_setting=True)["settings-differ"] == ""


def test_the_plus_items_say_whether_equivalence_is_shown() -> None:
    frame = statistics({(PLUS_PAIR_ID, "post_softmax"): Verdict.ALIKE.value})
    pre, post = claims.plus_items(frame).split("\n")
    assert pre.startswith("- With pre-softmax explanation maps") and "(paper: 1.06)" in pre
    assert "does not show that the two methods perform alike" in pre
    assert "The equivalence test shows that" in post and "(paper: 1.01)" in post


def test_against_grad_cam_the_verdict_at_the_strict_margin_names_the_method_ahead() -> None:
    frame = statistics({(GCPP_GC, "pre_softmax"): Verdict.FIRST_AHEAD.value,
                        (GCP_GC, "pre_softmax"): Verdict.SECOND_AHEAD.value})
    items = claims.grad_cam_items(frame).split("\n")
    assert len(items) == 4
    assert items[0].startswith("- Grad-CAM++ vs Grad-CAM, pre-softmax:") and "**Grad-CAM++ ahead**" in items[0]
    assert "**Grad-CAM ahead**" in items[1] and "(paper: 1.16, better, as a point value)" in items[1]


def test_the_same_distance_from_grad_cam_needs_equivalence_at_every_score_kind() -> None:
    both = {(PLUS_PAIR_ID, kind): Verdict.ALIKE.value for kind in KINDS}
    assert claims.distance_clause(statistics(both)) == "stand at nearly the same distance from Grad-CAM"
    one = {(PLUS_PAIR_ID, "pre_softmax"): Verdict.ALIKE.value}
    assert claims.distance_clause(statistics(one)).startswith("are not shown")


def test_the_log_gap_and_the_narrowest_spread_of_the_papers_tables() -> None:
    # log 1.24 - log 1.16 and log 1.27 - log 1.25.
    assert claims.log_gaps(paper.table1()) == "0.0667 (pre-softmax) and 0.0159 (post-softmax)"
    assert claims.narrowest_spread(paper.table2(), 2, beside=None) == (
        "Grad-CAM++ vs Grad-CAM+'s with pre-softmax maps (std 0.41); "
        "Grad-CAM++ vs Grad-CAM+'s with post-softmax maps (std 0.11)")
    assert "against 0.64 for Grad-CAM++ vs Grad-CAM" in claims.narrowest_spread(paper.table2(), 2)


def test_layer_count_in_words() -> None:
    assert [claims.layer_count(n) for n in (1, 2, 5)] == ["one layer", "two layers", "5 layers"]


def test_the_spread_tells_the_means_story_only_where_the_plus_pair_is_narrowest() -> None:
    table2 = paper.table2()
    assert claims.spread_story(table2) == "The per-image spread tells the same story as the means."
    wider = table2.copy()
    wider.loc[PLUS_PAIR_ID, ("post_softmax", "std")] = 10.0
    assert claims.spread_story(wider).startswith("The per-image spread does not single out Grad-CAM++ vs Grad-CAM+")


def test_the_claims_table_reads_each_verdict() -> None:
    frame = statistics({(PLUS_PAIR_ID, "pre_softmax"): Verdict.SECOND_AHEAD.value,
                        (PLUS_PAIR_ID, "post_softmax"): Verdict.ALIKE.value,
                        (GCPP_GC, "pre_softmax"): Verdict.FIRST_AHEAD.value,
                        (GCP_GC, "pre_softmax"): Verdict.SECOND_AHEAD.value})
    table = claims.claims_table(Layer(frame, similarity(0.95), far=3))
    held = table["held"]
    assert list(table.index.get_level_values("claim").unique()) == list(claims.CLAIM_LABELS)
    assert held[("performs_like_plus", "pre_softmax")] == "no (Grad-CAM+ ahead)"
    assert held[("performs_like_plus", "post_softmax")] == "yes"
    assert held[("plus_plus_better", "pre_softmax")] == "yes"
    assert held[("plus_better", "pre_softmax")] == "no (reversed)"
    assert held[("plus_better", "post_softmax")] == "not separated"
    assert held[("alphas_unstable", "pre_softmax")] == "yes"
    assert held[("heatmaps_nearly_equal", "pre_softmax")] == "yes"
    assert table.loc[("alphas_unstable", "pre_softmax"), "this_build"] == "3 alphas with |α − 1/2| > 1/2"
    assert claims.shown_claims(table).data.columns.tolist() == ["paper", "this build", "held"]


def test_below_the_minimum_the_claims_table_gives_no_verdict() -> None:
    table = claims.claims_table(Layer(statistics({}, images=5), similarity(0.3)))
    assert table.loc[("plus_better", "pre_softmax"), "held"].startswith("no verdict (fewer than")
    assert table.loc[("performs_like_plus", "pre_softmax"), "held"].startswith("no verdict (fewer than")
    assert table.loc[("heatmaps_nearly_equal", "pre_softmax"), "held"] == "no"


def test_the_inner_layer_items_say_for_which_score_kinds_the_claim_held() -> None:
    last = Layer(statistics({}), similarity(0.95))
    assert "there is no inner layer to add" in claims.inner_items(last, None)
    inner = Layer(statistics({(PLUS_PAIR_ID, "post_softmax"): Verdict.ALIKE.value}), similarity(0.95), far=7,
                  layer="_blocks.15")
    unstable, alike = claims.inner_items(last, inner).split("\n")
    assert unstable.startswith("- **Alphas numerically unstable, at _blocks.15: held.**")
    assert "(at _avg_pooling (input): 0 such alphas)" in unstable
    assert "held for post-softmax maps but not for pre-softmax maps" in alike


def test_the_alpha_items_report_the_instability_only_where_an_alpha_strays() -> None:
    quiet = claims.alpha_heatmap_items(Layer(statistics({}), similarity(0.95)))
    assert quiet.count("does not show up here") == 2
    assert "the first pair's heatmaps are nearly equal and the second pair's are not" in quiet
    stray = claims.alpha_heatmap_items(Layer(statistics({}), similarity(0.5, 0.95), far=2))
    assert "2 alphas in 1 images are more than 1/2 away from 1/2" in stray
    assert "the first pair's heatmaps are not nearly equal and the second pair's are" in stray


def test_along_the_depth_alike_needs_nearly_equal_heatmaps_too() -> None:
    alike = {(PLUS_PAIR_ID, kind): Verdict.ALIKE.value for kind in KINDS}
    layers = {"a": Layer(statistics(alike), similarity(0.95)), "b": Layer(statistics(alike), similarity(0.5)),
              "c": Layer(statistics({(PLUS_PAIR_ID, "pre_softmax"): Verdict.SECOND_AHEAD.value}), similarity(0.95))}
    depth = SimpleNamespace(config=SimpleNamespace(score_kinds=KINDS, model="efficientnet_lite0"), images=range(40))
    pre, post = claims.depth_items(depth, layers).split("\n")
    assert "shown alike with nearly equal heatmaps at 1 of 3 layers (a)" in pre
    assert "Grad-CAM+ is ahead of Grad-CAM++ at c." in pre and "Grad-CAM+ is ahead" not in post


def test_across_models_the_items_count_the_settings_and_name_those_left_out() -> None:
    rows = []
    for kind in KINDS:
        for setting, equivalent, correlation in (("m at x", True, 0.999), ("m at y", kind == "post_softmax", 0.98)):
            rows.append({"kind": kind, "quantity": "relative_performance", "pair": PLUS_PAIR_ID, "setting": setting,
                         "equivalent": equivalent, "value": 1.0})
            rows.append({"kind": kind, "quantity": "median_correlation", "pair": "", "setting": setting,
                         "equivalent": False, "value": correlation})
    text = claims.architecture_items(pd.DataFrame(rows), {"m": object(), "vgg16": "vgg16 is left out: no weights."})
    pre, post, left = text.split("\n")
    assert "shown alike at 1 of 2 settings (not at m at y)" in pre and "0.9800" in pre
    assert "shown alike at all 2 settings" in post
    assert left == "- Left out for want of weights on this machine: vgg16."
