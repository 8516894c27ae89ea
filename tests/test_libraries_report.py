"""The audit's tables and sentences (:mod:`gradcam_study.libraries.report`): on the synthetic audit of
:mod:`libraries_setting`, and on hand-made rows where a sentence depends on a case the audit cannot produce."""

from __future__ import annotations

import math

import libraries_setting
import pandas as pd
import pytest
from libraries_setting import INNER

from gradcam_study import libraries as L

# The shared fixtures, by assignment (pytest finds fixtures among a module's names), with those they depend on.
setting = libraries_setting.setting
synthetic_results = libraries_setting.synthetic_results
small_audit = libraries_setting.small_audit


def row(**values: object) -> dict[str, object]:
    """An ``audit_layer`` row of an "ok" Grad-CAM++ that matches eq. 9 on 3 of 3 images, with ``values`` changed."""
    base = {"library": "lib", "method": "grad_cam_plus_plus", "class": "Cam", "version": "1.0", "status": "ok",
            "images": 3, "formula": "eq9", "residuals": {"eq9": 2e-7, "undivided": 0.5}, "residual": 2e-7,
            "images_matched": 3, "matches": "eq9", "compared": "weights", "factor": 1.0, "float32_residual": math.nan,
            "capture_deviation": math.nan, "deviation": 3e-7, "deviation_up_to_factor": 2e-7,
            "heatmap_deviation": 1e-7, "median_correlation": 1.0, "relative_performance": 1.01, "ci_low": 0.99,
            "ci_high": 1.03, "relative_performance_vs_grad_cam_plus": 0.97, "ci_low_vs_grad_cam_plus": 0.95,
            "ci_high_vs_grad_cam_plus": 0.99}
    return {**base, **values}


def audit(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows)).set_index(["library", "method"])


def statistics(low: float, high: float, equivalent: bool = True) -> pd.DataFrame:
    """A ``LayerResults.statistics`` frame with Grad-CAM++ against Grad-CAM+ (and other rows as decoys)."""
    pair = {"methods": "grad_cam_plus_plus/grad_cam_plus", "score": "pre_softmax", "images": 21,
            "relative_performance": (low + high) / 2, "ci_low": low, "ci_high": high, "equivalent": equivalent,
            "tost_p_value": 0.013}
    decoy = {**pair, "methods": "grad_cam_plus_plus/grad_cam", "ci_low": 2.0, "ci_high": 3.0}
    post = {**pair, "score": "post_softmax", "ci_low": 2.0, "ci_high": 3.0}
    return pd.DataFrame([decoy, pair, post]).set_index(["methods", "score"])


# --- tables ------------------------------------------------------------------------------------------------------


def test_tables_of_the_audit_show_errors_and_absences_as_text(small_audit) -> None:
    formulas, performance = L.formula_table(small_audit), L.performance_table(small_audit)
    assert formulas.index.names == ["library", "method"]
    assert formulas.loc[("gradcam_study", "Grad-CAM++"), "formula (best match)"] == "eq. 9"
    assert formulas.loc[("absent", "Grad-CAM++"), "formula (best match)"].startswith("not installed")
    assert formulas.loc[("raising", "Grad-CAM"), "formula (best match)"].startswith("error: RuntimeError")
    assert performance.loc["gradcam_study", "relative performance vs eq. 9's Grad-CAM++ [95% CI]"].startswith("1.000 [")
    assert performance.loc["raising", "largest relative weight deviation from eq. 9"].startswith("error")
    assert list(performance.index) == ["gradcam_study", "absent", "raising"]


def test_a_missing_value_is_a_dash_never_nan() -> None:
    frame = audit(row(residual=math.nan, capture_deviation=math.nan, median_correlation=math.nan,
                      relative_performance=math.nan))
    formulas, performance = L.formula_table(frame), L.performance_table(frame)
    assert formulas.loc[("lib", "Grad-CAM++"), "residual"] == "–"
    assert formulas.loc[("lib", "Grad-CAM++"), "its A and g vs the package's"] == "–"
    assert performance.loc["lib", "median heatmap correlation with eq. 9"] == "–"
    assert performance.loc["lib", "relative performance vs eq. 9's Grad-CAM++ [95% CI]"] == "–"
    assert not formulas.map(lambda cell: "nan" in str(cell)).any().any()
    assert performance.loc["lib", "largest relative weight deviation from eq. 9"] == "3e-07"


