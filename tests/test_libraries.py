"""What each library's Grad-CAM++ and Grad-CAM compute, pinned: a library upgrade that changes it fails here.

Notation: ``A = A^k_ij`` the activations of one feature map, ``g = g_ij = dY/dA^k_ij`` the gradients of the
target class's pre-softmax logit ``Y``, ``Z`` the number of positions, ``w_k`` the channel weights. Every finding
is "the library's weights (or, where it exposes none, its min-max normalised heatmap) equal formula F, up to a
positive factor per image, to MATCH_TOLERANCE (1e-5, relative to each image's largest weight)" on a random-weight
network whose inner layer ``features.3`` has gradients that vary within the maps, at a scale (|g| ~ 1e-3) where
every candidate differs from every other by more than 10 x MATCH_TOLERANCE (checked first; most by far more). At ``pool:input`` (the map that feeds
global average pooling and the linear head) the gradient is constant within each map, so eq. 9 and the
"sum" denominator coincide there, and both must be reported.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision import transforms

from gradcam_study import libraries as L
from gradcam_study.capture import capture_layers
from gradcam_study.study.provenance import Provenance
from gradcam_study.methods import grad_cam_plus_plus_weights, grad_cam_plus_weights, grad_cam_weights
from gradcam_study.models import Classifier, ModelSpec, load_classifier
from gradcam_study.study import LayerResults, StudyConfig, analyse_batch

INNER, LAST = "features.3", "pool:input"
GRAD_CAM_PLUS_PLUS_CANDIDATES = [name for name in L.CANDIDATES if name not in ("grad_cam", "grad_cam_plus")]


class SmallNet(nn.Module):
    """conv-ReLU-conv-ReLU (``features.3``), a 1x1 convolution and batch norm, ReLU6 applied functionally (as
    EfficientNet-Lite does: its output is only the input of ``pool``), global average pooling, a linear head."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(8, 6, 1), nn.BatchNorm2d(6))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(nn.functional.relu6(self.head(self.features(x)))).flatten(1))


@pytest.fixture(scope="module")
def setting():
    network = SmallNet().eval()
    network.requires_grad_(False)  # as the study's classifiers: libraries must not need parameter gradients
    torch.manual_seed(1)
    inputs, targets = torch.randn(3, 3, 8, 8), torch.tensor([1, 2, 3])
    captured = capture_layers(network, [INNER, LAST], inputs, targets, ("pre_softmax",))
    reference = {
        layer: (captured.activations[layer].double(), captured.gradients[layer]["pre_softmax"].double())
        for layer in (INNER, LAST)
    }
    return network, inputs, targets, reference


def audited(setting, library: str, method: str, layer: str) -> L.MatchReport:
    network, inputs, targets, reference = setting
    run = L.compare(L.run_library(L.LIBRARIES[library], method, network, layer, inputs, targets), *reference[layer])
    assert run.status == "ok", run.status
    return run.match


def require(module: str, pip: str) -> None:
    pytest.importorskip(module, reason=f"{module} is not installed: pip install {pip}")


# --- the setting is discriminating ---------------------------------------------------------------------------


def test_candidates_differ_at_the_inner_layer(setting) -> None:
    """Every pair of Grad-CAM++ candidates differs by more than 10 x MATCH_TOLERANCE (relative, after fitting a factor) at
    features.3, so that a match within 1e-5 identifies one formula."""
    activations, gradients = setting[3][INNER]
    assert 1e-4 < gradients.abs().max() < 1e-1
    for first, second in itertools.combinations(GRAD_CAM_PLUS_PLUS_CANDIDATES, 2):
        observed = L.CANDIDATES[first].weights(activations, gradients)
        report = L.best_match(observed, activations, gradients, {second: L.CANDIDATES[second]})
        assert report.best.residual > 10 * L.MATCH_TOLERANCE, (first, second, report.best.residual)


def test_gradient_is_constant_within_maps_at_the_last_map_only(setting) -> None:
    from gradcam_study.methods import constant_within_maps

    assert not constant_within_maps(setting[3][INNER][1]).any()
    assert constant_within_maps(setting[3][LAST][1]).all()


# --- the formulas and the matching ---------------------------------------------------------------------------


def test_sum_denominator_equals_eq9_where_the_gradient_is_constant_within_maps(setting) -> None:
    r"""With g_ab = g for all ab, sum_ab A_ab g_ab^3 = (sum_ab A_ab) g^3: the two denominators coincide."""
    activations, gradients = setting[3][LAST]
    torch.testing.assert_close(L.sum_denominator_weights(activations, gradients),
                               grad_cam_plus_plus_weights(activations, gradients), rtol=1e-12, atol=0)


