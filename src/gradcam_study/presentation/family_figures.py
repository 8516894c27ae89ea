"""The figures of the chapter on the Grad-CAM family: the paper's Figure 1 (Grad-CAM step by step) and Figure 2
(two classes in one image), drawn from tensors the chapter computes with :mod:`gradcam_study.methods`.

Nothing here computes a heatmap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from torch import Tensor

from ..methods import PAPER_METHODS
from .labels import METHOD_LABELS
from .plots import PAGE_WIDTH, as_image, overlay


def shown_feature_maps(activations: Tensor, weights: Tensor) -> list[int]:
    """The four feature maps the paper's Figure 1 shows: the two that add the most to the weighted sum of eq. (2)
    and the two that subtract the most, judged by ``w_k`` times the map's total activation (``activations``:
    ``K x h x w``, ``weights``: ``K``).

    >>> import torch
    >>> shown_feature_maps(torch.ones(5, 2, 2), torch.tensor([0.5, -1.0, 2.0, 0.1, -0.2]))
    [2, 0, 4, 1]
    """
    w = weights.detach().cpu().numpy()
    # What each feature map adds to the weighted sum: w_k times its total activation.
    contribution = w * activations.detach().sum(dim=(-2, -1)).cpu().numpy()
    by_contribution = np.argsort(contribution)
    return [int(k) for k in (by_contribution[-1], by_contribution[-2], by_contribution[1], by_contribution[0])]


def grad_cam_steps_figure(pixels: Tensor, activations: Tensor, weights: Tensor, combined: Tensor, upsampled: Tensor,
                          class_label: str) -> Figure:
    """The paper's Figure 1 on one image: (a) the image (``3 x H x W``) and four feature maps of the layer
    (``activations``: ``K x h x w``, chosen by :func:`shown_feature_maps`), (b) their weights ``w_k`` of eq. (1)
    (``weights``: ``K``) and all weights ranked, (c) the combination of eq. (2) (``combined``: ``h x w``), the
    normalised heatmap upsampled (``upsampled``: ``H x W``) and that heatmap over the image."""
    w = weights.detach().cpu().numpy()
    order = np.argsort(w)
    shown = shown_feature_maps(activations, weights)

    figure = plt.figure(figsize=(PAGE_WIDTH, 6.4), layout="constrained")
    rows: Any = figure.subfigures(3, 1, height_ratios=[1.0, 1.05, 1.25])  # three subfigures, one per step
    top = rows[0].subplots(1, 5)
    top[0].imshow(as_image(pixels))
    top[0].set_title(f"image: {class_label}", fontsize=8)
    for ax, k in zip(top[1:], shown):
        ax.imshow(activations[k].detach().cpu().numpy(), cmap="viridis")
        ax.set_title(f"$A^{{{k}}}$, $w_{{{k}}}$ = {w[k]:.2g}", fontsize=8)
    for ax in top:
        ax.axis("off")
    rows[0].suptitle("(a) the image and four feature maps of the layer", fontsize=9)

    bars = rows[1].subplots(1, 2, width_ratios=[1, 2.2])
    sns.barplot(x=[str(k) for k in shown], y=w[shown], hue=[str(k) for k in shown], palette="vlag_r",
                legend=False, ax=bars[0])
    bars[0].set_xlabel("feature map $k$")
    bars[0].set_ylabel("weight $w_k$, eq. (1)")
    bars[0].axhline(0, color="black", linewidth=0.6)
    ranked = pd.DataFrame({"rank": np.arange(w.size), "weight": w[order[::-1]]})
    sns.lineplot(data=ranked, x="rank", y="weight", ax=bars[1], color="0.3")
    bars[1].axhline(0, color="black", linewidth=0.6)
    bars[1].set_xlabel(f"feature maps ranked by weight (all K = {w.size})")
    bars[1].set_ylabel("weight $w_k$")
    rows[1].suptitle("(b) Grad-CAM weights: the gradients averaged over each feature map", fontsize=9)

    bottom = rows[2].subplots(1, 3)
    shown_map = bottom[0].imshow(combined.detach().cpu().numpy(), cmap="magma")
    figure.colorbar(shown_map, ax=bottom[0], shrink=0.8)
    bottom[0].set_title(r"$\mathrm{ReLU}(\sum_k w_k A^k)$, eq. (2)", fontsize=8)
    bottom[1].imshow(upsampled.detach().cpu().numpy(), cmap="jet", vmin=0, vmax=1)
    bottom[1].set_title("normalised, upsampled", fontsize=8)
    overlay(bottom[2], pixels, upsampled, "over the image")
    for ax in bottom:
        ax.axis("off")
    rows[2].suptitle("(c) the weighted sum of all feature maps, and the heatmap", fontsize=9)
    return figure


def two_classes_figure(composite: Tensor, upsampled: Mapping[str, Tensor], class_labels: list[str]) -> Figure:
    """The paper's Figure 2: the heatmaps of the paper's three methods (rows) over one image (``composite``,
    ``3 x H x W``), explained once per class (columns, ``class_labels``); ``upsampled`` maps each method to its
    ``classes x H x W`` heatmaps (:attr:`gradcam_study.explain.Explanation.upsampled`)."""
    figure, axes = plt.subplots(len(PAPER_METHODS), len(class_labels), figsize=(PAGE_WIDTH, 5.6), layout="constrained",
                                squeeze=False)
    for row, method in enumerate(PAPER_METHODS):
        for column, class_label in enumerate(class_labels):
            overlay(axes[row, column], composite, upsampled[method][column],
                    f"{METHOD_LABELS[method]}, class {class_label}")
    return figure


__all__ = ["grad_cam_steps_figure", "shown_feature_maps", "two_classes_figure"]
