"""Pixel-wise weightings: heatmaps that weight every unit by its own gradient instead of one weight per map.

Both are pure functions of the same ``(A, g)`` capture as the channel weights (no extra backward pass) and
return the heatmap at feature-map resolution, ``B x H x W``, before min-max normalisation.
"""

from __future__ import annotations

from torch import Tensor


def hires_cam(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""HiResCAM (Draelos & Carin 2020): :math:`L = \mathrm{ReLU}\big(\sum_k g^k \odot A^k\big)`.

    Where the gradient is constant within each map (a layer feeding global average pooling and a linear
    head), :math:`g^k_{ij} = w^k`, Grad-CAM's weight of eq. (1) (the mean of a constant), so the heatmap is
    Grad-CAM's.

    >>> import torch
    >>> A = torch.tensor([[[[1.0, 2.0]], [[3.0, 0.0]]]])          # 1 x 2 maps x 1 x 2
    >>> g = torch.tensor([[[[1.0, -1.0]], [[0.5, 2.0]]]])
    >>> hires_cam(A, g).tolist()                                   # ReLU([1 + 1.5, -2 + 0])
    [[[2.5, 0.0]]]
    """
    return (gradients * activations).sum(dim=1).clamp(min=0)


def layer_cam(activations: Tensor, gradients: Tensor) -> Tensor:
    r"""LayerCAM (Jiang et al. 2021): :math:`L = \mathrm{ReLU}\big(\sum_k \mathrm{ReLU}(g^k) \odot A^k\big)`.

    Where the gradient is constant within each map, :math:`\mathrm{ReLU}(g^k_{ij}) = w^k`, Grad-CAM+'s weight of
    eq. (3), so the heatmap is Grad-CAM+'s.

    >>> import torch
    >>> A = torch.tensor([[[[1.0, 2.0]], [[3.0, 0.0]]]])
    >>> g = torch.tensor([[[[1.0, -1.0]], [[0.5, 2.0]]]])
    >>> layer_cam(A, g).tolist()                                   # [1 + 1.5, 0 + 0]
    [[[2.5, 0.0]]]
    """
    return (gradients.clamp(min=0) * activations).sum(dim=1).clamp(min=0)