def test_undivided_is_the_sum_of_cubed_positive_gradients() -> None:
    g = torch.tensor([[[[-1.0, 2.0], [0.5, 0.0]]]])
    assert L.undivided_weights(torch.ones_like(g), g).item() == pytest.approx(8 + 0.125)


def test_best_match_fits_a_positive_factor_per_image(setting) -> None:
    activations, gradients = setting[3][INNER]
    factors = torch.tensor([2.0, 0.5, 3.0], dtype=torch.float64).view(-1, 1)
    report = L.best_match(factors * L.undivided_weights(activations, gradients), activations, gradients)
    assert report.best.candidate == "undivided" and report.matches == ("undivided",)
    assert (report.best.factor_low, report.best.factor, report.best.factor_high) == pytest.approx((0.5, 2.0, 3.0))
    assert report.best.residual < 1e-12


def test_a_negative_factor_is_not_a_match(setting) -> None:
    activations, gradients = setting[3][INNER]
    report = L.best_match(-grad_cam_weights(activations, gradients), activations, gradients, {"grad_cam": L.CANDIDATES["grad_cam"]})
    assert report.best.factor == 0 and report.best.residual == pytest.approx(1.0)


def test_ties_report_every_candidate_and_prefer_the_reference(setting) -> None:
    activations, gradients = setting[3][LAST]
    report = L.best_match(grad_cam_plus_plus_weights(activations, gradients), activations, gradients, prefer="eq9")
    assert {"eq9", "sum_denominator"} <= set(report.matches) and report.best.candidate == "eq9"


def test_weight_residual_is_relative_to_each_image_largest_weight() -> None:
    observed = torch.tensor([[1.0, 0.0], [100.0, 50.0]])
    expected = torch.tensor([[0.9, 0.0], [100.0, 49.0]])
    assert L.weight_residual(observed, expected) == pytest.approx(0.1)


def test_heatmap_match_ignores_positive_factors(setting) -> None:
    activations, gradients = setting[3][INNER]
    observed = L.normalised_heatmaps_of(activations, 7.0 * grad_cam_plus_weights(activations, gradients))
    report = L.best_heatmap_match(observed, activations, gradients)
    assert report.best.candidate == "grad_cam_plus" and report.best.factor is None and report.best.residual < 1e-12


# --- showing an input to libraries ---------------------------------------------------------------------------


def test_input_tap_gives_the_same_logits_and_exposes_the_input_as_an_output(setting) -> None:
    network, inputs, targets, reference = setting
    tree, name = L.hookable(network, LAST)
    assert isinstance(tree, L.InputTap) and name == "tap"
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
    assert L.hookable(network, INNER) == (network, INNER)
    with pytest.raises(AttributeError):
        L.hookable(network, "nowhere:input")


def test_input_tap_on_efficientnet_lite0_gives_the_network_logits() -> None:
    """EfficientNet-Lite0's last map is the input of _avg_pooling (its last ReLU6 is functional): the tap's output
    is that map and the wrapped network's logits are the network's, bit for bit."""
    torch.manual_seed(0)
    network = load_classifier("efficientnet_lite0", pretrained=False).network
    inputs = torch.randn(1, 3, 64, 64)
    tree, name = L.hookable(network, "_avg_pooling:input")
    seen = []
    handle = tree.get_submodule(name).register_forward_hook(lambda _m, _i, output: seen.append(output.detach()))
    with torch.no_grad():
        logits = tree(inputs)
    handle.remove()
    captured = capture_layers(network, ["_avg_pooling:input"], inputs, torch.tensor([0]), ("pre_softmax",))
    assert torch.equal(logits, captured.logits)
    torch.testing.assert_close(seen[0], captured.activations["_avg_pooling:input"], rtol=0, atol=0)


# --- the package itself (the control) ------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [INNER, LAST])
def test_the_package_computes_eq9_and_eq1(setting, layer) -> None:
    assert audited(setting, "gradcam_study", "grad_cam_plus_plus", layer).best.candidate == "eq9"
    assert audited(setting, "gradcam_study", "grad_cam", layer).matches == ("grad_cam",)


# --- pytorch-grad-cam ----------------------------------------------------------------------------------------


