r"""Grad-CAM+ for users of pytorch-grad-cam: a drop-in ``BaseCAM`` subclass.

Grad-CAM+ (eq. (3) of Lerma & Lucas 2022) weights each feature map by the mean of its positive gradients,

.. math::
    w_k = \frac{1}{Z} \sum_{ij} \mathrm{ReLU}\Big(\frac{\partial Y}{\partial A^k_{ij}}\Big),

which is what Grad-CAM++ reduces to when its alphas sit at 1/2, without eq. (9)'s unstable alphas. Use it
wherever ``pytorch_grad_cam.GradCAMPlusPlus`` or ``GradCAM`` is used; it takes the same arguments::

    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from gradcam_study.compat import GradCAMPlus

    with GradCAMPlus(model=model, target_layers=[model.layer4]) as cam:
        heatmaps = cam(input_tensor=images, targets=[ClassifierOutputTarget(281)])  # B x H x W in [0, 1]

This module needs pytorch-grad-cam (``pip install grad-cam``); importing it without raises an ImportError that
says so. The weights are computed by :func:`gradcam_study.methods.grad_cam_plus_weights`, the package's own
Grad-CAM+.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

try:
    from pytorch_grad_cam.base_cam import BaseCAM
except ImportError as error:  # pragma: no cover - exercised by a test that hides the package
    raise ImportError(
        "gradcam_study.compat needs pytorch-grad-cam, which is not installed: pip install grad-cam==1.5.7 "
        f"(the version this module is tested with). The import failed with: {error}"
    ) from error

from .methods import grad_cam_plus_weights


class GradCAMPlus(BaseCAM):
    r"""Grad-CAM+ in pytorch-grad-cam: weights :math:`w_k = \frac{1}{Z}\sum_{ij}\mathrm{ReLU}(\partial Y/\partial A^k_{ij})`.

    Same constructor and call as pytorch-grad-cam's ``GradCAM``/``GradCAMPlusPlus``; 2D and 3D feature maps.

    >>> import torch, torchvision                                                         # doctest: +SKIP
    >>> from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget          # doctest: +SKIP
    >>> model = torchvision.models.resnet50(weights="IMAGENET1K_V1").eval()               # doctest: +SKIP
    >>> with GradCAMPlus(model=model, target_layers=[model.layer4]) as cam:              # doctest: +SKIP
    ...     heatmaps = cam(input_tensor=images, targets=[ClassifierOutputTarget(281)])
    """

    def __init__(self, model: torch.nn.Module, target_layers: list[torch.nn.Module], reshape_transform: Any = None):
        super().__init__(model, target_layers, reshape_transform)

    def get_cam_weights(
        self,
        input_tensor: torch.Tensor,
        target_layers: Any,
        targets: Any,
        activations: np.ndarray | torch.Tensor,
        grads: np.ndarray | torch.Tensor,
    ) -> np.ndarray:
        """Per image and channel (``B x K``), the mean over all spatial positions of the positive gradients."""
        gradients = torch.as_tensor(grads.detach().cpu().numpy() if isinstance(grads, torch.Tensor) else grads)
        if gradients.ndim < 3:
            raise ValueError(f"Expected gradients of shape B x K x spatial..., got {tuple(gradients.shape)}.")
        # Any number of spatial dimensions: flattened into one row, where eq. (3)'s mean is the same.
        flat = gradients.flatten(start_dim=2).unsqueeze(2)
        return grad_cam_plus_weights(flat, flat).numpy()


__all__ = ["GradCAMPlus"]
