"""What each library's Grad-CAM++ and Grad-CAM compute, pinned (:mod:`gradcam_study.libraries.adapters`): a library
upgrade that changes it fails here.

Notation: ``A = A^k_ij`` the activations of one feature map, ``g = g_ij = dY/dA^k_ij`` the gradients of the
target class's pre-softmax logit ``Y``, ``Z`` the number of positions, ``w_k`` the channel weights. Every finding
is "the library's weights (or, where it exposes none, its min-max normalised heatmap) equal formula F, up to a
positive factor per image, to MATCH_TOLERANCE (1e-5, relative to each image's largest weight)" on the random-weight
network of :mod:`libraries_setting` (``tests/test_candidates.py`` checks first that its inner layer tells every
candidate apart). At ``pool:input`` the gradient is constant within each map, so eq. 9 and the "sum" denominator
coincide there, and both must be reported.
"""

from __future__ import annotations

import libraries_setting
import pytest
import torch
from libraries_setting import ABSENT, INNER, LAST, RAISING, audited, require

from gradcam_study import libraries as L

# --- the package itself (the control) ------------------------------------------------------------------------

# The shared fixtures, by assignment (pytest finds fixtures among a module's names).
setting = libraries_setting.setting


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


# --- bad input: a library that is absent, one that raises, a method it lacks ------------------------------------


def test_a_library_that_is_not_installed_says_so(setting) -> None:
    network, inputs, targets, _ = setting
    run = L.run_library(ABSENT, "grad_cam_plus_plus", network, INNER, inputs, targets)
    assert run.output is None and run.status == "not installed (pip install no-such-distribution-xyz==9.9)"
    assert ABSENT.version() is None


def test_a_library_that_raises_records_the_message(setting) -> None:
    network, inputs, targets, _ = setting
    run = L.run_library(RAISING, "grad_cam", network, LAST, inputs, targets)
    assert run.output is None and run.status == "error: RuntimeError: cannot hook tap"


def test_a_method_the_library_lacks_is_a_status(setting) -> None:
    network, inputs, targets, _ = setting
    lacking = L.Library("lacking", "torch", "torch", None, {}, {})
    run = L.run_library(lacking, "grad_cam", network, INNER, inputs, targets)
    assert run.output is None and run.status == "has no Grad-CAM" and run.version is not None


def test_batches_give_the_same_output_as_one_call(setting) -> None:
    network, inputs, targets, _ = setting
    whole = L.run_library(L.LIBRARIES["gradcam_study"], "grad_cam_plus_plus", network, INNER, inputs, targets)
    batched = L.run_library(L.LIBRARIES["gradcam_study"], "grad_cam_plus_plus", network, INNER, inputs, targets, 1)
    torch.testing.assert_close(batched.output.weights, whole.output.weights)
    torch.testing.assert_close(batched.output.heatmaps, whole.output.heatmaps)
    assert batched.output.weights.dtype == torch.float64 and batched.output.weights.device.type == "cpu"