def test_pytorch_grad_cam_plus_plus_is_eq9_with_epsilon_1e_6(setting) -> None:
    r"""pytorch-grad-cam 1.5.7, ``GradCAMPlusPlus.get_cam_weights``:

        alpha_ij = g_ij^2 / (2 g_ij^2 + (sum_ab A_ab) g_ij^3 + 1e-6),   w_k = sum_ij alpha_ij ReLU(g_ij)

    i.e. eq. 9 with epsilon = 1e-6, factor 1 (and alpha = 0 where g = 0).
    """
    require("pytorch_grad_cam", "grad-cam==1.5.7")
    inner = audited(setting, "pytorch-grad-cam", "grad_cam_plus_plus", INNER)
    assert inner.matches == ("eq9_eps1e-6",)
    assert inner.best.factor == pytest.approx(1, rel=1e-5)
    last = audited(setting, "pytorch-grad-cam", "grad_cam_plus_plus", LAST)
    assert last.matches == ("eq9_eps1e-6", "sum_denominator_eps1e-6") and last.best.candidate == "eq9_eps1e-6"


@pytest.mark.parametrize("layer", [INNER, LAST])
def test_pytorch_grad_cam_grad_cam_is_eq1(setting, layer) -> None:
    """pytorch-grad-cam 1.5.7, ``GradCAM``: w_k = (1/Z) sum_ij g_ij (eq. 1), factor 1."""
    require("pytorch_grad_cam", "grad-cam==1.5.7")
    report = audited(setting, "pytorch-grad-cam", "grad_cam", layer)
    assert report.matches == ("grad_cam",) and report.best.factor == pytest.approx(1, rel=1e-5)


# --- torchcam ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [INNER, LAST])
def test_torchcam_grad_cam_plus_plus_leaves_the_squared_gradients_undivided(setting, layer) -> None:
    r"""torchcam 0.5.0, ``GradCAMpp._get_weights``:

        w_k = sum_ij g_ij^2 ReLU(g_ij) = sum_ij ReLU(g_ij)^3

    factor 1. Its source forms alpha = g^2 / (2 g^2 + sum_ab A_ab g_ab^3 + 1e-8) with ``alpha[mask].div_(...)``;
    boolean-mask indexing returns a copy, so the in-place division never reaches alpha, which stays g^2.
    """
    require("torchcam", "torchcam==0.5.0")
    report = audited(setting, "torchcam", "grad_cam_plus_plus", layer)
    assert report.matches == ("undivided",) and report.best.factor == pytest.approx(1, rel=1e-5)


@pytest.mark.parametrize("layer", [INNER, LAST])
def test_torchcam_grad_cam_is_eq1(setting, layer) -> None:
    """torchcam 0.5.0, ``GradCAM``: w_k = (1/Z) sum_ij g_ij (eq. 1), factor 1."""
    require("torchcam", "torchcam==0.5.0")
    report = audited(setting, "torchcam", "grad_cam", layer)
    assert report.matches == ("grad_cam",) and report.best.factor == pytest.approx(1, rel=1e-5)


# --- medcam --------------------------------------------------------------------------------------------------


def test_medcam_grad_cam_plus_plus_has_the_sum_denominator_with_epsilon_1e_7(setting) -> None:
    r"""medcam 0.1.22, ``backend="gcampp"`` (heatmaps only, min-max normalised):

        alpha_ij = g_ij^2 / (2 g_ij^2 + sum_ab A_ab g_ab^3 + 1e-7),   w_k = e^{S_c} sum_ij alpha_ij ReLU(g_ij)

    (a zero denominator is replaced by 1 before adding 1e-7; the factor e^{S_c}, S_c the target's logit, is positive
    and invisible in a normalised heatmap). At the last map the sum denominator is eq. 9's.
    """
    require("medcam", "medcam==0.1.22")
    inner = audited(setting, "medcam", "grad_cam_plus_plus", INNER)
    assert inner.compared == "heatmaps" and inner.matches == ("sum_denominator_eps1e-7",)
    last = audited(setting, "medcam", "grad_cam_plus_plus", LAST)
    assert last.matches == ("eq9_eps1e-7", "sum_denominator_eps1e-7")


@pytest.mark.parametrize("layer", [INNER, LAST])
def test_medcam_grad_cam_is_eq1(setting, layer) -> None:
    """medcam 0.1.22, ``backend="gcam"`` (heatmaps only): w_k = (1/Z) sum_ij g_ij (eq. 1)."""
    require("medcam", "medcam==0.1.22")
    assert audited(setting, "medcam", "grad_cam", layer).matches == ("grad_cam",)


# --- bad input: a library that is absent, one that raises -----------------------------------------------------


