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


def alphas_against_terms(ax: Axes, terms: np.ndarray, alphas: np.ndarray, highlight: int | None = None) -> None:
    """Alphas against their denominator terms ``t`` (section 3.4), with eq. (13)'s hyperbola ``1/(2+t)``, its
    pole at ``t = -2`` and, if given, the unit ``highlight`` circled; symmetric-log alpha axis."""
    ax.scatter(terms, alphas, s=10, alpha=0.6, edgecolors="none", label="alphas", zorder=3)
    curve = np.linspace(min(terms.min(), -2.5), max(terms.max(), 0.5), 8001)
    for branch, name in ((curve[curve < -2 - 1e-4], None), (curve[curve > -2 + 1e-4], r"$1/(2+t)$")):
        ax.plot(branch, 1 / (2 + branch), color="tab:red", lw=0.8, label=name, zorder=2)
    ax.axvline(-2, color="grey", ls="--", lw=0.8, label="pole t = -2")
    if highlight is not None:
        ax.scatter([terms[highlight]], [alphas[highlight]], s=50, facecolors="none", edgecolors="black",
                   label=f"most extreme alpha ({alphas[highlight]:.4g})")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel(r"denominator term $t=\sum_{ab}A^k_{ab}\,g^{kc}_{ij}$")
    ax.set_ylabel(r"$\alpha^{kc}_{ij}$ (symmetric log scale)")
    ax.legend(fontsize=8)


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