def test_formula_text_shows_a_factor_and_a_partial_match() -> None:
    factor = L.formula_table(audit(row(factor=2.0)))
    assert factor.loc[("lib", "Grad-CAM++"), "formula (best match)"] == "eq. 9 × 2"
    partial = L.formula_table(audit(row(formula="sum_denominator_eps1e-7", residual=0.02, images_matched=2,
                                        matches="", compared="heatmaps", float32_residual=1e-6)))
    assert partial.loc[("lib", "Grad-CAM++"), "formula (best match)"] == (
        "ΣAg³ denominator + ε=1e-7 (within 0.0001 on 2 of 3 images in float64, and on all 3 when evaluated in "
        "float32, as the library computes it)")


# --- sentences -------------------------------------------------------------------------------------------------


def test_findings_say_what_each_library_computes_and_leave_the_control_out(small_audit) -> None:
    sentences = L.findings({INNER: small_audit})
    assert len(sentences) == 2 and not any("gradcam_study" in s for s in sentences)
    assert sentences[0] == "**absent** is not installed (pip install no-such-distribution-xyz==9.9): its rows are empty."
    # RAISING is torch under another name: its version is torch's.
    assert sentences[1].startswith("**raising ") and sentences[1].endswith(
        "**: `Raising`; at features.3 it raised RuntimeError: cannot hook features.3; "
        "`Raising`; at features.3 it raised RuntimeError: cannot hook features.3.")


def test_a_finding_over_two_layers_names_the_formula_and_its_residual_at_each() -> None:
    last = audit(row(formula="undivided", matches="undivided", residuals={"undivided": 1e-7}, residual=1e-7))
    inner = audit(row(formula="undivided", matches="undivided", residuals={"undivided": 3e-7}, residual=3e-7))
    assert L.findings({"pool:input": last, "features.3": inner}) == [
        ("**lib 1.0**: `Cam` computes the undivided squared gradients, w = Σ ReLU(g)³ at every layer audited "
         "(residual 1e-07 at pool (input); 3e-07 at features.3), not eq. 9.")]


def test_consistent_formula_uses_the_layer_that_tells_the_candidates_apart() -> None:
    constant = pd.Series({"matches": "eq9_eps1e-7, sum_denominator_eps1e-7", "formula": "eq9_eps1e-7"})
    varying = pd.Series({"matches": "", "formula": "sum_denominator_eps1e-7"})
    assert L.consistent_formula([constant, varying], "grad_cam_plus_plus") == "sum_denominator_eps1e-7"
    assert L.consistent_formula([constant], "grad_cam_plus_plus") == "eq9_eps1e-7"
    assert L.consistent_formula([varying, pd.Series({"matches": "undivided", "formula": "undivided"})],
                                "grad_cam_plus_plus") is None
    assert L.consistent_formula([], "grad_cam") is None


def test_pair_statistics_finds_the_pair_and_the_score_kind() -> None:
    found = L.pair_statistics(statistics(0.95, 0.99), "grad_cam_plus_plus", "grad_cam_plus", "pre_softmax")
    assert (found["ci_low"], found["ci_high"]) == (0.95, 0.99)


@pytest.mark.parametrize(("low", "high", "verdict"), [(0.95, 0.99, "worse"), (1.01, 1.1, "better"),
                                                      (0.98, 1.02, "not distinguishable")])
def test_study_verdicts_read_the_interval(low, high, verdict) -> None:
    found, clause = L.study_verdicts({"features.3": statistics(low, high)})["features.3"]
    assert found == verdict and clause.startswith("at features.3 with pre-softmax maps, Grad-CAM++ against Grad-CAM+")
    assert "over the study's 21 kept images" in clause and "TOST p = 0.013" in clause