def _failing(method: str) -> L.Adapter:
    def adapter(network, layer, inputs, targets):
        raise RuntimeError(f"cannot hook {layer}\nsecond line")

    return adapter


ABSENT = L.Library("absent", "no-such-distribution-xyz", "no_such_module_xyz", "9.9", {"grad_cam_plus_plus": "Absent"},
                   {"grad_cam_plus_plus": _failing("grad_cam_plus_plus")})
RAISING = L.Library("raising", "torch", "torch", None, {"grad_cam_plus_plus": "Raising", "grad_cam": "Raising"},
                    {"grad_cam_plus_plus": _failing("grad_cam_plus_plus"), "grad_cam": _failing("grad_cam")})


def test_a_library_that_is_not_installed_says_so(setting) -> None:
    network, inputs, targets, _ = setting
    run = L.run_library(ABSENT, "grad_cam_plus_plus", network, INNER, inputs, targets)
    assert run.output is None and run.status == "not installed (pip install no-such-distribution-xyz==9.9)"


def test_a_library_that_raises_records_the_message(setting) -> None:
    network, inputs, targets, _ = setting
    run = L.run_library(RAISING, "grad_cam", network, LAST, inputs, targets)
    assert run.output is None and run.status == "error: RuntimeError: cannot hook tap"


