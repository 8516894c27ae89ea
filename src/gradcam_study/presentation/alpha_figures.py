"""The figures of the two chapters on the alphas (nearly constant, numerically unstable): the paper's Figures 3 and 4
regenerated, eq. (14) on one image, pre- against post-softmax alphas, and the alphas against their denominators.

Nothing here computes a result: every function draws arrays it is given.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from torch import Tensor

from .labels import SCORE_KIND_LABELS
from .plots import PAGE_WIDTH, alphas_against_terms, as_image


def _centres(edges: np.ndarray) -> np.ndarray:
    return (edges[:-1] + edges[1:]) / 2


def one_image_figure(pixels: Tensor, title: str, alphas: np.ndarray, terms: np.ndarray) -> Figure:
    """The paper's Figure 3: the image, the boxplots of its non-zero alphas and of their denominator terms,
    pre-softmax, outliers not shown."""
    fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH, 2.9), gridspec_kw={"width_ratios": [1.3, 1, 1]})
    axes[0].imshow(as_image(pixels))
    axes[0].set_title(title, fontsize=9)
    axes[0].axis("off")
    sns.boxplot(y=alphas, ax=axes[1], showfliers=False, width=0.4, color="tab:blue")
    axes[1].set_ylabel(r"$\alpha^{kc}_{ij}$ (non-zero)")
    axes[1].set_title("alphas, eq. (9)", fontsize=9)
    sns.boxplot(y=terms, ax=axes[2], showfliers=False, width=0.4, color="tab:orange")
    axes[2].set_ylabel(r"$t^{kc}_{ij}=\sum_{ab}A^k_{ab}\,g^{kc}_{ij}$")
    axes[2].set_title("denominator terms", fontsize=9)
    for ax in axes[1:]:
        ax.set_xlabel("pre-softmax, outliers not shown")
    fig.suptitle("Figure 3 analogue: alphas of one image", fontsize=10)
    fig.tight_layout()
    return fig


def data_set_figure(sample: np.ndarray, histogram: np.ndarray, edges: np.ndarray, draws: int) -> Figure:
    """The paper's Figure 4: a boxplot of the pooled sample without outliers, and the histogram of all non-zero alphas
    squeezed by ``tanh(alpha - 1/2)`` (log count axis), pre-softmax."""
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.2), gridspec_kw={"width_ratios": [1, 2.2]})
    sns.boxplot(y=sample, ax=axes[0], showfliers=False, width=0.4, color="tab:blue")
    axes[0].set_ylabel(r"$\alpha^{kc}_{ij}$ (non-zero)")
    axes[0].set_xlabel(f"pooled sample ({draws} per image),\noutliers not shown")
    sns.histplot(x=_centres(edges), weights=histogram, bins=list(edges), ax=axes[1], color="tab:blue", element="step")
    axes[1].set_yscale("log")
    axes[1].set_xlim(-1, 1)
    axes[1].set_xlabel(r"$\tanh(\alpha - 1/2)$, all non-zero alphas (no outliers removed)")
    axes[1].set_ylabel("count (log scale)")
    fig.suptitle("Figure 4 analogue: alphas over the data set (pre-softmax)", fontsize=10)
    fig.tight_layout()
    return fig


def equation_14_figure(weights: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str) -> Figure:
    """Eq. (14) on one image: per score kind, each map's Grad-CAM++ weight against ``Z/2`` times its Grad-CAM+
    weight (``weights[kind] = (scaled_plus, plus_plus)``), with the line of equality."""
    fig, axes = plt.subplots(1, len(weights), figsize=(PAGE_WIDTH, 3.2), squeeze=False)
    for ax, (kind, (x, y)) in zip(axes[0], weights.items()):
        sns.scatterplot(x=x, y=y, ax=ax, s=8, alpha=0.6, edgecolor=None)
        limits = [min(x.min(), y.min()), max(x.max(), y.max())]
        ax.plot(limits, limits, color="grey", lw=0.8, ls="--", label="eq. (14): equality")
        ax.set_xlabel(r"$\frac{Z}{2}\,w_{+}^{kc}$ (Grad-CAM+, scaled)")
        ax.set_ylabel(r"$w_{++}^{kc}$ (Grad-CAM++)")
        ax.set_title(f"{SCORE_KIND_LABELS[kind]} gradients", fontsize=9)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def kinds_figure(samples: Mapping[str, np.ndarray], histograms: Mapping[str, np.ndarray], edges: np.ndarray) -> Figure:
    """Pre- against post-softmax alphas: boxplots of the pooled samples without outliers, and the squeezed histograms
    of all of them, by score kind."""
    frame = pd.concat([pd.DataFrame({"alpha": sample, "score": SCORE_KIND_LABELS[kind]})
                       for kind, sample in samples.items()])
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.2), gridspec_kw={"width_ratios": [1, 2]})
    sns.boxplot(data=frame, x="score", y="alpha", ax=axes[0], showfliers=False, width=0.5, hue="score", legend=False)
    axes[0].set_xlabel("score (outliers not shown)")
    axes[0].set_ylabel(r"$\alpha^{kc}_{ij}$ (pooled sample, non-zero)")
    for kind, histogram in histograms.items():
        sns.histplot(x=_centres(edges), weights=histogram, bins=list(edges), ax=axes[1], element="step", fill=False,
                     label=SCORE_KIND_LABELS[kind])
    axes[1].set_yscale("log")
    axes[1].set_xlim(-1, 1)
    axes[1].set_xlabel(r"$\tanh(\alpha - 1/2)$, all non-zero alphas")
    axes[1].set_ylabel("count (log scale)")
    axes[1].legend(title="score")
    fig.suptitle("Alphas from pre- and post-softmax gradients", fontsize=10)
    fig.tight_layout()
    return fig


def farthest_figure(farthest: Mapping[str, pd.Series], analysed: int) -> Figure:
    """The empirical distribution over the images of each image's largest ``|alpha - 1/2|`` (log axis), by score
    kind, with the border of [0, 1] dashed."""
    per_image = pd.concat([pd.DataFrame({"largest |alpha - 1/2|": values, "score": SCORE_KIND_LABELS[kind]})
                           for kind, values in farthest.items()])
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.2))
    sns.ecdfplot(data=per_image, x="largest |alpha - 1/2|", hue="score", log_scale=True, ax=ax)
    ax.axvline(0.5, color="grey", ls="--", lw=0.8)
    ax.set_xlabel(r"largest $|\alpha - 1/2|$ of an image (log scale)")
    ax.set_ylabel(f"share of the {analysed} analysed images")
    ax.set_title("How far each image's alphas stray from 1/2", fontsize=10)
    fig.tight_layout()
    return fig


def denominators_figure(terms: np.ndarray, alphas: np.ndarray, highlight: int, title: str) -> Figure:
    """One image's alphas against their denominator terms on eq. (13)'s hyperbola (left), and the histogram of the
    denominators ``2 + t`` (right, log counts)."""
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.4))
    alphas_against_terms(axes[0], terms, alphas, highlight=highlight)
    sns.histplot(x=2 + terms, bins=80, ax=axes[1], element="step")
    axes[1].axvline(0, color="grey", ls="--", lw=0.8)
    axes[1].set_yscale("log")
    axes[1].set_xlabel(r"denominator of eq. (13), $2 + t$")
    axes[1].set_ylabel("units (log scale)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def hyperbola_figure(terms: np.ndarray, alphas: np.ndarray, highlight: int, title: str) -> Figure:
    """One image's alphas against their denominator terms on eq. (13)'s hyperbola, the farthest circled."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.6))
    alphas_against_terms(ax, terms, alphas, highlight=highlight)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
