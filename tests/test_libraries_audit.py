"""The audit run (:mod:`gradcam_study.libraries.audit`): every library at one layer, end to end, on the synthetic
results of :mod:`libraries_setting`."""

from __future__ import annotations

import libraries_setting
import numpy as np
import pytest
import torch
from libraries_setting import INNER

from gradcam_study import libraries as L

#: What each installed library's Grad-CAM++ is pinned to at features.3 (see tests/test_libraries_adapters.py).
PINNED = {"gradcam_study": "eq9", "pytorch-grad-cam": "eq9_eps1e-6", "torchcam": "undivided",
          "medcam": "sum_denominator_eps1e-7"}

# The shared fixtures, by assignment (pytest finds fixtures among a module's names), with those they depend on.
setting = libraries_setting.setting
synthetic_results = libraries_setting.synthetic_results
small_audit = libraries_setting.small_audit


def test_audit_layer_end_to_end_with_an_absent_and_a_raising_library(small_audit) -> None:
    audit = small_audit
    assert list(audit.index.get_level_values("library").unique()) == ["gradcam_study", "absent", "raising"]
    assert (audit["images"] == 3).all() and audit.attrs["layer"] == INNER
    control = audit.loc[("gradcam_study", "grad_cam_plus_plus")]
    assert control["status"] == "ok" and control["formula"] == "eq9" and control["deviation"] < 1e-6
    # The audit's protocol reproduces the study's stored eq. 9 scores: relative performance exactly 1.
    assert control["relative_performance"] == pytest.approx(1, abs=1e-6)
    assert control["median_correlation"] == pytest.approx(1)
    assert audit.loc[("absent", "grad_cam_plus_plus"), "status"].startswith("not installed")
    assert audit.loc[("raising", "grad_cam_plus_plus"), "status"] == "error: RuntimeError: cannot hook features.3"


def test_audit_images_are_an_evenly_spread_subset_of_the_kept(synthetic_results) -> None:
    results, _ = synthetic_results
    assert L.audit_images(results, limit=3) == [0, 2, 3] and L.audit_images(results, limit=None) == [0, 1, 2, 3]


def test_audit_provenance_names_the_subset(synthetic_results) -> None:
    results, _ = synthetic_results
    caption = L.audit_provenance(results, [0, 2]).caption(score_kind="pre_softmax", kept=2)
    assert "an evenly spread subset of 2 of the 4 images kept at threshold 0.5" in caption
    assert "all of the 4 images" in L.audit_provenance(results, [0, 1, 2, 3]).caption(kept=4)


def test_audit_layer_identifies_every_installed_library(synthetic_results) -> None:
    results, classifier = synthetic_results
    audit = L.audit_layer(results, classifier, L.audit_images(results, limit=None), resamples=50)
    for library, candidate in PINNED.items():
        row = audit.loc[(library, "grad_cam_plus_plus")]
        if row["status"].startswith("not installed"):
            continue
        assert row["status"] == "ok" and row["formula"] == candidate and row["matches"] == candidate, library
        assert row["capture_deviation"] < 1e-6 or np.isnan(row["capture_deviation"]), library
        assert audit.loc[(library, "grad_cam"), "formula"] == "grad_cam", library


def test_score_identified_scores_every_kept_image(small_audit, synthetic_results) -> None:
    results, classifier = synthetic_results
    scored = L.score_identified(small_audit, results, classifier, resamples=50)
    control = scored.loc[("gradcam_study", "grad_cam_plus_plus")]
    assert control["scored_images"] == 4 and control["relative_performance"] == pytest.approx(1, abs=1e-6)
    assert control["ci_low"] <= 1 <= control["ci_high"] or control["ci_high"] - control["ci_low"] < 1e-6
    # Rows that are not "ok" are left as they were.
    assert np.isnan(scored.loc[("absent", "grad_cam_plus_plus"), "scored_images"])


def test_medcam_heatmap_is_the_float32_evaluation_where_float64_misses() -> None:
    """A near-pole unit: the float32 and float64 values of the same formula differ; float32_residual reports the
    float32 one for a library whose own A and g are known."""
    activations = torch.tensor([[[[1.0, -1.0], [0.5, 2.0]]]])
    gradients = torch.tensor([[[[0.3, 0.2], [-0.1, 0.25]]]])
    weights32 = L.sum_denominator_weights(activations.float(), gradients.float(), 1e-7, dtype=torch.float32)
    output = L.LibraryOutput(weights32, torch.zeros(1, 2, 2), activations=activations.double(), gradients=gradients.double())
    report = L.best_match(weights32, activations, gradients, {"sum_denominator_eps1e-7": L.CANDIDATES["sum_denominator_eps1e-7"]},
                          tolerance=0.0)
    run = L.LibraryRun("x", "grad_cam_plus_plus", "ok", "1", output, report)
    if report.matched:
        pytest.skip("float32 and float64 agree exactly on this example")
    assert L.float32_residual(run) == 0


def test_float32_residual_is_nan_where_there_is_nothing_to_explain() -> None:
    assert np.isnan(L.float32_residual(L.LibraryRun("x", "grad_cam", "not installed")))


def test_capture_deviation_is_nan_without_the_library_capture_and_zero_for_the_same_capture(setting) -> None:
    activations, gradients = setting[3][INNER]
    assert np.isnan(L.capture_deviation(L.LibraryOutput(None, torch.zeros(3, 8, 8)), activations, gradients))
    same = L.LibraryOutput(None, torch.zeros(3, 8, 8), activations=activations, gradients=gradients)
    assert L.capture_deviation(same, activations, gradients) == 0
    moved = L.LibraryOutput(None, torch.zeros(3, 8, 8), activations=activations * 1.5, gradients=gradients)
    assert L.capture_deviation(moved, activations, gradients) == pytest.approx(1 / 3)


def test_compare_uses_the_library_capture_where_it_has_one(setting) -> None:
    activations, gradients = setting[3][INNER]
    weights = L.undivided_weights(activations, gradients)
    own = L.LibraryOutput(weights, torch.zeros(3, 8, 8), activations=activations, gradients=gradients)
    run = L.compare(L.LibraryRun("x", "grad_cam_plus_plus", "ok", "1", own), activations * 0, gradients * 0)
    assert run.match.best.candidate == "undivided" and run.match.matched
    assert L.compare(L.LibraryRun("x", "grad_cam", "not installed"), activations, gradients).match is None


def test_audit_limit_is_ten_times_larger_outside_the_quick_profile() -> None:
    assert L.audit_limit("quick") == L.AUDIT_IMAGES and L.audit_limit("full") == 10 * L.AUDIT_IMAGES