@pytest.fixture(scope="module")
def synthetic_results(tmp_path_factory, setting):
    """A LayerResults of four images at features.3 of SmallNet, its per-image rows computed by the study's own
    ``analyse_batch``, and the classifier: the audit end to end without a study cache."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(folder / f"image{i}.png")
    network = setting[0]
    spec = ModelSpec(name="small", architecture=SmallNet, load_weights=lambda _n: None, layer=LAST,
                     mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), resize=8, crop=8)
    classifier = Classifier(spec, network, transforms.ToTensor(), transforms.Normalize(spec.mean, spec.std))
    pixels = torch.stack([transforms.ToTensor()(Image.open(folder / f"image{i}.png").convert("RGB")) for i in range(4)])
    labels = torch.tensor([1, 2, 3, 4])
    batch = analyse_batch(classifier, [INNER], pixels, labels, torch.arange(4), ("pre_softmax",), 8)
    images = pd.DataFrame(batch.rows).set_index("image").join(
        pd.DataFrame.from_dict({i: row for (i, _), row in batch.layer_rows.items()}, orient="index"))
    images["path"] = [f"image{i}.png" for i in range(4)]
    images["probability"] = 0.9  # every image kept
    provenance = Provenance("test", "small", "features.3", "synthetic", 4, "cpu")
    config = StudyConfig(score_kinds=("pre_softmax",))
    results = LayerResults("key", config, INNER, provenance, images, pd.DataFrame(), Path("unused"), folder)
    return results, classifier


def test_audit_layer_end_to_end_with_an_absent_and_a_raising_library(synthetic_results) -> None:
    results, classifier = synthetic_results
    libraries = {"gradcam_study": L.LIBRARIES["gradcam_study"], "absent": ABSENT, "raising": RAISING}
    images = L.audit_images(results, limit=3)
    audit = L.audit_layer(results, classifier, images, libraries, resamples=50)
    assert len(images) == 3 and list(audit.index.get_level_values("library").unique()) == list(libraries)
    control = audit.loc[("gradcam_study", "grad_cam_plus_plus")]
    assert control["status"] == "ok" and control["formula"] == "eq9" and control["deviation"] < 1e-6
    # The audit's protocol reproduces the study's stored eq. 9 scores: relative performance exactly 1.
    assert control["relative_performance"] == pytest.approx(1, abs=1e-6)
    assert control["median_correlation"] == pytest.approx(1)
    assert audit.loc[("absent", "grad_cam_plus_plus"), "status"].startswith("not installed")
    assert audit.loc[("raising", "grad_cam_plus_plus"), "status"] == "error: RuntimeError: cannot hook features.3"
    formulas, performance = L.formula_table(audit), L.performance_table(audit)
    assert formulas.loc[("absent", "Grad-CAM++"), "formula (best match)"].startswith("not installed")
    assert formulas.loc[("raising", "Grad-CAM"), "formula (best match)"].startswith("error: RuntimeError")
    assert performance.loc["gradcam_study", "relative performance vs eq. 9's Grad-CAM++ [95% CI]"].startswith("1.000 [")
    assert performance.loc["raising", "largest relative weight deviation from eq. 9"].startswith("error")
    sentences = L.findings({INNER: audit})
    assert any("absent" in s and "not installed" in s for s in sentences)
    assert any("raising" in s and "raised" in s for s in sentences)
    advice = L.recommendations({INNER: audit}, {INNER: results.statistics(resamples=50)})
    assert "**absent**: not installed (pip install no-such-distribution-xyz==9.9); nothing to say." in advice
    assert "**raising**: raised RuntimeError: cannot hook features.3; nothing to say." in advice


def test_audit_provenance_names_the_subset(synthetic_results) -> None:
    results, _ = synthetic_results
    caption = L.audit_provenance(results, [0, 2]).caption(score_kind="pre_softmax", kept=2)
    assert "an evenly spread subset of 2 of the 4 images kept at threshold 0.5" in caption


#: What each installed library's Grad-CAM++ is pinned to at features.3 (see the tests above).
PINNED = {"gradcam_study": "eq9", "pytorch-grad-cam": "eq9_eps1e-6", "torchcam": "undivided",
          "medcam": "sum_denominator_eps1e-7"}


def test_audit_layer_identifies_every_installed_library_and_writes_the_sentences(synthetic_results) -> None:
    results, classifier = synthetic_results
    audit = L.audit_layer(results, classifier, L.audit_images(results, limit=None), resamples=50)
    for library, candidate in PINNED.items():
        row = audit.loc[(library, "grad_cam_plus_plus")]
        if row["status"].startswith("not installed"):
            continue
        assert row["status"] == "ok" and row["formula"] == candidate and row["matches"] == candidate, library
        assert row["capture_deviation"] < 1e-6 or np.isnan(row["capture_deviation"]), library
        assert audit.loc[(library, "grad_cam"), "formula"] == "grad_cam", library
    sentences = L.recommendations({INNER: audit}, {INNER: results.statistics(resamples=50)})
    assert sentences[0].startswith("**Grad-CAM")
    installed = [name for name in PINNED if name != "gradcam_study" and L.LIBRARIES[name].missing() is None]
    assert len(sentences) == 1 + len(PINNED) - 1
    for name in installed:
        sentence = next(s for s in sentences if s.startswith(f"**{name} users**"))
        assert ("is eq. 9" in sentence) == (name == "pytorch-grad-cam"), sentence


def test_batches_give_the_same_output_as_one_call(setting) -> None:
    network, inputs, targets, _ = setting
    whole = L.run_library(L.LIBRARIES["gradcam_study"], "grad_cam_plus_plus", network, INNER, inputs, targets)
    batched = L.run_library(L.LIBRARIES["gradcam_study"], "grad_cam_plus_plus", network, INNER, inputs, targets, 1)
    torch.testing.assert_close(batched.output.weights, whole.output.weights)
    torch.testing.assert_close(batched.output.heatmaps, whole.output.heatmaps)


def test_consistent_formula_uses_the_layer_that_tells_the_candidates_apart() -> None:
    constant = pd.Series({"matches": "eq9_eps1e-7, sum_denominator_eps1e-7", "formula": "eq9_eps1e-7"})
    varying = pd.Series({"matches": "", "formula": "sum_denominator_eps1e-7"})
    assert L.consistent_formula([constant, varying], "grad_cam_plus_plus") == "sum_denominator_eps1e-7"
    assert L.consistent_formula([constant], "grad_cam_plus_plus") == "eq9_eps1e-7"
    assert L.consistent_formula([varying, pd.Series({"matches": "undivided", "formula": "undivided"})],
                                "grad_cam_plus_plus") is None


def test_medcam_heatmap_is_the_float32_evaluation_where_float64_misses() -> None:
    """A near-pole unit: the float32 and float64 values of the same formula differ; float32_residual reports the
    float32 one for a library whose own A and g are known."""
    activations = torch.tensor([[[[1.0, -1.0], [0.5, 2.0]]]])
    gradients = torch.tensor([[[[0.3, 0.2], [-0.1, 0.25]]]])
    weights32 = L.sum_denominator_weights(activations.float(), gradients.float(), 1e-7, dtype=torch.float32)
    output = L.LibraryOutput(weights32, torch.zeros(1, 2, 2), activations=activations.double(), gradients=gradients.double())
    report = L.best_match(weights32, activations, gradients, {"sum_denominator_eps1e-7": L.CANDIDATES["sum_denominator_eps1e-7"]},
                          tolerance=0.0)
    run = L.LibraryRun("x", "grad_cam_plus_plus", "ok", "1", output, report)
    if report.matched:
        pytest.skip("float32 and float64 agree exactly on this example")
    assert L.float32_residual(run) == 0
