"""The chapters' readings of the sanity checks, on hand-made results whose medians and verdicts are known."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradcam_study.capture import ALL_SCORE_KINDS, SCORE_KINDS
from gradcam_study.methods import METHODS
from gradcam_study.findings import sanity as readings
from gradcam_study.sanity.checks import KIND_PAIRS, SanityConfig, SanityResults

CONFIG = SanityConfig(limit=24)
LAYERS = CONFIG.layers()
STEPS = ["head", *(f"stage_{n}" for n in range(7, 0, -1))]
IMAGES = 24  # above the minimum number of images for a verdict


def made(final_absolute: dict[str, float], undefined: int = 0) -> SanityResults:
    """Results whose Spearman (absolute values) falls linearly from 1 to ``final_absolute[method]`` along the cascade,
    with ``undefined`` images of NaN at every step; the independent steps are all at 0.9 but stage 3, at 0.2."""
    rows = []
    for experiment, (position, step), layer, kind, method in itertools.product(
        ("cascading", "independent"), enumerate(STEPS), LAYERS, SCORE_KINDS, METHODS
    ):
        if experiment == "cascading":
            value = 1 + (final_absolute[method] - 1) * (position + 1) / len(STEPS)
        else:
            value = 0.2 if step == "stage_3" else 0.9
        values = np.full(IMAGES, value)
        values[:undefined] = np.nan
        rows.append(pd.DataFrame({"image": range(IMAGES), "experiment": experiment, "step": step, "layer": layer,
                                  "kind": kind, "method": method, "spearman": values, "spearman_absolute": values,
                                  "ssim": values}))
    vulnerability = pd.concat([
        pd.DataFrame({"image": range(IMAGES), "layer": layer, "kind": kind, "method": method,
                      "correlation": 0.5 if kind == "pre_softmax" else 1.0,
                      "top_overlap": 0.4 if kind == "pre_softmax" else 1.0,
                      "max_difference": 0.3 if kind == "pre_softmax" else 1e-7, "probability_difference": 2e-7})
        for layer, kind, method in itertools.product(LAYERS, ALL_SCORE_KINDS, METHODS)
    ])
    kinds = pd.concat([
        pd.DataFrame({"image": range(IMAGES), "layer": layer, "kind": first, "method": method, "other": second,
                      "correlation": 0.99, "top_overlap": 0.9,
                      "max_difference": 0.05 if (method == "grad_cam_plus_plus" or first == "pre_softmax") else 1e-7})
        for layer, (first, second), method in itertools.product(LAYERS, KIND_PAIRS, METHODS)
    ])
    return SanityResults(
        key="made", config=CONFIG,
        images=pd.DataFrame({"image": range(IMAGES), "path": [f"{i}.JPEG" for i in range(IMAGES)], "label": 0,
                             "probability": 0.9, "predicted": 0}),
        similarity=pd.concat(rows, ignore_index=True), vulnerability=vulnerability, kinds=kinds, examples={},
        step_seconds_per_image=0.1, seconds=1.0, device="cpu", data_root=Path("."), total_images=1000,
        steps={"cascading": STEPS, "independent": STEPS},
    )


FINAL = {"grad_cam": 0.1, "grad_cam_plus": 0.2, "grad_cam_plus_plus": 0.3, "hires_cam": 0.4, "layer_cam": 0.8}


def test_the_full_cascade_is_the_last_step_and_its_medians() -> None:
    summary = readings.full_cascade(made(FINAL))
    for method, value in FINAL.items():
        assert summary.loc[(LAYERS[0], "pre_softmax", method), "spearman_absolute"] == pytest.approx(value)


def test_the_verdict_follows_the_declared_criterion() -> None:
    text = readings.cascade_findings(made(FINAL))
    assert "LayerCAM does not pass the check" in text
    assert "Grad-CAM, Grad-CAM+, Grad-CAM++ and HiResCAM depend on the model" in text
    assert readings.depends_on_model(0.1, readings.MIN_IMAGES - 1) is None
    assert readings.depends_on_model(0.1, readings.MIN_IMAGES) is True
    assert readings.depends_on_model(readings.DEPENDENCE_CRITERION, 50) is False


def test_too_few_defined_images_give_no_verdict_and_are_counted() -> None:
    results = made(FINAL, undefined=IMAGES - readings.MIN_IMAGES + 1)
    assert "too few images" in readings.cascade_findings(results)
    table = readings.full_cascade_table(results)
    assert table.map(lambda cell: "undef." in cell).all().all()
    assert not table.isna().any().any()


def test_the_independent_reading_names_the_stage_that_moves_the_maps_most() -> None:
    assert "the stage 3 alone moves the maps most" in readings.independent_findings(made(FINAL))


def test_identical_kinds_and_the_shift_are_read_with_the_tolerance() -> None:
    results = made(FINAL)
    text = readings.kinds_findings(results)
    assert "identical for Grad-CAM, Grad-CAM+, HiResCAM and LayerCAM; they differ for Grad-CAM++" in text
    shift = readings.vulnerability_findings(results)
    assert "2.0e-07" in shift and "are identical on every image" in shift
    summary = readings.vulnerability_summary(results)
    assert (summary.xs("pre_softmax", level="kind")["changed"] == 1).all()
    assert (summary.xs("log_softmax", level="kind")["changed"] == 0).all()
    assert not readings.vulnerability_table(results).isna().any().any()
    # The share of top pixels is the one the checks measured with, not a typed 10%.
    assert "median top-10% overlap" in shift and ("pre-softmax", "top-10% overlap") in readings.vulnerability_table(results)
    import dataclasses

    wider = dataclasses.replace(results, config=dataclasses.replace(results.config, top_fraction=0.25))
    assert "median top-25% overlap" in readings.vulnerability_findings(wider)
    assert ("pre-softmax", "top-25% overlap") in readings.vulnerability_table(wider)


def test_the_conclusion_paragraph_follows_the_verdicts() -> None:
    text = readings.sanity_conclusion(made(FINAL))
    expected = "Grad-CAM, Grad-CAM+, Grad-CAM++ and HiResCAM pass the model randomisation test and LayerCAM does not"
    assert expected in text
    few = readings.sanity_conclusion(made(FINAL, undefined=IMAGES - readings.MIN_IMAGES + 1))
    assert "no verdict is given" in few and "pass" not in few


def test_the_facts_the_chapters_quote_are_read_from_the_results() -> None:
    from types import SimpleNamespace

    results = made(FINAL)
    facts = readings.sanity_values(results)
    assert facts["sanity-images"] == str(IMAGES) and facts["sanity-total"] == "1000"
    assert facts["sanity-step-seconds"] == "0.10" and facts["sanity-device"] == "cpu"
    assert facts["dependence-criterion"] == str(readings.DEPENDENCE_CRITERION)
    kept = pd.DataFrame(index=range(7))
    last = SimpleNamespace(kept=lambda threshold: kept.iloc[: 7 if threshold < 0.5 else 3],
                           provenance=SimpleNamespace(layer="_avg_pooling (input)"))
    scores = SimpleNamespace(images=pd.DataFrame(index=range(10)), provenance=SimpleNamespace(total=1000),
                             at=lambda: last)
    values = readings.score_values(results, scores, threshold=0.6)
    assert values["score-kept"] == "3" and values["score-threshold"] == "0.6" and values["score-images"] == "10"
    assert values["identical-tolerance"] == f"{readings.IDENTICAL_TOLERANCE:g}"
    assert values["shift-layer"] == results.config.shift_layer and values["sanity-images-scores"] == str(IMAGES)
    assert values["shift-top-share"] == "10%"
    import dataclasses

    wider = dataclasses.replace(results, config=dataclasses.replace(results.config, top_fraction=0.25))
    assert readings.score_values(wider, scores, threshold=0.6)["shift-top-share"] == "25%"


def test_the_example_image_is_the_first_above_the_threshold() -> None:
    import dataclasses

    results = made(FINAL)
    images = results.images.assign(probability=[0.1 if i == 3 else 0.9 for i in range(IMAGES)])
    results = dataclasses.replace(results, images=images, example_images=[3, 5])
    assert readings.example_image(results, 0.5) == 5
    assert readings.example_image(results, 0.95) == 3  # none above: the first example
