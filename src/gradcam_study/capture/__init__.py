"""One forward and one backward pass per score kind: what every Grad-CAM method needs.

The hook plumbing lives here, apart from the arithmetic in :mod:`gradcam_study.methods`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

ScoreKind = Literal["pre_softmax", "post_softmax"]
SCORE_KINDS: tuple[ScoreKind, ...] = ("pre_softmax", "post_softmax")
Tap = Literal["output", "input"]


@dataclass(frozen=True)
class Capture:
    """What one pass gives for a batch.

    ``activations`` is ``B x K x H x W``; ``gradients[kind]`` is ``dY/dA`` for the score
    ``Y`` of that kind (the logit of the target class for ``"pre_softmax"``, its softmax
    probability for ``"post_softmax"``), same shape; ``logits`` is ``B x C``.
    """

    activations: Tensor
    gradients: dict[ScoreKind, Tensor]
    logits: Tensor

    @property
    def probabilities(self) -> Tensor:
        return self.logits.softmax(dim=1)


def resolve_layer(model: nn.Module, layer: nn.Module | str) -> nn.Module:
    """The module ``layer`` names in ``model`` (dotted name, e.g. ``"features.29"``), or ``layer`` itself."""
    if isinstance(layer, nn.Module):
        return layer
    try:
        return model.get_submodule(layer)
    except AttributeError:
        names = [name for name, _ in model.named_modules() if name]
        hint = ", ".join(names[-8:])
        raise ValueError(f"The model has no layer {layer!r}; its last layers are: {hint}.") from None


def class_scores(logits: Tensor, targets: Tensor, kind: ScoreKind) -> Tensor:
    """The score ``Y`` of each image's target class: its logit, or its softmax probability."""
    if kind == "pre_softmax":
        scores = logits
    elif kind == "post_softmax":
        scores = logits.softmax(dim=1)
    else:
        raise ValueError(f"Unknown score kind {kind!r}; use one of {SCORE_KINDS}.")
    return scores.gather(1, targets.view(-1, 1)).squeeze(1)


@contextmanager
def _tapped(module: nn.Module, tap: Tap) -> Iterator[list[Tensor]]:
    """Record the tensor entering or leaving ``module`` for the duration of the block.

    The recorded tensor is made a leaf that requires grad when it does not already,
    so that a model with frozen parameters still yields ``dY/dA``.
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


def capture(
    model: nn.Module,
    layer: nn.Module | str,
    inputs: Tensor,
    targets: Tensor,
    score_kinds: Sequence[ScoreKind] = SCORE_KINDS,
    tap: Tap = "output",
) -> Capture:
    """Activations of ``layer`` and the gradients of each score kind, from one forward pass.

    ``inputs`` is the batch as the model takes it (already normalised); ``targets`` holds
    one class index per image. The forward pass is shared by every score kind; each kind
    costs one backward pass (``torch.autograd.grad``, which computes no parameter
    gradients). ``tap="input"`` records the tensor entering ``layer`` (EfficientNet-Lite
    applies its last activation functionally, so its last feature map is the input of the
    pooling layer). The model should be in eval mode: batch statistics would couple images.
    """
    if not score_kinds:
        raise ValueError("Ask for at least one score kind.")
    module = resolve_layer(model, layer)
    targets = targets.to(device=inputs.device, dtype=torch.long)
    with torch.enable_grad(), _tapped(module, tap) as seen:
        logits = model(inputs)
    if len(seen) != 1:
        raise RuntimeError(
            f"The layer ran {len(seen)} times in one forward pass; choose a layer used exactly once."
        )
    activations = seen[0]
    gradients: dict[ScoreKind, Tensor] = {}
    for position, kind in enumerate(score_kinds):
        score = class_scores(logits, targets, kind).sum()
        last = position == len(score_kinds) - 1
        (gradient,) = torch.autograd.grad(score, activations, retain_graph=not last)
        gradients[kind] = gradient.detach()
    return Capture(activations=activations.detach(), gradients=gradients, logits=logits.detach())


__all__ = ["Capture", "SCORE_KINDS", "ScoreKind", "Tap", "capture", "class_scores", "resolve_layer"]
