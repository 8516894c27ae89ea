"""The figures of the two chapters: randomisation curves (in the style of Adebayo et al.'s Figure 2), a grid of
example heatmaps along the cascade, and the heatmaps' change under the logit shift."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.figure import Figure
from torch import Tensor
import torch

from .labels import METHOD_LABELS, SCORE_KIND_LABELS, layer_label
from ..methods import upsample
from .plots import PAGE_WIDTH, overlay
from ..sanity.checks import MEASURES, SanityResults
from ..findings.sanity import MEASURE_LABELS, randomisation_summary, step_label


def randomisation_figure(results: SanityResults, experiment: str) -> Figure:
    """One panel per layer and score kind (rows) and measure (columns): the median over the images of each method's
    similarity with the trained model's maps, against the step (the trained model first, at 1)."""
    summary = randomisation_summary(results, experiment).reset_index()
    steps = ["trained", *results.steps[experiment]]
    rows = [(layer, kind) for layer in results.config.layers() for kind in results.config.score_kinds]
    figure, axes = plt.subplots(len(rows), len(MEASURES), figsize=(PAGE_WIDTH, 1.9 * len(rows)), sharex=True,
                                squeeze=False)
    for row, (layer, kind) in enumerate(rows):
        part = summary[(summary["layer"] == layer) & (summary["kind"] == kind)]
        for column, measure in enumerate(MEASURES):
            ax = axes[row, column]
            for method, label in METHOD_LABELS.items():
                values = part[part["method"] == method].set_index("step")[measure].reindex(steps[1:])
                ax.plot(range(len(steps)), [1.0, *values.tolist()], marker="o", markersize=3, label=label)
            ax.axhline(0, color="grey", linewidth=0.6)
            ax.set_ylim(-1.05 if measure == "spearman" else -0.3, 1.05)
            ax.set_title(f"{MEASURE_LABELS[measure]}\n{layer_label(layer)}, {SCORE_KIND_LABELS[kind]}", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.set_xticks(range(len(steps)), [step_label(s) for s in steps], rotation=90, fontsize=6)
    axes[0, 0].legend(fontsize=6, loc="lower left")
    figure.tight_layout()
    return figure


def examples_figure(results: SanityResults, pixels: Tensor, layer: str, kind: str, image: int) -> Figure:
    """The heatmaps of one image (``pixels``, ``3 x H x W``; ``image`` its position in :attr:`example_images`) along
    the cascade: one row per method, one column per step, the trained model's first."""
    steps = ["trained", *results.steps["cascading"]]
    size = (pixels.shape[-2], pixels.shape[-1])
    figure, axes = plt.subplots(len(METHOD_LABELS), len(steps), figsize=(PAGE_WIDTH, PAGE_WIDTH * 5 / 9 + 0.4),
                                squeeze=False)
    for row, (method, label) in enumerate(METHOD_LABELS.items()):
        for column, step in enumerate(steps):
            prefix = "trained/trained" if step == "trained" else f"cascading/{step}"
            heatmap = torch.from_numpy(results.examples[f"{prefix}/{layer}/{kind}/{method}"][image])
            overlay(axes[row, column], pixels, upsample(heatmap.unsqueeze(0), size)[0, 0],
                    title=step_label(step) if row == 0 else "")
            if column == 0:
                axes[row, column].text(-0.1, 0.5, label, transform=axes[row, column].transAxes, rotation=90,
                                       ha="right", va="center", fontsize=7)
    figure.tight_layout(pad=0.3)
    return figure


def vulnerability_figure(results: SanityResults) -> Figure:
    """Per layer, the per-image correlation of each method's heatmaps before and after the logit shift, per score
    kind (box plots)."""
    data = results.vulnerability.assign(
        method=lambda frame: frame["method"].map(METHOD_LABELS),
        score=lambda frame: frame["kind"].map(SCORE_KIND_LABELS),
    )
    layers = results.config.layers()
    figure, axes = plt.subplots(1, len(layers), figsize=(PAGE_WIDTH, 2.6), sharey=True, squeeze=False)
    for ax, layer in zip(axes[0], layers):
        sns.boxplot(data=data[data["layer"] == layer], x="method", y="correlation", hue="score", ax=ax,
                    fliersize=1.5, linewidth=0.7)
        ax.set_title(layer_label(layer), fontsize=8)
        ax.set_xlabel("")
        ax.set_ylabel("correlation with the unshifted heatmap", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=6, title=None)
    figure.tight_layout()
    return figure


__all__ = ["examples_figure", "randomisation_figure", "vulnerability_figure"]
