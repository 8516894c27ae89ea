r"""Grad-CAM++ as the PyTorch libraries compute it: the same inputs through each library, and which formula it is.

Readers who use Grad-CAM++ get it from a library, not from eq. (9). This module puts identical inputs (same
network, layer, target classes; score = the target's pre-softmax logit) through each library's Grad-CAM++ and
Grad-CAM, takes its channel weights (or its heatmap, where the library does not expose weights), and finds which
of a set of candidate formulas it computes. Shapes: activations ``A`` and gradients ``g = dY/dA`` are
``B x K x H x W``; weights ``B x K``; heatmaps ``B x H x W``.

The candidates (:data:`CANDIDATES`), with :math:`g_{ij} = \partial Y / \partial A^k_{ij}` and
:math:`w_k = \sum_{ij} \alpha^k_{ij}\,\mathrm{ReLU}(g_{ij})` for the Grad-CAM++ variants:

* eq. (9): :math:`\alpha_{ij} = g_{ij}^2 / (2 g_{ij}^2 + \sum_{ab} A_{ab}\, g_{ij}^3)`, and the same with an
  :math:`\epsilon` added to the denominator (:math:`10^{-8}, 10^{-7}, 10^{-6}`);
* the "sum" denominator: :math:`\alpha_{ij} = g_{ij}^2 / (2 g_{ij}^2 + \sum_{ab} A_{ab}\, g_{ab}^3)` (the cube of
  the gradient inside the sum), with and without :math:`\epsilon`;
* the squared gradients left undivided: :math:`\alpha_{ij} = g_{ij}^2`, i.e. :math:`w_k = \sum_{ij} \mathrm{ReLU}(g_{ij})^3`;
* Grad-CAM, eq. (1), :math:`w_k = \frac{1}{Z}\sum_{ij} g_{ij}`, and Grad-CAM+, eq. (3),
  :math:`w_k = \frac{1}{Z}\sum_{ij}\mathrm{ReLU}(g_{ij})`;

each up to a positive constant factor per image (which leaves a normalised heatmap unchanged), fitted by
:func:`best_match`. Where the gradient is constant within each map (a layer that feeds global average pooling and
a linear head), eq. (9) and the "sum" denominator coincide exactly, and :func:`best_match` reports both.

Libraries hook module OUTPUTS; a layer key ``"<name>:input"`` (EfficientNet-Lite's last map is the input of
``_avg_pooling``, its last ReLU6 being a module, ``_swish``, that also serves the stem, so no module outputs that
map alone) is shown to them as the output of an identity
submodule of :class:`InputTap`, which gives the same logits as the network.

The registry (:data:`LIBRARIES`) holds, per library, an adapter per method: a function
``(network, layer_name, inputs, targets) -> LibraryOutput``. A library that is not installed, or that raises on a
layer, gives a row that says so (:func:`audit_layer`); it never stops the audit.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from .capture import TappedLayer, capture_layers
from .presentation.labels import METHOD_LABELS
from .study.provenance import Provenance
from .presentation.formats import decimals, interval, p_equals, significant
from .explain import load_pixels
from .methods import (
    class_activation_map,
    grad_cam_plus_plus_weights,
    grad_cam_plus_weights,
    grad_cam_weights,
    min_max_normalise,
    upsample,
)
from .metrics import (
    bootstrap_relative_performance,
    explanation_maps,
    log_relative_performance,
    pearson_per_image,
    relative_performance,
)
from .models import Classifier
from .study.analysis import log_prob_column, true_class_log_probs
from .study.config import DEFAULT_THRESHOLD, select_images
from .study.results import LayerResults
from .study.verdicts import SIGNIFICANCE_LEVEL, interval_verdict

_SPATIAL = (-2, -1)

#: The score every library is asked to explain: the target class's logit.
SCORE_KIND = "pre_softmax"
#: The methods audited, in the order of the tables.
AUDITED_METHODS = ("grad_cam_plus_plus", "grad_cam")
#: The package's formula each audited method is compared with (eq. (9) for Grad-CAM++, eq. (1) for Grad-CAM).
REFERENCE_FORMULA = {"grad_cam_plus_plus": "eq9", "grad_cam": "grad_cam"}
#: A candidate "matches" a library's weights when its residual (see :func:`best_match`) is at most this: float32
#: libraries against float64 formulas of the same float32 capture differ by rounding, a few 1e-7 of the largest weight.
MATCH_TOLERANCE = 1e-5
#: The same for min-max normalised heatmaps (:func:`best_heatmap_match`): a float32 normalisation loses more where a
#: map's range is small next to its values (measured up to about 1e-5 on EfficientNet-Lite0; distinct candidates
#: differ by 1e-3 or more).
HEATMAP_TOLERANCE = 1e-4
#: The images of the chapter's audit in the quick profile: an evenly spread subset of the kept images (on the CPU
#: every library runs its own forward and backward passes, medcam one image at a time).
AUDIT_IMAGES = 48


def audit_limit(profile_name: str) -> int:
    """How many kept images the chapter audits: :data:`AUDIT_IMAGES` in the quick profile, ten times as many in the
    others (which run on a GPU where there is one)."""
    return AUDIT_IMAGES if profile_name == "quick" else 10 * AUDIT_IMAGES


# --------------------------------------------------------------------------------------------------------------
# The candidate formulas: pure torch functions of (A, g), formed in float64.
# --------------------------------------------------------------------------------------------------------------


def _where_defined(numerator: Tensor, denominator: Tensor, defined: Tensor) -> Tensor:
    """``numerator / denominator`` where ``defined`` and the denominator is non-zero, else 0."""
    defined = defined & (denominator != 0)
    safe = torch.where(defined, denominator, torch.ones_like(denominator))
    return torch.where(defined, numerator / safe, torch.zeros_like(numerator))


def sum_denominator_weights(
    activations: Tensor, gradients: Tensor, epsilon: float = 0.0, dtype: torch.dtype = torch.float64
) -> Tensor:
    r"""Grad-CAM++ weights with the cube of the gradient inside the denominator's sum, formed in ``dtype``
    (float32 reproduces a float32 library's rounding), returned in float64.

    .. math::
        w_k = \sum_{ij} \frac{g_{ij}^2}{2 g_{ij}^2 + \sum_{ab} A^k_{ab}\, g_{ab}^3 + \epsilon}\,\mathrm{ReLU}(g_{ij})

    (eq. (9) has :math:`(\sum_{ab} A^k_{ab})\, g_{ij}^3` instead; the two coincide where :math:`g` is constant
    within the map). :math:`\alpha = 0` where :math:`g = 0` or the denominator vanishes.
    """
    activations, gradients = activations.to(dtype), gradients.to(dtype)
    squared = gradients.pow(2)
    denominator = 2 * squared + (activations * gradients.pow(3)).sum(dim=_SPATIAL, keepdim=True) + epsilon
    alphas = _where_defined(squared, denominator, gradients != 0)
    return (alphas * gradients.clamp(min=0)).sum(dim=_SPATIAL).double()


def undivided_weights(activations: Tensor, gradients: Tensor, dtype: torch.dtype = torch.float64) -> Tensor:
    r"""Grad-CAM++ weights whose "alphas" are the squared gradients, never divided (formed in ``dtype``, returned
    in float64).

    .. math::
        w_k = \sum_{ij} g_{ij}^2\,\mathrm{ReLU}(g_{ij}) = \sum_{ij} \mathrm{ReLU}(g_{ij})^3
    """
    del activations
    return gradients.to(dtype).clamp(min=0).pow(3).sum(dim=_SPATIAL).double()


def _eq9(activations: Tensor, gradients: Tensor, epsilon: float = 0.0) -> Tensor:
    return grad_cam_plus_plus_weights(activations.double(), gradients.double(), epsilon)


def _double(function: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    return lambda activations, gradients: function(activations.double(), gradients.double())


@dataclass(frozen=True)
class Candidate:
    """A formula a library may compute: identifier, printed label, LaTeX formula and its weights ``(A, g) -> w``."""

    name: str
    label: str
    formula: str
    weights: Callable[[Tensor, Tensor], Tensor] = field(repr=False)
    #: The same formula evaluated in float32 arithmetic (as a float32 library does), where one is defined.
    float32_weights: Callable[[Tensor, Tensor], Tensor] | None = field(default=None, repr=False)


_EPSILONS = (1e-8, 1e-7, 1e-6)
_EQ9 = r"w_k = \sum_{ij} \frac{g_{ij}^2}{2 g_{ij}^2 + (\sum_{ab} A_{ab})\, g_{ij}^3%s}\,\mathrm{ReLU}(g_{ij})"
_SUM = r"w_k = \sum_{ij} \frac{g_{ij}^2}{2 g_{ij}^2 + \sum_{ab} A_{ab}\, g_{ab}^3%s}\,\mathrm{ReLU}(g_{ij})"


def _epsilon_label(epsilon: float) -> str:
    return f"1e-{round(-math.log10(epsilon))}"


#: The candidate formulas, by identifier, in the order ties are listed.
CANDIDATES: dict[str, Candidate] = {
    candidate.name: candidate
    for candidate in (
        Candidate("eq9", "eq. 9", _EQ9 % "", _eq9),
        *(
            Candidate(f"eq9_eps{_epsilon_label(e)}", f"eq. 9 + ε={_epsilon_label(e)}", _EQ9 % rf" + 10^{{{round(math.log10(e))}}}",
                      partial(_eq9, epsilon=e))
            for e in _EPSILONS
        ),
        Candidate("sum_denominator", "ΣAg³ denominator", _SUM % "", sum_denominator_weights,
                  partial(sum_denominator_weights, dtype=torch.float32)),
        *(
            Candidate(f"sum_denominator_eps{_epsilon_label(e)}", f"ΣAg³ denominator + ε={_epsilon_label(e)}",
                      _SUM % rf" + 10^{{{round(math.log10(e))}}}", partial(sum_denominator_weights, epsilon=e),
                      partial(sum_denominator_weights, epsilon=e, dtype=torch.float32))
            for e in _EPSILONS
        ),
        Candidate("undivided", "the undivided squared gradients, w = Σ ReLU(g)³", r"w_k = \sum_{ij} \mathrm{ReLU}(g_{ij})^3",
                  undivided_weights, partial(undivided_weights, dtype=torch.float32)),
        Candidate("grad_cam", "Grad-CAM, eq. 1", r"w_k = \frac{1}{Z}\sum_{ij} g_{ij}", _double(grad_cam_weights)),
        Candidate("grad_cam_plus", "Grad-CAM+, eq. 3", r"w_k = \frac{1}{Z}\sum_{ij} \mathrm{ReLU}(g_{ij})",
                  _double(grad_cam_plus_weights)),
    )
}


def candidate_table() -> pd.DataFrame:
    """The candidates as a table: identifier (index), label and LaTeX formula."""
    return pd.DataFrame(
        {"label": [c.label for c in CANDIDATES.values()], "formula": [f"${c.formula}$" for c in CANDIDATES.values()]},
        index=pd.Index(list(CANDIDATES), name="candidate"),
    )


# --------------------------------------------------------------------------------------------------------------
# Matching observed weights or heatmaps against the candidates.
# --------------------------------------------------------------------------------------------------------------


def normalised_heatmaps_of(activations: Tensor, weights: Tensor) -> Tensor:
    """Eq. (2) then per-image min-max normalisation, in float64: the heatmap a method's ``weights`` give."""
    return min_max_normalise(class_activation_map(activations.double(), weights.double()))


def fitted_factors(observed: Tensor, expected: Tensor) -> Tensor:
    r"""Per image, the positive factor :math:`c \ge 0` minimising :math:`\|w_{obs} - c\, w_{exp}\|_2` (float64, ``B``).

    :math:`c = \max(0, \langle w_{obs}, w_{exp}\rangle / \|w_{exp}\|^2)`; 0 where :math:`w_{exp} = 0`.
    """
    observed, expected = observed.double().flatten(1), expected.double().flatten(1)
    norm = (expected * expected).sum(dim=1)
    return _where_defined((observed * expected).sum(dim=1), norm, norm > 0).clamp(min=0)


def weight_residuals(observed: Tensor, expected: Tensor, factors: Tensor | None = None) -> Tensor:
    r"""Per image (``B``), the largest deviation of ``observed`` weights from ``factors`` times ``expected``
    (``B x K``), relative to the image's largest observed weight:

    .. math::
        r_b = \frac{\max_k |w^{obs}_{bk} - c_b\, w^{exp}_{bk}|}{\max_k |w^{obs}_{bk}|}

    (near-zero weights would make a per-weight ratio meaningless). ``factors`` default to 1. An image whose weights
    are all 0 gives 0 when the expected ones are 0 too, else 1.
    """
    observed, expected = observed.double(), expected.double()
    if factors is not None:
        expected = expected * factors.double().view(-1, 1)
    scale = observed.abs().amax(dim=1)
    deviation = (observed - expected).abs().amax(dim=1)
    relative = _where_defined(deviation, scale, scale > 0)
    return torch.where((scale == 0) & (deviation > 0), torch.ones_like(relative), relative)


def weight_residual(observed: Tensor, expected: Tensor, factors: Tensor | None = None) -> float:
    r"""The largest relative deviation over the batch, :math:`\max_b r_b` of :func:`weight_residuals`."""
    residuals = weight_residuals(observed, expected, factors)
    return float(residuals.max()) if residuals.numel() else float("nan")


def heatmap_residuals(observed: Tensor, expected: Tensor) -> Tensor:
    """Per image, the largest absolute difference of two min-max normalised heatmaps (values in [0, 1])."""
    return (observed.double() - expected.double()).abs().flatten(start_dim=1).amax(dim=1)


def heatmap_residual(observed: Tensor, expected: Tensor) -> float:
    """The largest absolute difference of two batches of min-max normalised heatmaps (values in [0, 1])."""
    residuals = heatmap_residuals(observed, expected)
    return float(residuals.max()) if residuals.numel() else float("nan")


@dataclass(frozen=True)
class Match:
    """One candidate against the observation: its residual (the largest over the images), on how many of the
    ``images`` the per-image residual is within the report's tolerance, and for weights the fitted factors'
    median and range."""

    candidate: str
    residual: float
    images_matched: int = 0
    images: int = 0
    factor: float | None = None
    factor_low: float | None = None
    factor_high: float | None = None
    #: The residual of each image (float64, ``B``).
    per_image: Tensor | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return CANDIDATES[self.candidate].label


@dataclass(frozen=True)
class MatchReport:
    """Every candidate ranked by residual (best first), what was compared (``"weights"`` or ``"heatmaps"``), and
    the tolerance within which a candidate counts as matching."""

    ranked: tuple[Match, ...]
    compared: str
    tolerance: float = MATCH_TOLERANCE
    prefer: str | None = None

    @property
    def best(self) -> Match:
        """The formula reported: among the candidates within the tolerance, ``prefer`` (the formula the method is
        supposed to compute) when it is one of them, else the first in :data:`CANDIDATES` order (eq. (9) and its
        variants before the others: a tie is a coincidence of these inputs, e.g. alphas all at 1/2). When none is
        within the tolerance on every image, the one within it on the most images (then the smallest residual)."""
        matches = self.matches
        if not matches:
            return max(self.ranked, key=lambda m: (m.images_matched, -m.residual))
        chosen = self.prefer if self.prefer in matches else matches[0]
        return next(m for m in self.ranked if m.candidate == chosen)

    @property
    def matches(self) -> tuple[str, ...]:
        """Candidates within the tolerance, in :data:`CANDIDATES` order (indistinguishable on these inputs)."""
        within = {m.candidate for m in self.ranked if m.residual <= self.tolerance}
        return tuple(name for name in CANDIDATES if name in within)

    @property
    def matched(self) -> bool:
        return self.best.residual <= self.tolerance


def _match(name: str, residuals: Tensor, tolerance: float, factors: Tensor | None = None) -> Match:
    return Match(
        name,
        float(residuals.max()) if residuals.numel() else float("nan"),
        int((residuals <= tolerance).sum()),
        int(residuals.numel()),
        *((float(factors.median()), float(factors.min()), float(factors.max())) if factors is not None else (None,) * 3),
        residuals,
    )


def best_match(
    observed_weights: Tensor,
    activations: Tensor,
    gradients: Tensor,
    candidates: Mapping[str, Candidate] | None = None,
    tolerance: float = MATCH_TOLERANCE,
    prefer: str | None = None,
) -> MatchReport:
    r"""Which candidate formula ``observed_weights`` (``B x K``) are, up to a positive factor per image.

    For each candidate :math:`F`, the factor :math:`c_b` of :func:`fitted_factors` is fitted per image and the
    residual is :func:`weight_residual` of :math:`w^{obs}` against :math:`c_b F(A, g)`: the largest deviation
    relative to each image's largest weight. Candidates are ranked by residual; :attr:`MatchReport.best` prefers
    ``prefer`` among those within ``tolerance``.

    >>> import torch
    >>> A, g = torch.rand(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    >>> report = best_match(2 * grad_cam_weights(A, g), A, g)
    >>> report.best.candidate, round(report.best.factor, 6), report.best.images_matched
    ('grad_cam', 2.0, 2)
    """
    candidates = CANDIDATES if candidates is None else candidates
    ranked = []
    for name, candidate in candidates.items():
        expected = candidate.weights(activations, gradients)
        factors = fitted_factors(observed_weights, expected)
        ranked.append(_match(name, weight_residuals(observed_weights, expected, factors), tolerance, factors))
    return MatchReport(tuple(sorted(ranked, key=lambda m: m.residual)), "weights", tolerance, prefer)


def best_heatmap_match(
    observed_heatmaps: Tensor,
    activations: Tensor,
    gradients: Tensor,
    candidates: Mapping[str, Candidate] | None = None,
    tolerance: float = HEATMAP_TOLERANCE,
    prefer: str | None = None,
) -> MatchReport:
    """Which candidate a library's min-max normalised heatmaps (``B x H x W``) come from, where it exposes no weights.

    The residual is :func:`heatmap_residual` against :func:`normalised_heatmaps_of` the candidate's weights. A
    positive factor per image does not change a normalised heatmap, so no factor is reported.
    """
    candidates = CANDIDATES if candidates is None else candidates
    ranked = [
        _match(name, heatmap_residuals(observed_heatmaps, normalised_heatmaps_of(activations, c.weights(activations, gradients))),
               tolerance)
        for name, c in candidates.items()
    ]
    return MatchReport(tuple(sorted(ranked, key=lambda m: m.residual)), "heatmaps", tolerance, prefer)


# --------------------------------------------------------------------------------------------------------------
# Showing a layer to libraries that hook module outputs.
# --------------------------------------------------------------------------------------------------------------


class InputTap(nn.Module):
    """``network`` with the INPUT of its submodule ``layer`` routed through an identity submodule ``tap``.

    Libraries hook module outputs; the output of ``tap`` is exactly the tensor entering ``layer``. The routing
    hook is registered for the duration of each forward pass only, so ``network`` itself is never changed, and
    the logits are the network's (an identity changes nothing).

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()
    >>> tapped = InputTap(net, "2")
    >>> x = torch.randn(1, 3, 6, 6)
    >>> bool((tapped(x) == net(x)).all())
    True
    """

    def __init__(self, network: nn.Module, layer: str):
        super().__init__()
        self.network = network
        self.tap = nn.Identity()
        self.layer = layer
        network.get_submodule(layer)  # an unknown name fails here, not in forward

    def forward(self, inputs: Tensor) -> Tensor:
        target = self.network.get_submodule(self.layer)
        handle = target.register_forward_pre_hook(lambda _module, args: (self.tap(args[0]), *args[1:]))
        try:
            return self.network(inputs)
        finally:
            handle.remove()


def hookable(network: nn.Module, layer: str) -> tuple[nn.Module, str]:
    """``(module tree, dotted name)`` whose named module's OUTPUT is the map of the layer key ``layer``.

    An output key is the network itself and the name; an input key (``"_avg_pooling:input"``) is an
    :class:`InputTap` of the network and ``"tap"``.
    """
    tapped = TappedLayer.parse(layer)
    if tapped.tap == "output":
        network.get_submodule(tapped.name)
        return network, tapped.name
    return InputTap(network, tapped.name), "tap"


# --------------------------------------------------------------------------------------------------------------
# The libraries: one adapter per method, each returning weights and/or heatmaps for identical inputs.
# --------------------------------------------------------------------------------------------------------------


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

            def recording(*args: object, **kwargs: object) -> list[Tensor]:
                weights = compute_weights(*args, **kwargs)
                recorded.extend(w.detach().clone() for w in weights)
                return weights

            extractor._get_weights = recording  # type: ignore[method-assign]
            scores = network(graph_inputs)
            heatmaps = extractor(class_idx=[int(t) for t in targets], scores=scores, normalized=False)[0]
            activations, gradients = extractor.hook_a[0].detach().clone(), extractor.hook_g[0].detach().clone()
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


# --------------------------------------------------------------------------------------------------------------
# The audit: identical inputs through every library at one layer.
# --------------------------------------------------------------------------------------------------------------


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
    as_cpu = lambda tensor: None if tensor is None else tensor.detach().double().cpu()  # noqa: E731
    return LibraryOutput(as_cpu(output.weights), as_cpu(output.heatmaps), output.normalised,
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

    output = LibraryOutput(joined("weights"), joined("heatmaps"), parts[0].normalised, joined("activations"),
                           joined("gradients"))
    return LibraryRun(library.name, method, "ok", version, output)


def compare(run: LibraryRun, activations: Tensor, gradients: Tensor) -> LibraryRun:
    """``run`` with its :class:`MatchReport` against the candidates (on weights where exposed, else on heatmaps),
    evaluated on the library's own activations and gradients where it exposes them, else on ``activations`` and
    ``gradients`` (the package's capture of the same batch)."""
    if run.output is None:
        return run
    if run.output.activations is not None and run.output.gradients is not None:
        activations, gradients = run.output.activations, run.output.gradients
    prefer = REFERENCE_FORMULA.get(run.method)
    if run.output.weights is not None:
        report = best_match(run.output.weights, activations, gradients, prefer=prefer)
    else:
        report = best_heatmap_match(run.output.heatmaps, activations, gradients, prefer=prefer)
    return replace(run, match=report)


def explanation_log_probs(
    classifier: Classifier, pixels: Tensor, heatmaps: Tensor, targets: Tensor, batch_size: int = 16
) -> Tensor:
    """The study's protocol on given heatmaps (``B x h x w``): min-max normalise, upsample to the image, explanation
    maps (eq. (15)), and the log-probability of each target class on them (``batch_size`` maps per forward pass)."""
    device = classifier.device
    pixels = pixels.to(device)
    normalised = min_max_normalise(heatmaps.float().to(device))
    maps = explanation_maps(pixels, upsample(normalised, (pixels.shape[-2], pixels.shape[-1])), classifier.normalise)
    return true_class_log_probs(classifier, maps, targets.to(device), chunk=batch_size).double().cpu()


def audit_images(results: LayerResults, limit: int | None = AUDIT_IMAGES, threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """The images of the audit: ``limit`` of the kept images, evenly spread (:func:`select_images`); all when None."""
    return [int(i) for i in select_images(list(results.require_kept(threshold).index), limit)]


def audit_provenance(
    results: LayerResults, images: Sequence[int], threshold: float = DEFAULT_THRESHOLD, subset: str | None = None
) -> Provenance:
    """The layer's provenance with its data set naming the audit's subset of the kept images (``subset`` describes
    it instead of "an evenly spread subset of N", e.g. for a single image)."""
    kept = len(results.kept(threshold))
    if subset is None:
        subset = "all" if len(images) == kept else f"an evenly spread subset of {len(images)}"
    return replace(
        results.provenance,
        dataset=f"{results.provenance.dataset}, {subset} of the {kept} images kept at threshold {threshold}",
        images=len(images),
        total=None,
    )


def float32_residual(run: LibraryRun) -> float:
    """Where the best match of ``run`` misses some images: the residual of the same candidate evaluated in float32
    arithmetic on the library's own activations and gradients (what a float32 library computes). Near a pole of a
    Grad-CAM++ denominator, float32 rounding is amplified into the alphas, so a formula can match in float32 where
    its float64 value does not. NaN where every image matched, or the candidate has no float32 form, or the library
    exposes no activations and gradients."""
    if run.output is None or run.match is None or run.match.matched or run.output.activations is None:
        return float("nan")
    candidate = CANDIDATES[run.match.best.candidate]
    if candidate.float32_weights is None:
        return float("nan")
    activations, gradients = run.output.activations, run.output.gradients
    weights = candidate.float32_weights(activations.float(), gradients.float())
    if run.match.compared == "heatmaps":
        return heatmap_residual(run.output.heatmaps, normalised_heatmaps_of(activations, weights))
    return weight_residual(run.output.weights, weights, fitted_factors(run.output.weights, weights))


def capture_deviation(output: LibraryOutput, activations: Tensor, gradients: Tensor) -> float:
    """How far the activations and gradients a library recorded are from the package's capture of the same batch:
    the larger of :func:`weight_residual` applied to each (flattened per image; relative to each image's largest
    value). NaN where the library does not expose them."""
    if output.activations is None or output.gradients is None:
        return float("nan")
    return max(
        weight_residual(output.activations.flatten(1), activations.flatten(1)),
        weight_residual(output.gradients.flatten(1), gradients.flatten(1)),
    )


def _reference_heatmaps(activations: Tensor, gradients: Tensor, method: str) -> Tensor:
    return normalised_heatmaps_of(activations, CANDIDATES[REFERENCE_FORMULA[method]].weights(activations, gradients))


def audit_layer(
    results: LayerResults,
    classifier: Classifier,
    images: Sequence[int],
    libraries: Mapping[str, Library] | None = None,
    methods: Sequence[str] = AUDITED_METHODS,
    scored_methods: Sequence[str] = ("grad_cam_plus_plus",),
    resamples: int = 2000,
    batch_size: int = 16,
) -> pd.DataFrame:
    """Every library's ``methods`` on the ``images`` (ids of ``results.images``) at ``results.layer``, targets =
    their labels, score = the pre-softmax logit; one row per (library, method), columns are identifiers.

    ``formula`` / ``residual`` / ``images_matched`` / ``matches`` / ``factor``: the best candidate (:func:`best_match`
    on the weights, :func:`best_heatmap_match` where only heatmaps are exposed; both on the library's own activations
    and gradients where it exposes them), its residual, on how many images it is within the tolerance, every
    candidate within the tolerance on all images, the fitted factor (median over images); ``residuals`` maps every
    candidate to its residual; ``float32_residual`` is :func:`float32_residual`; ``capture_deviation`` is
    :func:`capture_deviation` (the library's A and g against the package's). ``deviation``: the largest relative deviation of the
    weights from the package's formula (eq. (9) for Grad-CAM++, eq. (1) for Grad-CAM; :func:`weight_residual`, no
    factor); ``deviation_up_to_factor`` the same after fitting a positive factor per image (what a normalised heatmap
    sees). ``heatmap_deviation``: the largest difference of the normalised heatmaps from that formula's.
    ``median_correlation``: the median per-image Pearson correlation of the two normalised heatmaps. For
    ``scored_methods``, the study's protocol (eq. (16)) on these images: ``relative_performance`` against the
    study's stored eq. (9) Grad-CAM++ scores and ``relative_performance_vs_grad_cam_plus`` against its Grad-CAM+
    scores, each with a percentile bootstrap 95% interval (``ci_low``, ``ci_high``, ``..._vs_grad_cam_plus``).
    ``status`` is ``"ok"``, ``"not installed (...)"`` or ``"error: ..."``. Libraries and the reference capture get
    ``batch_size`` images per call.
    """
    libraries = LIBRARIES if libraries is None else libraries
    images = list(images)
    frame = results.images.loc[images]
    pixels = load_pixels(classifier, [results.image_path(i) for i in images])
    targets = torch.tensor(frame["label"].tolist(), dtype=torch.long)
    inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last).to(classifier.device)
    targets = targets.to(classifier.device)
    activations, gradients = [], []
    for start in range(0, len(images), batch_size):
        part = slice(start, start + batch_size)
        captured = capture_layers(classifier.network, [results.layer], inputs[part], targets[part], (SCORE_KIND,))
        activations.append(captured.activations[results.layer].double().cpu())
        gradients.append(captured.gradients[results.layer][SCORE_KIND].double().cpu())
    activations, gradients = torch.cat(activations), torch.cat(gradients)
    stored = {m: frame[log_prob_column(SCORE_KIND, m)].to_numpy() for m in ("grad_cam_plus_plus", "grad_cam_plus")}
    records = []
    for library in libraries.values():
        for method in methods:
            run = run_library(library, method, classifier.network, results.layer, inputs, targets, batch_size)
            run = compare(run, activations, gradients)
            record: dict[str, object] = {
                "library": library.name, "method": method, "class": library.classes.get(method, "–"),
                "version": run.version, "status": run.status, "images": len(images),
            }
            if run.output is not None and run.match is not None:
                output, reference = run.output, CANDIDATES[REFERENCE_FORMULA[method]]
                expected = reference.weights(activations, gradients)
                heatmaps = output.heatmaps
                normalised = heatmaps if output.normalised else min_max_normalise(heatmaps)
                reference_heatmaps = _reference_heatmaps(activations, gradients, method)
                record.update(
                    float32_residual=float32_residual(run),
                    capture_deviation=capture_deviation(output, activations, gradients),
                    formula=run.match.best.candidate,
                    residuals={m.candidate: m.residual for m in run.match.ranked},
                    residual=run.match.best.residual,
                    images_matched=run.match.best.images_matched,
                    matches=", ".join(run.match.matches),
                    compared=run.match.compared,
                    factor=run.match.best.factor,
                    deviation=(weight_residual(output.weights, expected) if output.weights is not None else float("nan")),
                    deviation_up_to_factor=(weight_residual(output.weights, expected, fitted_factors(output.weights, expected))
                                            if output.weights is not None else float("nan")),
                    heatmap_deviation=heatmap_residual(normalised, reference_heatmaps),
                    median_correlation=float(np.nanmedian(pearson_per_image(normalised, reference_heatmaps).numpy())),
                )
                if method in scored_methods:
                    log_probs = explanation_log_probs(classifier, pixels, heatmaps, targets, batch_size).numpy()
                    for suffix, against in (("", "grad_cam_plus_plus"), ("_vs_grad_cam_plus", "grad_cam_plus")):
                        log_rp = log_relative_performance(log_probs, stored[against])
                        interval = bootstrap_relative_performance(log_rp, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples)
                        record[f"relative_performance{suffix}"] = relative_performance(log_probs, stored[against])
                        record[f"ci_low{suffix}"] = interval.low
                        record[f"ci_high{suffix}"] = interval.high
            records.append(record)
    audit = pd.DataFrame.from_records(records).set_index(["library", "method"])
    audit.attrs["layer"] = results.layer
    return audit


def score_identified(
    audit: pd.DataFrame,
    results: LayerResults,
    classifier: Classifier,
    threshold: float = DEFAULT_THRESHOLD,
    method: str = "grad_cam_plus_plus",
    batch_size: int = 16,
    resamples: int = 2000,
) -> pd.DataFrame:
    """The audit with each library's ``method`` scored on EVERY image kept at ``threshold``, not only on the audit's
    subset: the formula :func:`audit_layer` identified for it (its best candidate; a positive factor per image does
    not change a normalised heatmap) is a weighting of the study's own capture, so the package computes its heatmaps
    from one capture per batch and scores them by the study's protocol (eq. (15), (16)) against the stored eq. (9)
    Grad-CAM++ and Grad-CAM+ scores. Replaces ``relative_performance``, ``ci_low``, ``ci_high`` (and their
    ``_vs_grad_cam_plus`` twins) of those rows and sets ``scored_images``; candidates whose heatmaps of a batch are
    equal share their forward passes.

    >>> scored = score_identified(audit, results, classifier)      # doctest: +SKIP
    >>> int(scored.loc[("torchcam", "grad_cam_plus_plus"), "scored_images"]) == len(results.kept())  # doctest: +SKIP
    True
    """
    scored = audit.copy()
    rows = [key for key, row in audit.iterrows() if key[1] == method and row["status"] == "ok"
            and isinstance(row.get("formula"), str)]
    formulas = list(dict.fromkeys(audit.loc[key, "formula"] for key in rows))
    if not formulas:
        return scored
    kept = results.require_kept(threshold)
    ids = list(kept.index)
    device = classifier.device
    log_probs: dict[str, list[Tensor]] = {formula: [] for formula in formulas}
    for start in range(0, len(ids), batch_size):
        part = ids[start:start + batch_size]
        pixels = load_pixels(classifier, [results.image_path(i) for i in part]).to(device)
        targets = torch.tensor(kept.loc[part, "label"].tolist(), dtype=torch.long, device=device)
        inputs = classifier.normalise(pixels).contiguous(memory_format=torch.channels_last)
        captured = capture_layers(classifier.network, [results.layer], inputs, targets, (SCORE_KIND,))
        activations = captured.activations[results.layer].double()
        gradients = captured.gradients[results.layer][SCORE_KIND].double()
        done: list[tuple[Tensor, Tensor]] = []
        for formula in formulas:
            heatmaps = normalised_heatmaps_of(activations, CANDIDATES[formula].weights(activations, gradients))
            same = next((scores for earlier, scores in done if torch.equal(earlier, heatmaps)), None)
            if same is None:
                same = explanation_log_probs(classifier, pixels, heatmaps, targets, batch_size)
                done.append((heatmaps, same))
            log_probs[formula].append(same)
    stored = {m: kept[log_prob_column(SCORE_KIND, m)].to_numpy() for m in ("grad_cam_plus_plus", "grad_cam_plus")}
    for key in rows:
        found = torch.cat(log_probs[audit.loc[key, "formula"]]).numpy()
        for suffix, against in (("", "grad_cam_plus_plus"), ("_vs_grad_cam_plus", "grad_cam_plus")):
            log_rp = log_relative_performance(found, stored[against])
            bounds = bootstrap_relative_performance(log_rp, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples)
            scored.loc[key, f"relative_performance{suffix}"] = relative_performance(found, stored[against])
            scored.loc[key, f"ci_low{suffix}"] = bounds.low
            scored.loc[key, f"ci_high{suffix}"] = bounds.high
        scored.loc[key, "scored_images"] = len(ids)
    return scored


# --------------------------------------------------------------------------------------------------------------
# Tables and sentences for the chapter.
# --------------------------------------------------------------------------------------------------------------


def _text(value: object, digits: int = 3, style: Callable[[float, int], str] = decimals) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return style(float(value), digits)  # type: ignore[arg-type]


def _tolerance(row: pd.Series) -> float:
    return MATCH_TOLERANCE if row["compared"] == "weights" else HEATMAP_TOLERANCE


def _float32_matches(row: pd.Series) -> bool:
    residual = row.get("float32_residual")
    return isinstance(residual, float) and math.isfinite(residual) and residual <= _tolerance(row)


def _partial(row: pd.Series) -> str:
    """Empty when the best candidate matches on every image, else on how many, and whether its float32 form does."""
    if row["residual"] <= _tolerance(row):
        return ""
    text = f"within {_tolerance(row):g} on {int(row['images_matched'])} of {int(row['images'])} images"
    if _float32_matches(row):
        text += f" in float64, and on all {int(row['images'])} when evaluated in float32, as the library computes it"
    return text


def _formula_text(row: pd.Series) -> str:
    """The best candidate's label, with its factor when not 1, and how far it matches when not on every image."""
    if row["status"] != "ok":
        return row["status"]
    label = CANDIDATES[row["formula"]].label
    factor = row.get("factor")
    if isinstance(factor, float) and math.isfinite(factor) and abs(factor - 1) > 1e-4:
        label += f" × {significant(factor)}"
    partial_match = _partial(row)
    return f"{label} ({partial_match})" if partial_match else label


def formula_table(audit: pd.DataFrame) -> pd.DataFrame:
    """Per library and method: version, the formula it computes (best candidate, with its factor), its residual,
    every candidate indistinguishable on these inputs, what was compared, and how far the activations and
    gradients it recorded are from the package's capture (:func:`capture_deviation`); errors and absences as text."""
    rows = {}
    for (library, method), row in audit.iterrows():
        ok = row["status"] == "ok"
        rows[(library, METHOD_LABELS[method])] = {
            "class": row["class"],
            "version": row["version"] or "–",
            "formula (best match)": _formula_text(row),
            "residual": _text(row.get("residual"), 2, significant) if ok else "–",
            "also matches": ", ".join(CANDIDATES[c].label for c in row["matches"].split(", ") if c and c != row["formula"])
            if ok else "–",
            "compared": row["compared"] if ok else "–",
            "its A and g vs the package's": _text(row.get("capture_deviation"), 2, significant) if ok else "–",
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.names = ["library", "method"]
    return frame


def performance_table(audit: pd.DataFrame, method: str = "grad_cam_plus_plus") -> pd.DataFrame:
    """Per library, for ``method``: the largest relative deviation of its weights from the package's formula, the
    largest difference of normalised heatmaps, the median heatmap correlation, and the relative performances
    (3 decimals) with their 95% intervals against eq. (9)'s Grad-CAM++ and against Grad-CAM+."""
    rows = {}
    for (library, row_method), row in audit.iterrows():
        if row_method != method:
            continue
        ok = row["status"] == "ok"
        entry = {
            "largest relative weight deviation from eq. 9": _text(row.get("deviation"), 2, significant) if ok else row["status"],
            "largest deviation after fitting a factor per image": _text(row.get("deviation_up_to_factor"), 2, significant) if ok else "–",
            "largest heatmap difference": _text(row.get("heatmap_deviation"), 2, significant) if ok else "–",
            "median heatmap correlation with eq. 9": _text(row.get("median_correlation"), 4) if ok else "–",
        }
        for suffix, against in (("", "eq. 9's Grad-CAM++"), ("_vs_grad_cam_plus", "Grad-CAM+")):
            if ok and f"relative_performance{suffix}" in row and math.isfinite(row[f"relative_performance{suffix}"]):
                entry[f"relative performance vs {against} [95% CI]"] = interval(
                    row[f"relative_performance{suffix}"], row[f"ci_low{suffix}"], row[f"ci_high{suffix}"]
                )
            else:
                entry[f"relative performance vs {against} [95% CI]"] = "–"
        rows[library] = entry
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("library")


def _is_eq9(candidate: str) -> bool:
    """Whether a candidate is eq. (9), with or without an epsilon."""
    return candidate == "eq9" or candidate.startswith("eq9_eps")


def _layer_candidates(row: pd.Series) -> list[str]:
    """The candidates a row supports: those within the tolerance, or the best one where none is on every image."""
    return [name for name in row["matches"].split(", ") if name] or [row["formula"]]


def consistent_formula(rows: Sequence[pd.Series], method: str) -> str | None:
    """The one candidate every row (a library's method at several layers, all ``"ok"``) supports: the method's own
    formula where possible (eq. (9) or eq. (1)), else the first in :data:`CANDIDATES` order; None when no candidate
    is supported at every layer. (At a layer with constant gradients, eq. (9) and the ΣAg³ denominator tie; the
    other layer decides.)"""
    if not rows:
        return None
    common = set.intersection(*(set(_layer_candidates(row)) for row in rows))
    if not common:
        return None
    own = REFERENCE_FORMULA[method]
    return own if own in common else next(name for name in CANDIDATES if name in common)


def _audited_libraries(audits: Mapping[str, pd.DataFrame]) -> list[str]:
    """The libraries of the audits, in order, without this package (the control)."""
    names = dict.fromkeys(name for audit in audits.values() for name in audit.index.get_level_values("library"))
    return [name for name in names if name != "gradcam_study"]


def _interval(row: pd.Series, against: str, suffix: str = "") -> str:
    """``"1.004 [0.998, 1.011] against <against> (not distinguishable)"``."""
    low, high = row[f"ci_low{suffix}"], row[f"ci_high{suffix}"]
    return (f"{interval(row[f'relative_performance{suffix}'], low, high)} against {against} "
            f"({interval_verdict(low, high)})")


def _status_phrase(status: str) -> str:
    return status if status.startswith("not installed") else f"raised {status.removeprefix('error: ')}"


def _rows(audits: Mapping[str, pd.DataFrame], library: str, method: str) -> dict[str, pd.Series]:
    return {layer: audit.loc[(library, method)] for layer, audit in audits.items() if (library, method) in audit.index}


def _method_sentence(library: str, method: str, audits: Mapping[str, pd.DataFrame]) -> str:
    """``"`Class` computes F at every layer audited (residual r at L1, r' at L2), not eq. 9"``; per layer where no one
    formula fits all; absences and errors per layer."""
    from .presentation.labels import layer_label

    rows = _rows(audits, library, method)
    ok = {layer: row for layer, row in rows.items() if row["status"] == "ok"}
    problems = [f"at {layer_label(layer)} it {_status_phrase(row['status'])}" for layer, row in rows.items()
                if row["status"] != "ok"]
    klass = next(iter(rows.values()))["class"]
    chosen = consistent_formula(list(ok.values()), method)
    own = CANDIDATES[REFERENCE_FORMULA[method]].label
    if chosen is not None:
        residuals = []
        for layer, row in ok.items():
            partial_match = _partial(row) if row["formula"] == chosen else ""
            residuals.append(f"{significant(row['residuals'][chosen], 2)} at {layer_label(layer)}"
                             + (f", {partial_match}" if partial_match else ""))
        same = _is_eq9(chosen) if method == "grad_cam_plus_plus" else chosen == REFERENCE_FORMULA[method]
        text = (f"`{klass}` computes {CANDIDATES[chosen].label} at {'every layer audited' if len(ok) > 1 else 'the layer'} "
                f"(residual {'; '.join(residuals)})" + ("" if same else f", not {own}"))
    elif ok:
        text = f"`{klass}` computes " + "; ".join(
            f"{_formula_text(row)} at {layer_label(layer)} (residual {significant(row['residual'], 2)})"
            for layer, row in ok.items()) + f", not {own}"
    else:
        text = f"`{klass}`"
    return "; ".join([text, *problems])


def findings(audits: Mapping[str, pd.DataFrame]) -> list[str]:
    """One computed sentence per library (this package, the control, left out): what its Grad-CAM++ and its
    Grad-CAM compute at the audited layers (``audits``: :func:`audit_layer` frames by layer key), with residuals,
    or that it is not installed or raised."""
    sentences = []
    for library in _audited_libraries(audits):
        rows = [row for method in AUDITED_METHODS for row in _rows(audits, library, method).values()]
        statuses = {row["status"] for row in rows}
        if len(statuses) == 1 and next(iter(statuses)).startswith("not installed"):
            sentences.append(f"**{library}** is {next(iter(statuses))}: its rows are empty.")
            continue
        version = next((row["version"] for row in rows if row["version"]), None)
        name = f"{library} {version}" if version else library
        methods = [m for m in AUDITED_METHODS if _rows(audits, library, m)]
        sentences.append(f"**{name}**: " + "; ".join(_method_sentence(library, m, audits) for m in methods) + ".")
    return sentences


def study_verdicts(statistics: Mapping[str, pd.DataFrame]) -> dict[str, tuple[str, str]]:
    """Per layer key, the study's Grad-CAM++ (eq. (9)) against Grad-CAM+ on all its kept images, pre-softmax
    (``statistics``: :meth:`LayerResults.statistics` frames by layer key): its interval verdict and a clause with the
    relative performance, its interval and the equivalence test."""
    from .presentation.labels import layer_label
    from .study.verdicts import EQUIVALENCE_MARGIN

    found = {}
    for layer, frame in statistics.items():
        row = frame[(frame["first"] == "grad_cam_plus_plus") & (frame["second"] == "grad_cam_plus")
                    & (frame["kind"] == SCORE_KIND)].iloc[0]
        verdict = interval_verdict(row["ci_low"], row["ci_high"])
        found[layer] = (verdict, (
            f"at {layer_label(layer)} with {SCORE_KIND.replace('_', '-')} maps, Grad-CAM++ against Grad-CAM+ scores "
            f"{interval(row['relative_performance'], row['ci_low'], row['ci_high'])} over the study's "
            f"{int(row['images'])} kept images ("
            + {"worse": "worse, with the interval below 1", "better": "better, with the interval above 1",
               "not distinguishable": "not distinguishable"}[verdict]
            + f"; equivalence within {EQUIVALENCE_MARGIN:.0%} {'shown' if row['equivalent'] else 'not shown'}, "
            f"TOST p {p_equals(row['tost_p_value'])})"
        ))
    return found


def recommendations(audits: Mapping[str, pd.DataFrame], statistics: Mapping[str, pd.DataFrame]) -> list[str]:
    """The chapter's "What to do", computed: whether the study favours Grad-CAM++ over Grad-CAM+ anywhere
    (:func:`study_verdicts`), then per library whether that applies to its Grad-CAM++ (it does where the library
    computes eq. (9)) and how the formula its Grad-CAM++ computes scores on every kept image (:func:`score_identified`) against eq. (9)'s and against Grad-CAM+."""
    from .presentation.labels import layer_label

    verdicts = study_verdicts(statistics)
    better = [layer_label(layer) for layer, (verdict, _) in verdicts.items() if verdict == "better"]
    lead = (f"**Grad-CAM+ rather than Grad-CAM++.** No interval in this study puts Grad-CAM++ above Grad-CAM+: "
            if not better else
            f"**Grad-CAM++ or Grad-CAM+.** Grad-CAM++ scores better than Grad-CAM+ at {', '.join(better)}: ")
    sentences = [lead + "; ".join(clause for _, clause in verdicts.values()) + ". Grad-CAM+ has no alphas, so it has "
                 "no denominator to come near a pole ({doc}`alphas_unstable`)."]
    for library in _audited_libraries(audits):
        rows = _rows(audits, library, "grad_cam_plus_plus")
        ok = {layer: row for layer, row in rows.items() if row["status"] == "ok"}
        klass = next(iter(rows.values()))["class"]
        if not ok:
            sentences.append(f"**{library}**: {_status_phrase(next(iter(rows.values()))['status'])}; nothing to say.")
            continue
        scores = "; ".join(
            f"at {layer_label(layer)}, {_interval(row, 'eq. 9' + chr(39) + 's Grad-CAM++')} and "
            f"{_interval(row, 'Grad-CAM+', '_vs_grad_cam_plus')}"
            for layer, row in ok.items() if "relative_performance" in row.index and math.isfinite(row["relative_performance"])
        )
        chosen = consistent_formula(list(ok.values()), "grad_cam_plus_plus")
        if chosen is not None and _is_eq9(chosen):
            text = (f"**{library} users**: `{klass}` is eq. 9 ({CANDIDATES[chosen].label}); where its heatmaps and scores "
                    "are not distinguishable from eq. 9's (the tables above), this book's findings about Grad-CAM++ apply "
                    f"to it on this network. On every kept image the formula it computes scores {scores}.")
        else:
            what = (CANDIDATES[chosen].label if chosen is not None
                    else " / ".join(f"{_formula_text(row)} at {layer_label(layer)}" for layer, row in ok.items()))
            text = (f"**{library} users**: `{klass}` is not the Grad-CAM++ of eq. 9 but {what}, so this book's findings "
                    f"about Grad-CAM++ do not carry over to it unchecked. On every kept image the formula it computes scores {scores}.")
        if library == "pytorch-grad-cam":
            text += f" For Grad-CAM+, `gradcam_study.compat.GradCAMPlus` takes the same arguments as `{klass}`."
        else:
            text += (" For Grad-CAM+, `gradcam_study.methods.grad_cam_plus_weights(A, g)` gives its weights from the "
                     "activations and gradients the library records.")
        sentences.append(text)
    return sentences


__all__ = [
    "AUDITED_METHODS",
    "AUDIT_IMAGES",
    "Adapter",
    "CANDIDATES",
    "Candidate",
    "InputTap",
    "LIBRARIES",
    "Library",
    "LibraryOutput",
    "LibraryRun",
    "HEATMAP_TOLERANCE",
    "MATCH_TOLERANCE",
    "Match",
    "MatchReport",
    "REFERENCE_FORMULA",
    "SCORE_KIND",
    "score_identified",
    "audit_images",
    "audit_layer",
    "audit_limit",
    "audit_provenance",
    "best_heatmap_match",
    "best_match",
    "candidate_table",
    "capture_deviation",
    "compare",
    "consistent_formula",
    "explanation_log_probs",
    "findings",
    "float32_residual",
    "fitted_factors",
    "formula_table",
    "heatmap_residual",
    "heatmap_residuals",
    "hookable",
    "normalised_heatmaps_of",
    "performance_table",
    "recommendations",
    "run_library",
    "study_verdicts",
    "sum_denominator_weights",
    "undivided_weights",
    "weight_residual",
    "weight_residuals",
]
