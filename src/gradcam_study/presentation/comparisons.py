"""Figures and tables of the comparisons of the paper's three methods: the heatmaps side by side (Figure 5), the
explanation maps of eq. (15), the per-image relative performance (Figure 6), the equivalence margins and the score
threshold. Frames come keyed by identifiers (:mod:`gradcam_study.findings.empirical`,
:mod:`gradcam_study.findings.heatmaps`); labels are applied here. Nothing here computes a result.

>>> styled = equivalence_sweep_table(results.equivalence_sweep())              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from .. import paper
from ..data import class_name
from ..explain import Explanation
from ..methods import PAPER_METHODS
from ..study.verdicts import SIGNIFICANCE_LEVEL, verdict_words
from .formats import decimals, p_value, percent
from .labels import METHOD_LABELS, SCORE_KIND_LABELS, label
from .plots import PAGE_WIDTH, as_image, heatmap_grid
from .tables import labelled_frame

if TYPE_CHECKING:
    from ..findings.empirical import MapExample


def with_labels(frame: pd.DataFrame, columns: Sequence[str] = ("pair", "score")) -> pd.DataFrame:
    """A long frame whose ``columns`` hold identifiers (pairs, score kinds), with the labels in their place."""
    return frame.assign(**{column: frame[column].map(label) for column in columns})


def explanation_maps_figure(example: MapExample) -> Figure:
    """The image, then the image dimmed by each paper method's heatmap (eq. (15)), each with the probability of the
    true class on it."""
    fig, axes = plt.subplots(1, 4, figsize=(PAGE_WIDTH, 2.5), layout="constrained")
    axes[0].imshow(as_image(example.explanation.pixels[0]))
    axes[0].set_title(f"{class_name(int(example.row['label']))}\np = {decimals(example.row['probability'])}",
                      fontsize=9)
    for ax, m in zip(axes[1:], PAPER_METHODS):
        ax.imshow(as_image(example.maps[m]))
        ax.set_title(f"{METHOD_LABELS[m]}\np = {decimals(example.probability[m])}", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.suptitle("Explanation maps, eq. (15): the image dimmed by each heatmap (pre-softmax)", fontsize=10)
    return fig


def figure6(per_image: pd.DataFrame) -> Figure:
    """The paper's Figure 6: boxplots of the per-image relative performance (``relative_performance``) of each pair
    and score kind, on a log axis."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.8))
    data = with_labels(per_image).rename(columns={"relative_performance": "relative performance"})
    sns.boxplot(data=data, x="pair", y="relative performance", hue="score", log_scale=True, fliersize=1.5, ax=ax)
    ax.axhline(1, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("")
    ax.set_ylabel(r"relative performance $p^{A}_i / p^{B}_i$ (log scale)")
    ax.legend(title="explanation maps from", fontsize=8, title_fontsize=8)
    ax.set_title("Figure 6 analogue: relative performance per image", fontsize=10)
    fig.tight_layout()
    return fig


def spread_table(spread: pd.DataFrame) -> Styler:
    """:func:`~gradcam_study.findings.empirical.relative_performance_spread` for display: shares as percentages."""
    shown = labelled_frame(spread)
    shares = [label("share_within_one_percent"), label("share_above_one")]
    return shown.style.format(precision=3, na_rep="–").format(percent, subset=shares)


def equivalence_sweep_table(sweep: pd.DataFrame) -> Styler:
    """:meth:`~gradcam_study.study.LayerResults.equivalence_sweep` for display: margins as percentages, each TOST
    p-value marked "equivalent" below the significance level."""

    def marked(p: float) -> str:
        return f"{p_value(p)}, equivalent" if p < SIGNIFICANCE_LEVEL else p_value(p)

    return labelled_frame(sweep).rename(columns=lambda margin: percent(float(margin))).style.format(marked, na_rep="–")


def threshold_sweep_table(sweep: pd.DataFrame) -> Styler:
    """:func:`~gradcam_study.findings.empirical.threshold_sweep` for display: labelled columns, the kept count as an
    integer, thresholds with one decimal."""
    return (sweep.rename(columns=label).style.format(precision=3, na_rep="–")
            .format("{:.0f}", subset=[("kept", "images")]).format_index("{:.1f}"))


def threshold_sweep_figure(sweep: pd.DataFrame, shares: pd.Series, threshold: float) -> Figure:
    """The relative performance of each pair (left) and the share of images kept beside the paper's (right) against
    the score threshold, the default ``threshold`` dotted."""
    long_sweep = with_labels(
        sweep.drop(columns=[("kept", "images")]).stack(level=[0, 1], future_stack=True)
        .rename("relative performance").reset_index(), columns=("methods", "score"))
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 4.4), gridspec_kw={"width_ratios": [1.6, 1]},
                             layout="constrained")
    sns.lineplot(data=long_sweep, x="threshold", y="relative performance", hue="methods", style="score", marker="o",
                 markersize=4, ax=axes[0])
    axes[0].axhline(1, color="grey", lw=0.8, ls="--")
    axes[0].axvline(threshold, color="black", lw=0.6, ls=":")
    axes[0].set_xlabel("score threshold")
    axes[0].set_ylabel("relative performance, eq. (16)")
    sns.move_legend(axes[0], "upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7, title=None, frameon=False)
    kept = shares.rename("share kept").reset_index()
    sns.lineplot(data=kept, x="threshold", y="share kept", marker="o", markersize=4, ax=axes[1], label="this study")
    axes[1].axhline(paper.KEPT / paper.IMAGES, color="tab:red", lw=0.8, ls="--",
                    label=f"paper: {paper.KEPT} of {paper.IMAGES:,}")
    axes[1].axvline(threshold, color="black", lw=0.6, ls=":", label="default threshold")
    axes[1].set_xlabel("score threshold")
    axes[1].set_ylabel("share of images kept")
    axes[1].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    fig.suptitle("Relative performance and kept images against the threshold", fontsize=10)
    return fig


def numbers_table(frame: pd.DataFrame) -> Styler:
    """A frame of relative performances (Table 1 or Table 2 by layer, say) for display: labelled, 3 decimals."""
    return labelled_frame(frame).style.format(precision=3, na_rep="–")


def figure5(explanation: Explanation, images: pd.DataFrame) -> Figure:
    """The paper's Figure 5 for the explained images (``images``: their rows of the study, in the explanation's
    order): each image titled with its true class and probability, then the paper's three heatmaps over it."""
    titles = [f"{class_name(int(row['label']))}\np = {decimals(row['probability'], 2)}" for _, row in images.iterrows()]
    fig = heatmap_grid(explanation, titles)
    fig.suptitle("Figure 5 analogue: image, Grad-CAM, Grad-CAM+, Grad-CAM++ (pre-softmax)", fontsize=10)
    fig.tight_layout()
    return fig


def correlation_rows_table(rows: pd.DataFrame, images: pd.DataFrame) -> Styler:
    """Live correlations of the heatmaps of a few images (rows: image identifiers; columns: pair identifiers) for
    display: each row named by the image's true class."""
    shown = labelled_frame(rows)
    shown.index = pd.Index([class_name(int(images.loc[i, "label"])) for i in rows.index], name="image (true class)")
    return shown.style.format(precision=4, na_rep="–")


def similarity_figure(correlations: pd.DataFrame, score_kinds: Sequence[str]) -> Figure:
    """Per-image heatmap correlations (``correlation``, by ``pair`` and ``score``) as boxplots (top) and the
    distribution of ``1 - r`` on a log axis per score kind (bottom)."""
    data = with_labels(correlations)
    fig = plt.figure(figsize=(PAGE_WIDTH, 6.4))
    grid = fig.add_gridspec(2, 2)
    box_ax = fig.add_subplot(grid[0, :])
    sns.boxplot(data=data, x="pair", y="correlation", hue="score", ax=box_ax, fliersize=1.5)
    box_ax.set_xlabel("")
    box_ax.set_ylabel("Pearson correlation\nof the heatmaps")
    box_ax.legend(title="score", fontsize=8, title_fontsize=8)
    distance = data.assign(distance=(1 - data["correlation"]).clip(lower=1e-9))
    for column, kind in enumerate(score_kinds):
        ax = fig.add_subplot(grid[1, column])
        sns.ecdfplot(data=distance[distance["score"] == SCORE_KIND_LABELS[kind]], x="distance", hue="pair",
                     log_scale=True, ax=ax, legend=column == 0)
        ax.set_xlabel(r"$1 - r$ (log scale)")
        ax.set_ylabel("share of images")
        ax.set_title(f"{SCORE_KIND_LABELS[kind]} gradients", fontsize=9)
        legend = ax.get_legend()
        if legend is not None:
            legend.set_title("")
            for text in legend.get_texts():
                text.set_fontsize(7)
    fig.suptitle("Similarity of the heatmaps, per kept image", fontsize=10)
    fig.tight_layout()
    return fig


def similarity_table(similarity: pd.DataFrame) -> Styler:
    """:meth:`~gradcam_study.study.LayerResults.heatmap_similarity` for display: verdicts in words, yes/no for
    identical, the share as a percentage, counts as integers."""
    shown = labelled_frame(similarity.drop(columns=["nearly_equal"]).assign(
        verdict=[verdict_words(v) for v in similarity["verdict"]],
        identical=similarity["identical"].map({True: "yes", False: "no"}),
    ))
    return (shown.style.format(precision=4, na_rep="–")
            .format(percent, subset=[label("share_correlation_above")])
            .format("{:.0f}", subset=[label("undefined"), label("images")]))


__all__ = ["correlation_rows_table", "equivalence_sweep_table", "explanation_maps_figure", "figure5", "figure6",
           "numbers_table", "similarity_figure", "similarity_table", "spread_table", "threshold_sweep_figure",
           "threshold_sweep_table", "with_labels"]
