"""Stage-wise randomisation: the stages cover the network once, the trained weights come back bit for bit, the
same seed gives the same random weights and maps, and the partial forward pass equals the network's."""

from __future__ import annotations

import pytest
import torch

from gradcam_study.capture import capture_layers
from gradcam_study.methods import normalised_heatmaps
from gradcam_study.models import load_classifier, model_spec
from gradcam_study.sanity.randomisation import (
    FromBlock,
    block_inputs,
    cascading_steps,
    first_block,
    independent_steps,
    randomised,
    run_blocks,
    stage_modules,
)

SPEC = model_spec("efficientnet_lite0")
LAYERS = ["_avg_pooling:input", "_blocks.15"]


@pytest.fixture(scope="module")
def network() -> torch.nn.Module:
    # Random weights: the tests are about which weights change, not about what the trained ones are.
    return load_classifier("efficientnet_lite0", pretrained=False).network


@pytest.fixture(scope="module")
def inputs() -> torch.Tensor:
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)).contiguous(
        memory_format=torch.channels_last)


def state(network: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in network.state_dict().items()}


def test_stages_cover_every_block_once_head_first() -> None:
    layout = stage_modules(SPEC)
    assert list(layout) == ["head", *(f"stage_{n}" for n in range(7, 0, -1))]
    blocks = [name for modules in layout.values() for name in modules if name.startswith("_blocks.")]
    assert sorted(blocks, key=lambda name: int(name.split(".")[1])) == [f"_blocks.{i}" for i in range(16)]
    assert len(blocks) == len(set(blocks))
    assert layout["stage_7"] == ("_blocks.15",) and layout["stage_1"] == ("_conv_stem", "_bn0", "_blocks.0")


def test_cascade_grows_one_stage_at_a_time_and_independent_steps_are_single() -> None:
    cascade = cascading_steps(SPEC)
    assert [len(step) for step in cascade] == list(range(1, 9))
    assert all(set(a) < set(b) for a, b in zip(cascade, cascade[1:]))
    assert independent_steps(SPEC) == [(name,) for name in stage_modules(SPEC)]
    assert first_block(SPEC, ("head",)) == 15 and first_block(SPEC, ("head", "stage_7", "stage_6")) == 11
    assert first_block(SPEC, cascade[-1]) is None


def test_models_without_block_stages_are_refused() -> None:
    with pytest.raises(ValueError, match="_blocks"):
        stage_modules(model_spec("vgg16"))
    with pytest.raises(ValueError, match="Unknown stage"):
        with randomised(torch.nn.Linear(1, 1), SPEC, ("stage_9",)):
            pass


def test_weights_are_randomised_inside_and_restored_bit_for_bit(network: torch.nn.Module) -> None:
    before = state(network)
    rng = torch.random.get_rng_state()
    stages = ("head", "stage_7", "stage_3")
    touched = tuple(f"{name}." for stage in stages for name in stage_modules(SPEC)[stage])
    with randomised(network, SPEC, stages, seed=3):
        inside = state(network)
    changed = {key for key in before if not torch.equal(before[key], inside[key])}
    assert changed and all(key.startswith(touched) for key in changed)
    assert any(key.startswith("_blocks.3.") for key in changed) and any(key.startswith("_fc.") for key in changed)
    after = state(network)
    assert all(torch.equal(before[key], after[key]) for key in before)
    assert torch.equal(rng, torch.random.get_rng_state())


def test_weights_are_restored_when_the_block_fails(network: torch.nn.Module) -> None:
    before = state(network)
    with pytest.raises(RuntimeError, match="inside"):
        with randomised(network, SPEC, ("head",)):
            raise RuntimeError("inside")
    assert all(torch.equal(before[key], value) for key, value in network.state_dict().items())


def test_same_seed_gives_the_same_maps_and_another_seed_other_maps(network: torch.nn.Module, inputs) -> None:
    targets = torch.tensor([3, 7])

    def maps(seed: int) -> torch.Tensor:
        with randomised(network, SPEC, ("head", "stage_7"), seed=seed):
            found = capture_layers(network, LAYERS, inputs, targets).layer("_blocks.15")
        return normalised_heatmaps(found.activations, found.gradients["pre_softmax"], "grad_cam")

    first, again, other = maps(0), maps(0), maps(1)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_a_stage_gets_the_same_random_weights_in_every_step(network: torch.nn.Module) -> None:
    with randomised(network, SPEC, ("stage_6",), seed=0):
        alone = network._blocks[12].state_dict()["_project_conv.weight"].clone()
    with randomised(network, SPEC, ("head", "stage_7", "stage_6"), seed=0):
        cascaded = network._blocks[12].state_dict()["_project_conv.weight"].clone()
    assert torch.equal(alone, cascaded)


def test_the_partial_forward_pass_equals_the_network(network: torch.nn.Module, inputs) -> None:
    entering = block_inputs(network, inputs, [3, 8, 11, 15])
    with torch.no_grad():
        expected = network(inputs)
        for start in (3, 11, 15):
            assert torch.allclose(FromBlock(network, start)(entering[start]), expected, atol=1e-5)
        assert torch.allclose(run_blocks(network, inputs, None, 11), entering[11], atol=1e-5)
        assert torch.allclose(run_blocks(network, entering[3], 3, 15), entering[15], atol=1e-5)
    # Under a randomised stage, starting from the trained activations below it gives the randomised network's output.
    with randomised(network, SPEC, ("stage_5",), seed=0), torch.no_grad():
        assert torch.allclose(FromBlock(network, 8)(entering[8]), network(inputs), atol=1e-5)
    # The same layer keys are tapped through the partial pass.
    found = capture_layers(FromBlock(network, 15), LAYERS, entering[15], torch.tensor([1, 2]))
    full = capture_layers(network, LAYERS, inputs, torch.tensor([1, 2]))
    assert torch.allclose(found.gradients["_blocks.15"]["pre_softmax"], full.gradients["_blocks.15"]["pre_softmax"],
                          atol=1e-6)
