"""One forward, one backward per score kind: closed-form gradients and hook hygiene."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gradcam_study.capture import capture, class_scores, resolve_layer


def test_pre_softmax_gradients_are_the_linear_head(linear_head_net) -> None:
    x = torch.randn(3, 1, 4, 4)
    targets = torch.tensor([0, 2, 4])
    captured = capture(linear_head_net, "features", x, targets, ("pre_softmax",))
    for i, target in enumerate(targets.tolist()):
        torch.testing.assert_close(captured.gradients["pre_softmax"][i], linear_head_net.gradient_of_logit(target))
    torch.testing.assert_close(captured.activations, linear_head_net.features(x).detach())


def test_post_softmax_gradients_follow_the_softmax_jacobian(linear_head_net) -> None:
    x = torch.randn(2, 1, 4, 4)
    targets = torch.tensor([1, 3])
    captured = capture(linear_head_net, "features", x, targets)
    probabilities = captured.probabilities
    weights = linear_head_net.head.weight.detach()
    for i, c in enumerate(targets.tolist()):
        # dP_c/dA = sum_j P_c (delta_cj - P_j) dS_j/dA
        jacobian_row = probabilities[i, c] * (torch.eye(5)[c] - probabilities[i])
        expected = (jacobian_row @ weights).view(linear_head_net.shape)
        torch.testing.assert_close(captured.gradients["post_softmax"][i], expected)


def test_one_forward_pass_serves_both_score_kinds(linear_head_net) -> None:
    calls = []
    linear_head_net.head.register_forward_hook(lambda *_: calls.append(1))
    captured = capture(linear_head_net, "features", torch.randn(2, 1, 4, 4), torch.tensor([0, 1]))
    assert len(calls) == 1
    assert set(captured.gradients) == {"pre_softmax", "post_softmax"}


def test_input_tap_records_what_enters_the_layer(linear_head_net) -> None:
    x = torch.randn(2, 1, 4, 4)
    by_input = capture(linear_head_net, linear_head_net.head, x, torch.tensor([0, 1]), ("pre_softmax",), tap="input")
    assert by_input.activations.shape == (2, 48)
    torch.testing.assert_close(by_input.activations, linear_head_net.features(x).flatten(1).detach())


def test_frozen_parameters_still_give_activation_gradients(linear_head_net) -> None:
    linear_head_net.requires_grad_(False)
    captured = capture(linear_head_net, "features", torch.randn(1, 1, 4, 4), torch.tensor([2]), ("pre_softmax",))
    torch.testing.assert_close(captured.gradients["pre_softmax"][0], linear_head_net.gradient_of_logit(2))
    assert linear_head_net.head.weight.grad is None


def test_hooks_are_removed_even_when_the_forward_pass_fails(linear_head_net) -> None:
    with pytest.raises(RuntimeError):
        capture(linear_head_net, "features", torch.randn(1, 2, 4, 4), torch.tensor([0]))  # wrong channel count
    assert not linear_head_net.features._forward_hooks
    assert not linear_head_net.features._forward_pre_hooks


def test_unknown_layer_names_the_last_layers(linear_head_net) -> None:
    with pytest.raises(ValueError, match="no layer 'nope'.*head"):
        resolve_layer(linear_head_net, "nope")


def test_a_layer_used_twice_is_refused() -> None:
    shared = nn.ReLU()
    network = nn.Sequential(nn.Conv2d(1, 2, 1), shared, nn.Conv2d(2, 2, 1), shared, nn.Flatten(), nn.LazyLinear(3))
    network(torch.randn(1, 1, 2, 2))
    with pytest.raises(RuntimeError, match="ran 2 times"):
        capture(network, "1", torch.randn(1, 1, 2, 2), torch.tensor([0]))


def test_unknown_score_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="score kind"):
        class_scores(torch.zeros(1, 3), torch.tensor([0]), "log_softmax")  # type: ignore[arg-type]
