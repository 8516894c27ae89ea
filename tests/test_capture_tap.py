"""The input tap of :mod:`gradcam_study.capture.tap`: a layer's input shown as a module's output."""

from __future__ import annotations

import libraries_setting
import pytest
import torch
from libraries_setting import INNER, LAST

from gradcam_study.capture import InputTap, capture_layers, hookable
from gradcam_study.models import load_classifier

# The shared fixtures, by assignment (pytest finds fixtures among a module's names).
setting = libraries_setting.setting


def test_input_tap_gives_the_same_logits_and_exposes_the_input_as_an_output(setting) -> None:
    network, inputs, _, reference = setting
    tree, name = hookable(network, LAST)
    assert isinstance(tree, InputTap) and name == "tap"
    with torch.no_grad():
        assert torch.equal(tree(inputs), network(inputs))
    seen = []
    handle = tree.get_submodule(name).register_forward_hook(lambda _m, _i, output: seen.append(output.detach()))
    with torch.no_grad():
        tree(inputs)
    handle.remove()
    torch.testing.assert_close(seen[0].double(), reference[LAST][0])
    assert not network.pool._forward_pre_hooks, "the routing hook must not outlive the forward pass"


def test_an_output_key_is_shown_as_is_and_an_unknown_layer_is_refused(setting) -> None:
    network = setting[0]
    assert hookable(network, INNER) == (network, INNER)
    with pytest.raises(AttributeError):
        hookable(network, "nowhere:input")
    with pytest.raises(AttributeError):
        hookable(network, "nowhere")
    with pytest.raises(ValueError, match="Unknown tap"):
        hookable(network, "pool:sideways")


def test_the_routing_hook_is_removed_when_the_forward_pass_raises(setting) -> None:
    network = setting[0]
    tree, _ = hookable(network, LAST)
    with pytest.raises(RuntimeError):
        tree(torch.randn(1, 5, 8, 8))  # wrong channel count: the first convolution raises
    assert not network.pool._forward_pre_hooks


def test_input_tap_on_efficientnet_lite0_gives_the_network_logits() -> None:
    """EfficientNet-Lite0's last map is the input of _avg_pooling (its last ReLU6 is functional): the tap's output
    is that map and the wrapped network's logits are the network's, bit for bit."""
    torch.manual_seed(0)
    network = load_classifier("efficientnet_lite0", pretrained=False).network
    inputs = torch.randn(1, 3, 64, 64)
    tree, name = hookable(network, "_avg_pooling:input")
    seen = []
    handle = tree.get_submodule(name).register_forward_hook(lambda _m, _i, output: seen.append(output.detach()))
    with torch.no_grad():
        logits = tree(inputs)
    handle.remove()
    captured = capture_layers(network, ["_avg_pooling:input"], inputs, torch.tensor([0]), ("pre_softmax",))
    assert torch.equal(logits, captured.logits)
    torch.testing.assert_close(seen[0], captured.activations["_avg_pooling:input"], rtol=0, atol=0)
