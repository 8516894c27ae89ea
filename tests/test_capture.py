"""One forward, one backward per score kind: closed-form gradients and hook hygiene."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gradcam_study.capture import TappedLayer, capture, capture_layers, class_scores, resolve_layer


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


def test_unknown_layer_lists_the_choices(linear_head_net) -> None:
    with pytest.raises(ValueError, match="no layer 'nope'. Choices include: features, head"):
        resolve_layer(linear_head_net, "nope")
    with pytest.raises(ValueError, match="no layer 'nosuch.layer'"):
        capture_layers(linear_head_net, ["features", "nosuch.layer"], torch.randn(1, 1, 4, 4), torch.tensor([0]))


def test_empty_and_repeated_layer_lists_are_refused(linear_head_net) -> None:
    x, targets = torch.randn(1, 1, 4, 4), torch.tensor([0])
    with pytest.raises(ValueError, match="at least one layer.*features"):
        capture_layers(linear_head_net, [], x, targets)
    with pytest.raises(ValueError, match="'features' is named more than once"):
        capture_layers(linear_head_net, ["features", "head:input", "features"], x, targets)
    with pytest.raises(ValueError, match="Unknown tap"):
        capture_layers(linear_head_net, ["features:middle"], x, targets)


def test_layer_keys_parse_and_print() -> None:
    assert TappedLayer.parse("_avg_pooling:input") == TappedLayer("_avg_pooling", "input")
    assert TappedLayer.parse("features.29").key == "features.29"


class Chain(nn.Module):
    """Four convolutions (with a ReLU and a residual sum) and a linear head: layers at four depths."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
        self.c = nn.Conv2d(4, 6, 3, padding=1)
        self.d = nn.Conv2d(6, 5, 3, stride=2)
        self.head = nn.Linear(5 * 3 * 3, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.a(x)
        return self.head(self.d(self.c(self.b(a) + a)).flatten(1))


LAYERS = ["a", "b", "c", "d", "head:input"]


def assert_each_layer_matches_its_own_capture(network: nn.Module, layers, inputs, targets) -> None:
    together = capture_layers(network, layers, inputs, targets)
    assert together.layers == tuple(layers)
    for layer in layers:
        alone = capture_layers(network, [layer], inputs, targets).layer(layer)
        torch.testing.assert_close(together.activations[layer], alone.activations, rtol=0, atol=1e-6)
        for kind, gradient in alone.gradients.items():
            scale = max(gradient.abs().max().item(), 1e-30)
            torch.testing.assert_close(together.gradients[layer][kind] / scale, gradient / scale, rtol=0, atol=1e-6)


@pytest.mark.parametrize("frozen", [False, True])
def test_several_layers_from_one_pass_equal_one_layer_at_a_time(frozen: bool) -> None:
    network = Chain().eval()
    network.requires_grad_(not frozen)
    inputs, targets = torch.randn(3, 3, 8, 8), torch.tensor([0, 3, 6])
    assert_each_layer_matches_its_own_capture(network, LAYERS, inputs, targets)
    if frozen:
        assert all(p.grad is None for p in network.parameters())


def test_one_tap_does_not_cut_the_gradient_of_a_shallower_layer() -> None:
    """With frozen parameters, the gradient at 'a' flows through the tapped 'c': it must equal 'a' captured alone,
    and differ from zero (a tap that made 'c' a detached leaf would leave 'a' with no gradient at all)."""
    network = Chain().eval().requires_grad_(False)
    inputs, targets = torch.randn(2, 3, 8, 8), torch.tensor([1, 2])
    together = capture_layers(network, ["c", "a"], inputs, targets, ("pre_softmax",))
    assert together.gradients["a"]["pre_softmax"].abs().sum() > 0


def test_one_forward_pass_serves_every_layer() -> None:
    network = Chain().eval()
    calls = []
    network.head.register_forward_hook(lambda *_: calls.append(1))
    capture_layers(network, LAYERS, torch.randn(2, 3, 8, 8), torch.tensor([0, 1]))
    assert len(calls) == 1


def test_several_layers_of_efficientnet_lite0_match_one_layer_at_a_time(imagenet_sample) -> None:
    from gradcam_study.data import list_images
    from gradcam_study.explain import load_pixels
    from gradcam_study.models import load_classifier

    classifier = load_classifier("efficientnet_lite0")
    images = list_images(imagenet_sample)[::500]
    inputs = classifier.normalise(load_pixels(classifier, [i.path for i in images]))
    layers = [*classifier.spec.stages, classifier.spec.layer]
    assert_each_layer_matches_its_own_capture(classifier.network, layers, inputs, torch.tensor([i.label for i in images]))


def test_hooks_are_removed_from_every_layer_when_the_forward_pass_fails() -> None:
    network = Chain().eval()
    with pytest.raises(RuntimeError):
        capture_layers(network, LAYERS, torch.randn(1, 2, 8, 8), torch.tensor([0]))  # wrong channel count
    for module in network.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks


def test_a_layer_used_twice_is_refused() -> None:
    shared = nn.ReLU()
    network = nn.Sequential(nn.Conv2d(1, 2, 1), shared, nn.Conv2d(2, 2, 1), shared, nn.Flatten(), nn.LazyLinear(3))
    network(torch.randn(1, 1, 2, 2))
    with pytest.raises(ValueError, match="ran 2 times"):
        capture(network, "1", torch.randn(1, 1, 2, 2), torch.tensor([0]))


def test_unknown_score_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="score kind"):
        class_scores(torch.zeros(1, 3), torch.tensor([0]), "softmax_squared")  # type: ignore[arg-type]


def test_log_softmax_score_is_the_log_of_the_probability() -> None:
    logits = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, 3.0]])
    targets = torch.tensor([2, 1])
    log_p = class_scores(logits, targets, "log_softmax")
    assert torch.allclose(log_p.exp(), class_scores(logits, targets, "post_softmax"))
    # The second image's two largest logits are equal: p = 1 / (2 + e^-3) exactly.
    assert abs(float(log_p[1]) + float(torch.log(torch.tensor(2.0) + torch.exp(torch.tensor(-3.0))))) < 1e-6
    # d log p_c / dA = (1 / p_c) d p_c / dA: the same direction as the post-softmax gradient, scaled per image.
    network = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Flatten(), nn.Linear(8, 3)).eval()
    inputs = torch.randn(2, 1, 2, 2)
    found = capture(network, "0", inputs, targets, score_kinds=("post_softmax", "log_softmax"))
    probabilities = found.probabilities.gather(1, targets.view(-1, 1)).view(-1, 1, 1, 1)
    assert torch.allclose(found.gradients["log_softmax"] * probabilities, found.gradients["post_softmax"], atol=1e-7)
