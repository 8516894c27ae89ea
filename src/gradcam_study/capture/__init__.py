"""One forward and one backward pass per score kind: what every Grad-CAM method needs.

The hook plumbing lives here, apart from the arithmetic in :mod:`gradcam_study.methods`.
Any number of layers is captured from the same pass: one forward pass, and one
``torch.autograd.grad`` per score kind with respect to the tuple of tapped tensors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

ScoreKind = Literal["pre_softmax", "post_softmax", "log_softmax"]
#: The score kinds every study computes unless told otherwise: the paper's two.
SCORE_KINDS: tuple[ScoreKind, ...] = ("pre_softmax", "post_softmax")
#: Every score kind :func:`class_scores` knows, the log-probability too (asked for by name only: the chapter on
#: the choice of score compares the three).
ALL_SCORE_KINDS: tuple[ScoreKind, ...] = (*SCORE_KINDS, "log_softmax")
#: How a score kind is printed (in captions and tables): the name its definition goes by in the text.
SCORE_KIND_LABELS: dict[str, str] = {"pre_softmax": "pre-softmax", "post_softmax": "post-softmax",
                                     "log_softmax": "log-softmax"}
Tap = Literal["output", "input"]
TAPS: tuple[Tap, ...] = ("output", "input")


@dataclass(frozen=True)
class TappedLayer:
    """A layer by dotted name, and which side of it is recorded.

    Its :attr:`key` is the name for the output and ``"<name>:input"`` for the input: the form
    configurations, the command line and result columns use.

    >>> TappedLayer.parse("_avg_pooling:input")
    TappedLayer(name='_avg_pooling', tap='input')
    >>> TappedLayer("features.29").key
    'features.29'
    """

    name: str
    tap: Tap = "output"

    @property
    def key(self) -> str:
        return self.name if self.tap == "output" else f"{self.name}:{self.tap}"

    @classmethod
    def parse(cls, key: str) -> TappedLayer:
        name, _, tap = key.partition(":")
        if not name:
            raise ValueError(f"Empty layer name in {key!r}; write a dotted module name such as 'features.29'.")
        if tap and tap not in TAPS:
            raise ValueError(f"Unknown tap {tap!r} in {key!r}; write '<name>' for the output or '<name>:input'.")
        return cls(name, tap or "output")


@dataclass(frozen=True)
class Capture:
    """What one pass gives for a batch at one layer.

    ``activations`` is ``B x K x H x W``; ``gradients[kind]`` is ``dY/dA`` for the score
    ``Y`` of that kind (the logit of the target class for ``"pre_softmax"``, its softmax
    probability for ``"post_softmax"``, its log-probability for ``"log_softmax"``), same shape;
    ``logits`` is ``B x C``.
    """

    activations: Tensor
    gradients: dict[ScoreKind, Tensor]
    logits: Tensor

    @property
    def probabilities(self) -> Tensor:
        return self.logits.softmax(dim=1)


def layer_choices(model: nn.Module) -> list[str]:
    """Names of the model's modules at most two levels deep (``"_blocks.15"``, ``"features.29"``): the usual
    choices, listed by error messages."""
    return [name for name, _ in model.named_modules() if name and name.count(".") <= 1]


def resolve_layer(model: nn.Module, layer: nn.Module | str) -> nn.Module:
    """The module ``layer`` names in ``model`` (dotted name, e.g. ``"features.29"``), or ``layer`` itself."""
    if isinstance(layer, nn.Module):
        return layer
    try:
        return model.get_submodule(layer)
    except AttributeError:
        raise ValueError(
            f"The model has no layer {layer!r}. Choices include: {', '.join(layer_choices(model))} "
            "(append ':input' to record a layer's input instead of its output)."
        ) from None


def resolve_layers(model: nn.Module, layers: Sequence[str | TappedLayer]) -> list[tuple[TappedLayer, nn.Module]]:
    """Each layer key parsed and looked up; an empty list, a key named twice or an unknown name is refused."""
    if not layers:
        raise ValueError(f"Name at least one layer to capture. Choices include: {', '.join(layer_choices(model))}.")
    parsed = [layer if isinstance(layer, TappedLayer) else TappedLayer.parse(layer) for layer in layers]
    keys = [layer.key for layer in parsed]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"Layer {', '.join(map(repr, repeated))} is named more than once; name each layer once.")
    return [(layer, resolve_layer(model, layer.name)) for layer in parsed]


def class_scores(logits: Tensor, targets: Tensor, kind: ScoreKind) -> Tensor:
    r"""The score ``Y`` of each image's target class ``c``: its logit :math:`y_c` (``"pre_softmax"``), its softmax
    probability :math:`p_c` (``"post_softmax"``) or its log-probability
    :math:`\log p_c = y_c - \log \sum_j e^{y_j}` (``"log_softmax"``).

    >>> import torch
    >>> logits = torch.tensor([[2.0, 0.0]])
    >>> [round(float(class_scores(logits, torch.tensor([0]), kind)), 4) for kind in ALL_SCORE_KINDS]
    [2.0, 0.8808, -0.1269]
    """
    if kind == "pre_softmax":
        scores = logits
    elif kind == "post_softmax":
        scores = logits.softmax(dim=1)
    elif kind == "log_softmax":
        scores = logits.log_softmax(dim=1)
    else:
        raise ValueError(f"Unknown score kind {kind!r}; use one of {ALL_SCORE_KINDS}.")
    return scores.gather(1, targets.view(-1, 1)).squeeze(1)


@contextmanager
def _tapped(module: nn.Module, tap: Tap) -> Iterator[list[Tensor]]:
    """Record the tensor entering or leaving ``module`` for the duration of the block.

    The forward pass starts from an input that requires grad, so every tapped tensor is already
    part of the graph and recording it cuts nothing. Only a tensor that still does not require
    grad (a model that detaches internally) is made a leaf, so that it still yields ``dY/dA``.
    """
    seen: list[Tensor] = []

    def as_differentiable(tensor: Tensor) -> Tensor:
        if not tensor.requires_grad:
            tensor = tensor.detach().requires_grad_(True)
        seen.append(tensor)
        return tensor

    if tap == "output":
        handle = module.register_forward_hook(lambda _m, _i, output: as_differentiable(output))
    elif tap == "input":
        handle = module.register_forward_pre_hook(
            lambda _m, inputs: (as_differentiable(inputs[0]), *inputs[1:])
        )
    else:
        raise ValueError(f"tap must be 'output' or 'input', got {tap!r}.")
    try:
        yield seen
    finally:
        handle.remove()


@dataclass(frozen=True)
class LayerCaptures:
    """What one pass gives for a batch at several layers: activations and gradients by layer key."""

    activations: dict[str, Tensor]
    gradients: dict[str, dict[ScoreKind, Tensor]]
    logits: Tensor

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(self.activations)

    def layer(self, key: str) -> Capture:
        """The capture of one layer (the logits are shared by all)."""
        return Capture(self.activations[key], self.gradients[key], self.logits)


def capture_layers(
    model: nn.Module,
    layers: Sequence[str | TappedLayer],
    inputs: Tensor,
    targets: Tensor,
    score_kinds: Sequence[ScoreKind] = SCORE_KINDS,
) -> LayerCaptures:
    """Activations and gradients of every layer in ``layers``, from ONE forward pass and ONE backward per score kind.

    ``layers`` holds layer keys (``"_blocks.15"``, ``"_avg_pooling:input"``) or :class:`TappedLayer`;
    ``inputs`` is the batch as the model takes it (already normalised) and ``targets`` one class index
    per image. Each backward is one ``torch.autograd.grad`` with respect to the tuple of tapped
    tensors, which computes no parameter gradients. Hooks are removed whatever happens. The model
    should be in eval mode: batch statistics would couple images.

    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    >>> captured = capture_layers(net.eval(), ["0", "2"], torch.randn(1, 3, 8, 8), torch.tensor([1]))
    >>> captured.gradients["0"]["pre_softmax"].shape
    torch.Size([1, 4, 6, 6])
    """
    if not score_kinds:
        raise ValueError("Ask for at least one score kind.")
    tapped = resolve_layers(model, layers)
    targets = targets.to(device=inputs.device, dtype=torch.long)
    if not inputs.requires_grad:
        # Every intermediate tensor then requires grad: no tap has to detach anything, so no tap can cut
        # the path from the score to another tapped layer. autograd.grad still stops at the tapped tensors.
        inputs = inputs.detach().requires_grad_(True)
    with ExitStack() as stack, torch.enable_grad():
        records = {layer.key: stack.enter_context(_tapped(module, layer.tap)) for layer, module in tapped}
        logits = model(inputs)
    for key, seen in records.items():
        if len(seen) != 1:
            # A user's choice of layer, not a failure of the code: a ValueError, one line on the command line.
            raise ValueError(
                f"The layer {key!r} ran {len(seen)} times in one forward pass; choose a layer used exactly once."
            )
    tensors = tuple(seen[0] for seen in records.values())
    gradients: dict[str, dict[ScoreKind, Tensor]] = {key: {} for key in records}
    for position, kind in enumerate(score_kinds):
        score = class_scores(logits, targets, kind).sum()
        last = position == len(score_kinds) - 1
        for key, gradient in zip(records, torch.autograd.grad(score, tensors, retain_graph=not last)):
            gradients[key][kind] = gradient.detach()
    return LayerCaptures(
        activations={key: tensor.detach() for key, tensor in zip(records, tensors)},
        gradients=gradients,
        logits=logits.detach(),
    )


def capture(
    model: nn.Module,
    layer: nn.Module | str,
    inputs: Tensor,
    targets: Tensor,
    score_kinds: Sequence[ScoreKind] = SCORE_KINDS,
    tap: Tap = "output",
) -> Capture:
    """Activations of one ``layer`` and the gradients of each score kind, from one forward pass.

    ``layer`` is a dotted name or a module of ``model``; ``tap="input"`` records the tensor entering
    it (EfficientNet-Lite applies its last activation functionally, so its last feature map is the
    input of the pooling layer). See :func:`capture_layers` for several layers at once.
    """
    if isinstance(layer, nn.Module):
        name = next((n for n, m in model.named_modules() if m is layer), None)
        if name is None:
            raise ValueError("The layer module is not part of the model.")
    else:
        name = layer
    key = TappedLayer(name, tap).key
    return capture_layers(model, [key], inputs, targets, score_kinds).layer(key)


def layer_label(key: str) -> str:
    """How a layer key is printed: ``"_avg_pooling (input)"`` for ``"_avg_pooling:input"``; an output key is its
    name.

    >>> layer_label("_avg_pooling:input"), layer_label("_blocks.15")
    ('_avg_pooling (input)', '_blocks.15')
    """
    name, _, tap = key.partition(":")
    return f"{name} ({tap})" if tap else name


# Imported last: the tap parses layer keys with TappedLayer, defined above.
from .tap import InputTap, hookable  # noqa: E402 (a circular import: tap needs TappedLayer, above)

__all__ = [
    "ALL_SCORE_KINDS",
    "SCORE_KIND_LABELS",
    "layer_label",
    "Capture",
    "InputTap",
    "LayerCaptures",
    "SCORE_KINDS",
    "ScoreKind",
    "TAPS",
    "Tap",
    "TappedLayer",
    "capture",
    "capture_layers",
    "class_scores",
    "hookable",
    "layer_choices",
    "resolve_layer",
    "resolve_layers",
]
