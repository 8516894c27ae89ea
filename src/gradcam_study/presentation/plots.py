"""Small plotting helpers shared by the book's chapters (matplotlib; seaborn styles the rest)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter, LogLocator, NullFormatter
from torch import Tensor

from .labels import METHOD_LABELS
from ..study.verdicts import NEAR_HALF
from ..explain import Explanation, ImageExplanation
from ..methods import METHODS, PAPER_METHODS

#: A book page's text width, in inches.
PAGE_WIDTH = 7.0


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
    """One row per image: the image, then each method's heatmap over it (Figure 5's layout; the paper's three
    methods unless ``methods`` says otherwise)."""
    methods = list(methods or PAPER_METHODS)
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


#: How a depth sweep draws each kind of map: marker and line style (signed stage outputs, non-negative maps, last map).
MAP_STYLES: dict[str, tuple[str, str]] = {"signed": ("o", "-"), "non_negative": ("s", "--"), "last_map": ("D", "")}
MAP_NAMES: dict[str, str] = {"signed": "signed", "non_negative": "non-negative", "last_map": "last map"}


def sweep_figure(
    summary: pd.DataFrame,
    titles: Mapping[str, str],
    xlabel: str,
    connect: bool = True,
    tick_labels: Mapping[str, str] | None = None,
    equivalence_margin: float = 0.05,
    nearly_equal: float = 0.99,
) -> Figure:
    """One panel per quantity of a sweep (a tidy frame with columns ``setting``, ``position``, ``kind``, ``pair``,
    ``quantity``, ``value``, ``low``, ``high``): the relative performance of each pair with its interval (log axis),
    then the per-setting quantities named in ``titles`` (in its order); one colour per score kind. Settings lie along
    the x axis at their ``position``; with a ``map`` column (a depth sweep) the signed, non-negative and last maps get
    their own markers and line styles, so that the maps of one stage stand side by side. ``connect`` joins the points
    of ordered settings (layers by depth), not of unordered ones (models); ``tick_labels`` shortens the names on the x
    axis. Every relative-performance panel shades the equivalence band ``[1/(1 + equivalence_margin), 1 +
    equivalence_margin]`` with its edges drawn, and the correlation panel marks ``nearly_equal`` (pass the book's
    declared criteria)."""
    panels = [("relative_performance", pair) for pair in dict.fromkeys(
        summary.loc[(summary["pair"] != "") & (summary["quantity"] == "relative_performance"), "pair"])]
    present = set(summary.loc[summary["pair"] == "", "quantity"])
    panels += [(quantity, "") for quantity in titles if quantity in present and quantity != "relative_performance"]
    columns = 3
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(PAGE_WIDTH, 2.7 * rows + 0.6), squeeze=False, sharex=True)
    settings = list(dict.fromkeys(summary["setting"]))
    kinds = list(dict.fromkeys(summary["kind"]))
    palette = dict(zip(kinds, sns.color_palette(n_colors=len(kinds))))
    maps = list(dict.fromkeys(summary["map"])) if "map" in summary else [""]
    positions = summary.groupby("setting", sort=False)["position"].first()
    groups = [(kind, kind_of_map) for kind in kinds for kind_of_map in maps]
    offsets = dict(zip(groups, np.linspace(-0.2, 0.2, len(groups)) if len(groups) > 1 else [0.0]))
    for ax, (quantity, pair) in zip(axes.flat, panels):
        part = summary[(summary["quantity"] == quantity) & (summary["pair"] == pair)]
        if quantity == "relative_performance":
            ax.axhspan(1 / (1 + equivalence_margin), 1 + equivalence_margin, color="tab:green", alpha=0.18, lw=0,
                       label=f"equivalence band ±{equivalence_margin:.0%}")
            for bound in (1 / (1 + equivalence_margin), 1 + equivalence_margin):
                ax.axhline(bound, color="tab:green", lw=0.7, ls=":")
        for kind, kind_of_map in groups:
            chosen = part[(part["kind"] == kind) & ((part["map"] == kind_of_map) if kind_of_map else True)]
            if chosen.empty:
                continue
            chosen = chosen.assign(x=chosen["setting"].map(positions)).sort_values("x")
            marker, line = MAP_STYLES.get(kind_of_map, ("o", "-"))
            style = dict(marker=marker, ls=line if connect and line else "none", ms=3, lw=1, color=palette[kind],
                         label=kind.replace("_", "-") + (f", {MAP_NAMES[kind_of_map]}" if kind_of_map else ""))
            x = chosen["x"] + offsets[(kind, kind_of_map)]
            if quantity == "relative_performance":
                error = [chosen["value"] - chosen["low"], chosen["high"] - chosen["value"]]
                ax.errorbar(x, chosen["value"], yerr=error, capsize=2, **style)
            else:
                ax.plot(x, chosen["value"], **style)
        if quantity == "relative_performance":
            # Ratios: a ratio and its inverse lie symmetrically about 1 on a log axis.
            ax.set_yscale("log")
            ax.axhline(1, color="grey", lw=0.8, ls="--")
            low, high = ax.get_ylim()
            # Labels at 1, 2 and 5 times the powers of ten; within a narrow range at fixed values that include 1.
            if high / low > 2:
                ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            else:
                ticks = [0.8, 0.9, 0.95, 0.98, 0.99, 1.0, 1.01, 1.02, 1.05, 1.1, 1.2, 1.5]
                inside = [t for t in ticks if low <= t <= high]
                ax.yaxis.set_major_locator(FixedLocator(sorted({*inside[:: max(1, len(inside) // 5)], 1.0})))
            ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
            ax.set_ylabel("relative performance", fontsize=7)
            ax.yaxis.set_minor_formatter(NullFormatter())
            first, second = pair.split("/")
            ax.set_title(f"{METHOD_LABELS[first]} vs {METHOD_LABELS[second]}", fontsize=8)
        else:
            ax.set_title(titles.get(quantity, quantity), fontsize=8)
        if quantity.endswith("share") or quantity.startswith("share"):
            ax.set_ylabel("share", fontsize=7)
        if quantity == "median_correlation":
            ax.axhline(nearly_equal, color="grey", lw=0.8, ls="--")
            ax.set_ylabel("median r", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    ticks = list(dict.fromkeys(positions[settings]))
    names: dict[float, str] = {}
    for setting in settings:
        names.setdefault(positions[setting], tick_labels.get(setting, setting) if tick_labels else setting)
    for ax in axes[-1]:
        ax.set_xticks(ticks, [names[t] for t in ticks], rotation=60, ha="right", fontsize=7)
        ax.set_xlabel(xlabel, fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.tight_layout(rect=(0, 0.06, 1, 0.96))  # room for the legend and a suptitle
    figure.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=7, frameon=False)
    return figure


def curves_figure(curves: Mapping[str, pd.DataFrame]) -> Figure:
    """Mean deletion and insertion curves: one row per setting (label -> :meth:`LayerResults.mean_curves`), deletion
    on the left, insertion on the right, one line per method. The pixel-wise methods are dashed, so that a curve
    equal to a channel-weighted one (HiResCAM and Grad-CAM where gradients are constant within maps) stays
    visible."""
    figure, axes = plt.subplots(len(curves), 2, figsize=(PAGE_WIDTH, 2.6 * len(curves)), squeeze=False,
                                sharex=True, sharey=True)
    palette = dict(zip(METHOD_LABELS, sns.color_palette(n_colors=len(METHOD_LABELS))))
    for row, (setting, frame) in enumerate(curves.items()):
        for column, curve in enumerate(("deletion", "insertion")):
            ax = axes[row, column]
            for method in frame[curve].columns:
                ax.plot(frame.index, frame[(curve, method)], color=palette[method], lw=1.2,
                        ls="-" if method in PAPER_METHODS else "--", label=METHOD_LABELS[method])
            ax.set_title(f"{curve}, {setting}", fontsize=8)
            ax.set_xlabel(f"fraction of pixels {'deleted' if curve == 'deletion' else 'inserted'}", fontsize=7)
            ax.tick_params(labelsize=7)
        axes[row, 0].set_ylabel("probability of the true class", fontsize=7)
    axes[0, 1].legend(fontsize=7)
    figure.tight_layout()
    return figure


def image_explanation_figure(found: ImageExplanation, title: str, heading: str = "") -> Figure:
    """One image (under ``title``) and the five methods' heatmaps side by side, with the image's alpha summary (how
    many alphas are non-zero, their median and range, how many lie within ``NEAR_HALF`` of 1/2) beneath and
    ``heading`` above."""
    explanation = found.explanation
    figure, axes = plt.subplots(1, 1 + len(METHODS), figsize=(9.0, 2.7))
    axes[0].imshow(as_image(explanation.pixels[0]))
    axes[0].set_title(textwrap.fill(title, 24), fontsize=8)
    axes[0].axis("off")
    for ax, method in zip(axes[1:], METHODS):
        overlay(ax, explanation.pixels[0], explanation.upsampled[method][0], METHOD_LABELS[method])
    values = found.alphas
    count = int(values["alpha_count"])
    if count:
        summary = (f"Grad-CAM++ alphas: {count} non-zero, median {values['alpha_q50']:.4g}, range "
                   f"[{values['alpha_min']:.4g}, {values['alpha_max']:.4g}], {int(values['alpha_near_half'])} within "
                   f"{NEAR_HALF} of 1/2.\nGradient constant within each map (one alpha per map): "
                   f"{'yes' if values['gradient_constant'] else 'no'}.")
    else:
        summary = "Grad-CAM++ alphas: none non-zero (every gradient vanishes at this layer)."
    figure.text(0.5, 0.03, summary, ha="center", va="bottom", fontsize=7)
    if heading:
        figure.suptitle(heading, fontsize=8)
    figure.subplots_adjust(left=0.01, right=0.99, top=0.78, bottom=0.2, wspace=0.05)
    return figure
