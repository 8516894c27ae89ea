"""The optimised forward pass (torch.compile, padded chunks) against the eager network: same results."""

from __future__ import annotations

import pytest
import torch

from conftest import sample_folder
from gradcam_study.data import list_images, load_rgb
from gradcam_study.models import load_classifier
from gradcam_study.models.inference import TOLERANCE, inference
from gradcam_study.study.analysis import analyse_batch, auc_column, log_prob_column

LAYERS = ["_avg_pooling:input", "_blocks.15"]


@pytest.fixture(scope="module")
def batch():
    """Five images (a chunk of four and a padded one of one): real ones from the sample, else noise."""
    classifier = load_classifier("efficientnet_lite0", pretrained=sample_folder() is not None)
    folder = sample_folder()
    if folder is not None:
        images = list_images(folder)[:5]
        pixels = torch.stack([classifier.to_pixels(load_rgb(image.path)) for image in images])
        labels = torch.tensor([image.label for image in images])
    else:
        pixels, labels = torch.rand(5, 3, 224, 224, generator=torch.Generator().manual_seed(0)), torch.arange(5)
    return classifier, pixels, labels


def test_eager_inference_is_the_network(batch):
    classifier, pixels, _ = batch
    inputs = classifier.normalise(pixels)
    forward = inference(classifier.network, 4, optimise=False)
    assert forward.mode == "eager"
    with torch.no_grad():
        expected = classifier.network(inputs.contiguous(memory_format=torch.channels_last)).log_softmax(dim=1)
    # Chunks of 4 and 1 rather than one batch of 5: the convolutions may sum in another order, nothing more.
    torch.testing.assert_close(forward.log_softmax(inputs), expected, rtol=0, atol=1e-5)


def test_compiling_needs_the_image_size(batch):
    with pytest.raises(ValueError, match="image size"):
        inference(batch[0].network, 4)


def test_optimised_pipeline_matches_the_eager_one(batch):
    """analyse_batch through the compiled forward pass (chunks of 4, the last one padded) gives the eager
    pipeline's log-probabilities on every explanation map, and its deletion/insertion areas, to TOLERANCE."""
    classifier, pixels, labels = batch
    compiled = inference(classifier.network, 4, (224, 224))
    if compiled.mode != "compiled":
        pytest.skip(f"torch.compile does not work here: {compiled.reason}")
    ids = torch.arange(len(labels))
    common = dict(score_kinds=("pre_softmax", "post_softmax"), alpha_sample_size=8, curve_images={0}, curve_steps=4)
    eager = analyse_batch(classifier, LAYERS, pixels, labels, ids, **common)
    optimised = analyse_batch(classifier, LAYERS, pixels, labels, ids, forward=compiled, **common)
    compared = 0
    for key, row in eager.layer_rows.items():
        for column, value in row.items():
            if column.startswith("logp_") or "_auc_" in column:
                assert optimised.layer_rows[key][column] == pytest.approx(value, abs=TOLERANCE), (key, column)
                compared += 1
    # 2 layers x 2 kinds x 5 methods log-probabilities per image, and the areas of image 0.
    assert compared == 5 * 2 * 2 * 5 + 2 * 2 * 2 * 5
    assert log_prob_column("pre_softmax", "grad_cam") in eager.layer_rows[(4, LAYERS[0])]
    assert auc_column("deletion", "post_softmax", "layer_cam") in optimised.layer_rows[(0, LAYERS[1])]