def test_recommendations_lead_with_the_study_verdict_then_each_library(small_audit, synthetic_results) -> None:
    results, _ = synthetic_results
    advice = L.recommendations({INNER: small_audit}, {INNER: results.statistics(resamples=50)})
    assert advice[0].startswith("**Grad-CAM")
    assert "**absent**: not installed (pip install no-such-distribution-xyz==9.9); nothing to say." in advice
    assert "**raising**: raised RuntimeError: cannot hook features.3; nothing to say." in advice
    better = L.recommendations({"features.3": audit(row())}, {"features.3": statistics(1.01, 1.1)})
    assert better[0].startswith("**Grad-CAM++ or Grad-CAM+.** Grad-CAM++ scores better than Grad-CAM+ at features.3: ")
    worse = L.recommendations({"features.3": audit(row())}, {"features.3": statistics(0.95, 0.99)})
    assert worse[0].startswith("**Grad-CAM+ rather than Grad-CAM++.** No interval")


def test_a_library_that_computes_eq9_is_told_the_findings_apply_and_one_that_does_not_is_warned() -> None:
    eq9 = L.recommendations({"features.3": audit(row(library="pytorch-grad-cam", formula="eq9_eps1e-6",
                                                     matches="eq9_eps1e-6"))},
                            {"features.3": statistics(0.95, 0.99)})[1]
    assert eq9.startswith("**pytorch-grad-cam users**: `Cam` is eq. 9 (eq. 9 + ε=1e-6)")
    assert "1.010 [0.990, 1.030] against eq. 9's Grad-CAM++ (not distinguishable)" in eq9
    assert "0.970 [0.950, 0.990] against Grad-CAM+ (worse)" in eq9 and "gradcam_study.compat.GradCAMPlus" in eq9
    other = L.recommendations({"features.3": audit(row(formula="undivided", matches="undivided"))},
                              {"features.3": statistics(0.95, 0.99)})[1]
    assert other.startswith("**lib users**: `Cam` is not the Grad-CAM++ of eq. 9 but the undivided squared gradients")
    assert "grad_cam_plus_weights(A, g)" in other


def test_every_installed_library_gets_a_recommendation(synthetic_results) -> None:
    results, classifier = synthetic_results
    full = L.audit_layer(results, classifier, L.audit_images(results, limit=None), resamples=50)
    sentences = L.recommendations({INNER: full}, {INNER: results.statistics(resamples=50)})
    assert len(sentences) == len(L.LIBRARIES)  # the lead sentence, then each library but the control
    for name, library in L.LIBRARIES.items():
        if name != "gradcam_study" and library.missing() is None:
            sentence = next(s for s in sentences if s.startswith(f"**{name} users**"))
            assert ("is eq. 9" in sentence) == (name == "pytorch-grad-cam"), sentence


def test_audit_scope_describes_the_subset_and_the_versions() -> None:
    absent = {"absent": L.Library("absent", "no-such-distribution-xyz", "no_such_module_xyz", None, {}, {})}
    scope = L.audit_scope("efficientnet_lite0", ["_avg_pooling:input", "_blocks.15"], 48, 800, 0.5, absent)
    assert scope == {"model": "efficientnet_lite0", "layers": "_avg_pooling (input), _blocks.15", "audited": "48",
                     "kept": "800", "threshold": "0.5", "subset": "an evenly spread subset",
                     "versions": "absent (not installed)"}


def test_compat_sentence_reports_the_correlation_and_its_provenance(synthetic_results) -> None:
    results, _ = synthetic_results
    sentence = L.compat_sentence(results, 2, 0.999996)
    assert sentence.startswith(
        "On image 2 at features.3, the Pearson correlation of `GradCAMPlus`'s heatmap with the package's Grad-CAM+ "
        "heatmap, both upsampled to the image, is 1.00000 (the two upsample with different bilinear kernels; at "
        "feature-map resolution they agree to 1e-5).\n\n*")
    assert "image 2, the typical one, of the 4 images kept at threshold 0.5" in sentence and sentence.endswith("*")
    missing = L.compat_sentence(results, 2, None, "not installed (pip install grad-cam==1.5.7)")
    assert missing == "pytorch-grad-cam is not installed (pip install grad-cam==1.5.7): the example did not run."
