"""The sanity checks' computation: signed maps, the comparison of maps, the limit override, and one small cached run."""

from __future__ import annotations

import os

import pytest
import torch

from gradcam_study.methods import METHODS, min_max_normalise, normalised_heatmaps
from gradcam_study.sanity.checks import (
    LIMIT_ENV,
    MEASURES,
    SanityConfig,
    compare_maps,
    run_sanity_checks,
    sanity_limit,
    signed_maps,
)


def test_the_relu_of_the_signed_map_is_the_heatmap() -> None:
    generator = torch.Generator().manual_seed(0)
    activations = torch.randn(2, 4, 5, 5, generator=generator)
    gradients = torch.randn(2, 4, 5, 5, generator=generator)
    for method in METHODS:
        signed = signed_maps(activations, gradients, method)
        expected = normalised_heatmaps(activations, gradients, method)
        assert torch.allclose(min_max_normalise(signed.clamp(min=0)), expected, atol=1e-6), method
    with pytest.raises(ValueError, match="Unknown method"):
        signed_maps(activations, gradients, "saliency")


def test_a_map_compared_with_itself_scores_one_and_with_its_negative_minus_one() -> None:
    maps = torch.randn(3, 7, 7, generator=torch.Generator().manual_seed(1))
    same = compare_maps(maps, maps.clone(), 28)
    assert set(same) == set(MEASURES)
    assert all(torch.allclose(values, torch.ones(3), atol=1e-5) for values in same.values())
    flipped = compare_maps(maps, -maps, 28)
    assert torch.allclose(flipped["spearman"], -torch.ones(3), atol=1e-5)
    assert torch.allclose(flipped["spearman_absolute"], torch.ones(3), atol=1e-5)


def test_the_limit_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LIMIT_ENV, raising=False)
    assert sanity_limit() == 200
    monkeypatch.setenv(LIMIT_ENV, "12")
    assert sanity_limit() == 12
    monkeypatch.setenv(LIMIT_ENV, "-3")
    with pytest.raises(ValueError, match=LIMIT_ENV):
        sanity_limit()


def test_a_small_run_is_complete_and_read_back(imagenet_sample, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADCAM_STUDY_CACHE", str(tmp_path))
    config = SanityConfig(limit=2, batch_size=2, example_images=1)
    results = run_sanity_checks(config, data=imagenet_sample, device="cpu")
    assert len(results.images) == 2 and results.skipped == 0
    steps = len(results.steps["cascading"]) + len(results.steps["independent"])
    assert steps == 16
    assert len(results.similarity) == 2 * steps * len(config.layers()) * len(config.score_kinds) * len(METHODS)
    assert results.vulnerability["probability_difference"].max() < 1e-6
    # The full cascade has moved the maps: no method keeps them all.
    last = results.similarity[(results.similarity["experiment"] == "cascading")
                              & (results.similarity["step"] == results.steps["cascading"][-1])]
    assert (last["ssim"] < 0.999).any()
    stored = next((tmp_path / "sanity").iterdir()) / "meta.json"
    written = os.stat(stored).st_mtime_ns
    again = run_sanity_checks(config, data=imagenet_sample, device="cpu")
    assert again.key == results.key and os.stat(stored).st_mtime_ns == written
    assert again.similarity.equals(results.similarity)
