"""The libraries audited: one adapter per method, each returning weights and/or heatmaps for identical inputs.

The registry (:data:`LIBRARIES`) holds, per library, an adapter per method: a function
``(network, layer_name, inputs, targets) -> LibraryOutput`` explaining the target's pre-softmax logit
(:data:`SCORE_KIND`). :func:`run_library` shows a layer key to the library (:func:`~gradcam_study.capture.hookable`),
calls the adapter in batches and turns a missing library or an exception into the run's status: a library's failure
is a finding, it never stops the audit.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..capture import ScoreKind, capture_layers, hookable
from ..methods import class_activation_map, grad_cam_plus_plus_weights, grad_cam_weights
from ..presentation.labels import METHOD_LABELS
from .matching import MatchReport

#: The score every library is asked to explain: the target class's logit.
SCORE_KIND: ScoreKind = "pre_softmax"


@dataclass(frozen=True)
class LibraryOutput:
    """What a library gives for a batch: channel weights (``B x K``, None where it does not expose them), its
    heatmaps at feature-map resolution (``B x H x W``; ``normalised`` says whether it min-max normalised them), and
    the activations and gradients its own hooks recorded (``B x K x H x W``; None where they are not reachable).

    The formula is identified on the library's own ``activations``/``gradients`` where present: a library that runs
    images one at a time gets convolutions rounded differently from a batched capture, and near a pole of a
    Grad-CAM++ denominator that rounding shows in the heatmap.
    """

    weights: Tensor | None
    heatmaps: Tensor
    normalised: bool = False
    activations: Tensor | None = None
    gradients: Tensor | None = None


#: ``(network, layer_name, inputs, targets) -> LibraryOutput``: ``layer_name`` names the module whose OUTPUT is
#: the map; ``inputs`` are what the network takes, ``targets`` one class per image (their logits are explained).
Adapter = Callable[[nn.Module, str, Tensor, Tensor], LibraryOutput]


@contextmanager
def _graph_inputs(inputs: Tensor) -> Iterator[Tensor]:
    """A copy of ``inputs`` that requires grad (the study's networks have frozen parameters, and libraries hook
    tensors that must be in the graph), with gradients enabled."""
    with torch.enable_grad():
        yield inputs.detach().clone().requires_grad_(True)


def _package(method: str) -> Adapter:
    """This package: :func:`~gradcam_study.capture.capture_layers` and eq. (9) / eq. (1) (the control row)."""
    weight_function = {"grad_cam_plus_plus": grad_cam_plus_plus_weights, "grad_cam": grad_cam_weights}[method]

    def adapter(network: nn.Module, layer: str, inputs: Tensor, targets: Tensor) -> LibraryOutput:
        captured = capture_layers(network, [layer], inputs, targets, (SCORE_KIND,)).layer(layer)
        weights = weight_function(captured.activations, captured.gradients[SCORE_KIND])
        return LibraryOutput(weights, class_activation_map(captured.activations, weights))

    return adapter


def _pytorch_grad_cam(method: str) -> Adapter:
    """pytorch-grad-cam (``grad-cam`` on PyPI): ``GradCAMPlusPlus`` / ``GradCAM``; weights from its
    ``get_cam_weights``, the heatmap from its ``get_cam_image`` then ReLU (what its ``__call__`` upsamples)."""

    def adapter(network: nn.Module, layer: str, inputs: Tensor, targets: Tensor) -> LibraryOutput:
        from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        cam_class = {"grad_cam_plus_plus": GradCAMPlusPlus, "grad_cam": GradCAM}[method]
        module = network.get_submodule(layer)
        cam = cam_class(model=network, target_layers=[module])
        try:
            with _graph_inputs(inputs) as graph_inputs:
                outputs = cam.activations_and_grads(graph_inputs)
                objectives = [ClassifierOutputTarget(int(t)) for t in targets]
                sum(objective(output) for objective, output in zip(objectives, outputs)).backward()
            activations = cam.activations_and_grads.activations[0].cpu().numpy()
            gradients = cam.activations_and_grads.gradients[0].cpu().numpy()
            weights = cam.get_cam_weights(graph_inputs, module, objectives, activations, gradients)
            raw = np.maximum(cam.get_cam_image(graph_inputs, module, objectives, activations, gradients), 0)
        finally:
            cam.activations_and_grads.release()
        return LibraryOutput(torch.as_tensor(np.asarray(weights)).double(), torch.as_tensor(raw).double(),
                             activations=torch.as_tensor(activations), gradients=torch.as_tensor(gradients))

    return adapter


def _torchcam(method: str) -> Adapter:
    """torchcam: ``GradCAMpp`` / ``GradCAM`` called the documented way (``extractor(class_idx, scores)``, unnormalised);
    the weights are recorded from its ``_get_weights``, the extension point its methods implement."""

    def adapter(network: nn.Module, layer: str, inputs: Tensor, targets: Tensor) -> LibraryOutput:
        from torchcam.methods import GradCAM, GradCAMpp

        cam_class = {"grad_cam_plus_plus": GradCAMpp, "grad_cam": GradCAM}[method]
        recorded: list[Tensor] = []
        with cam_class(network, target_layer=layer) as extractor, _graph_inputs(inputs) as graph_inputs:
            compute_weights = extractor._get_weights

            def recording(*args: Any, **kwargs: Any) -> list[Tensor]:
                weights = compute_weights(*args, **kwargs)
                recorded.extend(w.detach().clone() for w in weights)
                return weights

            extractor._get_weights = recording  # type: ignore[method-assign]
            scores = network(graph_inputs)
            heatmaps = extractor(class_idx=[int(t) for t in targets], scores=scores, normalized=False)[0]
            hooked_activations, hooked_gradients = extractor.hook_a[0], extractor.hook_g[0]
            if hooked_activations is None or hooked_gradients is None:
                raise RuntimeError("torchcam recorded no activations or gradients")
            activations, gradients = hooked_activations.detach().clone(), hooked_gradients.detach().clone()
        return LibraryOutput(recorded[0].double(), heatmaps.detach().double(), activations=activations, gradients=gradients)

    return adapter


def _medcam(method: str) -> Adapter:
    """medcam: ``medcam.inject(model, backend="gcampp" | "gcam", layer=..., label=target)``, one image at a time
    (with a batch, its classification path needs one label for all images); its attention map at feature-map
    resolution, min-max normalised by medcam. It exposes no weights. Its Grad-CAM++ multiplies the positive
    gradients by :math:`e^{S_c}` (a positive factor per image, invisible in a normalised heatmap)."""

    def adapter(network: nn.Module, layer: str, inputs: Tensor, targets: Tensor) -> LibraryOutput:
        from medcam import medcam

        backend = {"grad_cam_plus_plus": "gcampp", "grad_cam": "gcam"}[method]
        injected = medcam.inject(network, backend=backend, layer=layer, label=None)
        recorder = injected.medcam_dict["model_backend"]
        maps, activations, gradients = [], [], []
        for image, target in zip(inputs, targets):
            with _graph_inputs(image.unsqueeze(0)) as graph_inputs:
                injected(graph_inputs, label=int(target))
            attention = injected.get_attention_map()
            if attention is None:
                raise RuntimeError(f"medcam returned no attention map for layer {layer!r}")
            maps.append(torch.as_tensor(np.asarray(attention)).double().reshape(attention.shape[-2:]))
            activations.append(recorder.fmap_pool[layer].detach().clone())
            gradients.append(recorder.grad_pool[layer].detach().clone())
        return LibraryOutput(None, torch.stack(maps), normalised=True,
                             activations=torch.cat(activations), gradients=torch.cat(gradients))

    return adapter


@dataclass(frozen=True)
class Library:
    """A library in the audit: how to print it, install it and import it, the version the findings were pinned on,
    and per method identifier its class (as printed) and adapter."""

    name: str
    distribution: str
    module: str
    pinned: str | None
    classes: dict[str, str]
    adapters: dict[str, Adapter] = field(repr=False)

    def version(self) -> str | None:
        """The installed version, or None when the library cannot be imported."""
        try:
            importlib.import_module(self.module)
        except ImportError:
            return None
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    def missing(self) -> str | None:
        """None when installed, else a sentence saying how to install it."""
        if self.version() is not None:
            return None
        pin = f"=={self.pinned}" if self.pinned else ""
        return f"not installed (pip install {self.distribution}{pin})"


def _library(name: str, distribution: str, module: str, pinned: str | None, classes: dict[str, str],
             adapter: Callable[[str], Adapter]) -> Library:
    return Library(name, distribution, module, pinned, classes, {method: adapter(method) for method in classes})


#: The audited libraries, by name: this package (the control row), then the PyTorch libraries with a Grad-CAM++.
LIBRARIES: dict[str, Library] = {
    library.name: library
    for library in (
        _library("gradcam_study", "gradcam-study", "gradcam_study", None,
                 {"grad_cam_plus_plus": "grad_cam_plus_plus_weights", "grad_cam": "grad_cam_weights"}, _package),
        _library("pytorch-grad-cam", "grad-cam", "pytorch_grad_cam", "1.5.7",
                 {"grad_cam_plus_plus": "GradCAMPlusPlus", "grad_cam": "GradCAM"}, _pytorch_grad_cam),
        _library("torchcam", "torchcam", "torchcam", "0.5.0",
                 {"grad_cam_plus_plus": "GradCAMpp", "grad_cam": "GradCAM"}, _torchcam),
        _library("medcam", "medcam", "medcam", "0.1.22",
                 {"grad_cam_plus_plus": "inject(backend='gcampp')", "grad_cam": "inject(backend='gcam')"}, _medcam),
    )
}


@dataclass(frozen=True)
class LibraryRun:
    """One library's method at one layer: its output, or why there is none (``status``), and the comparison."""

    library: str
    method: str
    status: str
    version: str | None = None
    output: LibraryOutput | None = None
    match: MatchReport | None = None


