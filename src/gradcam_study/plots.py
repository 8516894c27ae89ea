"""Small plotting helpers shared by the book's chapters (matplotlib; seaborn styles the rest)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from .methods import METHOD_LABELS
from .explain import Explanation
from .study.results import Provenance

#: A book page's text width, in inches.
PAGE_WIDTH = 7.0


def show_caption(provenance: Provenance, **kwargs: object) -> None:
    """Display the provenance line every figure and table of the book carries, in italics."""
    from IPython.display import Markdown, display

    display(Markdown(f"*{provenance.caption(**kwargs)}*"))


def as_image(pixels: Tensor) -> np.ndarray:
    """``3 x H x W`` pixels in [0, 1] as an ``H x W x 3`` array for ``imshow``."""
    return pixels.detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy()


def overlay(ax: Axes, pixels: Tensor, heatmap: Tensor, title: str = "", alpha: float = 0.5) -> None:
    """Draw ``heatmap`` (``H x W`` in [0, 1]) over the image with the jet colour map."""
    ax.imshow(as_image(pixels))
    ax.imshow(heatmap.detach().cpu().numpy(), cmap="jet", alpha=alpha, vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def heatmap_grid(explanation: Explanation, titles: Sequence[str], methods: Sequence[str] | None = None) -> Figure:
    """One row per image: the image, then each method's heatmap over it (Figure 5's layout)."""
    methods = list(methods or METHOD_LABELS)
    rows = explanation.pixels.shape[0]
    columns = 1 + len(methods)
    width = PAGE_WIDTH
    figure, axes = plt.subplots(rows, columns, figsize=(width, width / columns * rows), squeeze=False)
    for row in range(rows):
        axes[row, 0].imshow(as_image(explanation.pixels[row]))
        axes[row, 0].set_title(titles[row], fontsize=9)
        axes[row, 0].axis("off")
        for column, method in enumerate(methods, start=1):
            overlay(axes[row, column], explanation.pixels[row], explanation.upsampled[method][row], METHOD_LABELS[method])
    figure.tight_layout()
    return figure