def _run_once(library: Library, method: str, network: nn.Module, layer: str, inputs: Tensor, targets: Tensor) -> LibraryOutput:
    tree, name = hookable(network, layer) if library.name != "gradcam_study" else (network, layer)
    output = library.adapters[method](tree, name, inputs, targets)

    def as_cpu(tensor: Tensor | None) -> Tensor | None:
        return None if tensor is None else tensor.detach().double().cpu()

    return LibraryOutput(as_cpu(output.weights), output.heatmaps.detach().double().cpu(), output.normalised,
                         as_cpu(output.activations), as_cpu(output.gradients))


def run_library(
    library: Library, method: str, network: nn.Module, layer: str, inputs: Tensor, targets: Tensor,
    batch_size: int | None = None,
) -> LibraryRun:
    """``library``'s ``method`` on ``inputs`` at the layer key ``layer``, ``batch_size`` images per call (all at
    once when None); outputs come back in float64 on the CPU. A missing library or an exception becomes the run's
    ``status`` (the exception's type and the first line of its message); ``"ok"`` otherwise."""
    missing = library.missing()
    if missing is not None:
        return LibraryRun(library.name, method, missing)
    version = library.version()
    if method not in library.adapters:
        return LibraryRun(library.name, method, f"has no {METHOD_LABELS.get(method, method)}", version)
    step = batch_size or len(inputs)
    try:
        parts = [_run_once(library, method, network, layer, inputs[i:i + step], targets[i:i + step])
                 for i in range(0, len(inputs), step)]
    except Exception as error:  # noqa: BLE001 - a library's failure is a finding, recorded in its row
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return LibraryRun(library.name, method, f"error: {type(error).__name__}: {message}", version)

    def joined(name: str) -> Tensor | None:
        values = [getattr(part, name) for part in parts]
        return None if any(value is None for value in values) else torch.cat(values)

    output = LibraryOutput(joined("weights"), torch.cat([part.heatmaps for part in parts]), parts[0].normalised, joined("activations"),
                           joined("gradients"))
    return LibraryRun(library.name, method, "ok", version, output)


__all__ = [
    "LIBRARIES",
    "SCORE_KIND",
    "Adapter",
    "Library",
    "LibraryOutput",
    "LibraryRun",
    "run_library",
]
