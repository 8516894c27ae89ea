"""Display vocabulary: how identifiers are printed, and the provenance caption every figure and table carries.

Keys and columns everywhere in the package are identifiers (``"grad_cam_plus"``, ``"pre_softmax"``,
``"alpha_min"``); this module is the one place that turns them into labels for people. Nothing here
computes a result.

>>> pair_label("grad_cam_plus_plus", "grad_cam_plus")
'Grad-CAM++ vs Grad-CAM+'
>>> label("share_near_half")
'share |alpha - 1/2| <= 0.03'
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

from . import settings

#: Section 3.3's "near 1/2": within this distance (a definition of the study, printed in labels).
NEAR_HALF = 0.03

#: How the book and the tables print each method.
METHOD_LABELS: dict[str, str] = {
    "grad_cam": "Grad-CAM",
    "grad_cam_plus": "Grad-CAM+",
    "grad_cam_plus_plus": "Grad-CAM++",
    "hires_cam": "HiResCAM",
    "layer_cam": "LayerCAM",
}

#: The pairs of Table 1 and Table 2, "first vs second".
METHOD_PAIRS: tuple[tuple[str, str], ...] = (
    ("grad_cam_plus_plus", "grad_cam"),
    ("grad_cam_plus", "grad_cam"),
    ("grad_cam_plus_plus", "grad_cam_plus"),
)

#: The pixel-wise weightings against the channel weightings they reduce to where the gradient is constant
#: within each map (HiResCAM to Grad-CAM, LayerCAM to Grad-CAM+), LayerCAM against Grad-CAM++, and the two
#: against each other (positive gradients only, pixel-wise): the pairs of the tables beyond the paper.
PIXEL_WISE_PAIRS: tuple[tuple[str, str], ...] = (
    ("hires_cam", "grad_cam"),
    ("layer_cam", "grad_cam_plus"),
    ("layer_cam", "grad_cam_plus_plus"),
    ("layer_cam", "hires_cam"),
)

SCORE_KIND_LABELS: dict[str, str] = {"pre_softmax": "pre-softmax", "post_softmax": "post-softmax",
                                     "log_softmax": "log-softmax"}

#: Labels of the keys of :func:`gradcam_study.edition.machine`.
MACHINE_LABELS: dict[str, str] = {
    "python": "Python",
    "torch": "PyTorch",
    "platform": "operating system",
    "processor": "processor architecture",
    "cpu_count": "CPU cores (logical)",
    "torch_threads": "threads PyTorch uses on the CPU",
    "device": "device of the studies",
    "gpu": "GPU",
}

#: Labels of the columns of :func:`gradcam_study.book.study_times`.
STUDY_TIME_LABELS: dict[str, str] = {
    "images": "images",
    "layers": "layers",
    "seconds": "time (s)",
    "images_per_second": "images per second",
    "forward_mode": "forward passes",
    "warmup_seconds": "compiling (s)",
}

#: Labels of the identifiers used as keys of per-image columns and of summaries.
LABELS: dict[str, str] = {
    "nonzero_alphas": "non-zero alphas",
    "alpha_min": "smallest alpha",
    "alpha_max": "largest alpha",
    "far_from_half": "count |alpha - 1/2| > 1/2",
    "share_far_from_half": "share |alpha - 1/2| > 1/2",
    "images_far_from_half": "images with such an alpha",
    "far_at_positive_gradient": "of which at a positive gradient",
    "share_near_half": f"share |alpha - 1/2| <= {NEAR_HALF}",
    "term_min": "smallest term t",
    "term_max": "largest term t",
    "images_term_below_pole": "images with a term below -2",
    "closest_to_pole": "smallest |2 + t|",
    "constant_grad_cam_plus_plus_maps": "images with a constant Grad-CAM++ map",
    "relative_performance": "relative performance",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "wilcoxon_statistic": "Wilcoxon statistic",
    "p_value": "p-value",
    "median_log_ratio": "median log ratio",
    "hodges_lehmann": "Hodges-Lehmann log ratio",
    "tost_p_value": "TOST p-value",
    "equivalent": "equivalent within margin",
    "images": "images",
    "median_correlation": "median correlation",
    "share_correlation_above": "share at or above the criterion",
    "q05": "5th percentile",
    "undefined": "undefined (a constant map)",
    "nearly_equal": "nearly equal",
    "median_overlap": "median top-pixel overlap",
    "overlap_q05": "overlap, 5th percentile",
    "identical": "identical heatmaps",
    "verdict": "verdict",
    "p_value_holm": "p-value (Holm)",
    "average_drop": "Average Drop %",
    "increase_in_confidence": "Increase in Confidence %",
    "win_percent": "Win %",
    "deletion_auc": "deletion AUC",
    "insertion_auc": "insertion AUC",
    "low": "95% CI low",
    "high": "95% CI high",
}


def label(identifier: str) -> str:
    """The printed label of an identifier (itself when it has none): methods, score kinds, columns."""
    for table in (METHOD_LABELS, SCORE_KIND_LABELS, LABELS):
        if identifier in table:
            return table[identifier]
    # Columns per equivalence margin ("verdict_within_1pct"): the margin is part of the identifier.
    for prefix, text in (("verdict_within_", "verdict, {} margin"), ("tost_p_holm_within_", "TOST p (Holm), {}")):
        if identifier.startswith(prefix):
            return text.format(identifier.removeprefix(prefix).replace("pct", "%"))
    return identifier


def labelled(identifiers: Iterable[str]) -> list[str]:
    """:func:`label` of each identifier, e.g. to rename the index of a summary before display."""
    return [label(i) for i in identifiers]


def pair_label(first: str, second: str) -> str:
    """``"Grad-CAM++ vs Grad-CAM"`` for ``("grad_cam_plus_plus", "grad_cam")``."""
    return f"{METHOD_LABELS[first]} vs {METHOD_LABELS[second]}"


def layer_label(key: str) -> str:
    """``"_avg_pooling (input)"`` for the layer key ``"_avg_pooling:input"``; an output key is its name."""
    name, _, tap = key.partition(":")
    return f"{name} ({tap})" if tap else name


def decimals(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals (relative performances are printed with 3)."""
    return f"{value:.{digits}f}"


def significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits (extremes, which span orders of magnitude)."""
    return f"{value:.{digits}g}"


def ratio(value: float, digits: int = 3) -> str:
    """A relative performance (or an end of its interval) with ``digits`` decimals, or with more (up to 6) where it
    would otherwise read 1 without being 1, so that "below 1" never stands beside a printed 1.000.

    >>> ratio(0.99996), ratio(0.995)
    ('0.99996', '0.995')
    """
    places = digits
    while round(value, places) == 1 and value != 1 and places < 6:
        places += 1
    return decimals(value, places)


def interval(value: float, low: float, high: float, digits: int = 3) -> str:
    """``"0.995 [0.993, 0.997]"``: a relative performance and its interval, each with :func:`ratio`.

    >>> interval(1.084, 1.0004, 1.195)
    '1.084 [1.0004, 1.195]'
    """
    return f"{ratio(value, digits)} [{ratio(low, digits)}, {ratio(high, digits)}]"


def listing(items: Iterable[str]) -> str:
    """``"a, b and c"``; items that hold commas themselves are separated by semicolons instead.

    >>> listing(["a", "b", "c"]), listing(["m at x, y", "n"])
    ('a, b and c', 'm at x, y; and n')
    """
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if any("," in item for item in items):
        return "; ".join(items[:-1]) + "; and " + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def percent(share: float, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage with ``digits`` decimals."""
    return f"{100 * share:.{digits}f}%"


@dataclass(frozen=True)
class Provenance:
    """Where a result comes from, for every caption: profile, model, layer, data, images, device.

    ``total`` is the size of the folder when the study used an evenly spread subset of it, so that
    a caption names the subset.
    """

    profile: str
    model: str
    layer: str
    dataset: str
    images: int
    device: str
    total: int | None = None
    #: A rehearsal's results (random weights): every caption then says so first.
    rehearsal: bool = False

    def caption(self, score_kind: str | None = None, kept: int | None = None, note: str | None = None) -> str:
        """The provenance line; ``note`` (e.g. the subset a column is computed on) is appended."""
        count = f"{self.images} image{'' if self.images == 1 else 's'}"
        if self.total is not None and self.total != self.images:
            count += f" (an evenly spread subset of {self.total})"
        if kept is not None:
            count += f", {kept} kept"
        parts = [
            f"profile {self.profile}",
            f"model {self.model}",
            f"layer {self.layer}",
            f"data {self.dataset}",
            count,
            f"score {SCORE_KIND_LABELS.get(score_kind, score_kind) if score_kind else 'pre- and post-softmax'}",
            f"device {self.device}",
        ]
        if self.rehearsal:
            parts.insert(0, settings.rehearsal_note(self.images))
        return "; ".join(parts + ([note] if note else []))


def show_caption(provenance: Provenance, **kwargs: object) -> None:
    """Display the provenance line every figure and table of the book carries, in italics."""
    from IPython.display import Markdown, display

    display(Markdown(f"*{provenance.caption(**kwargs)}*"))


#: Set by ``make book`` for the chapters' kernels: a numbered figure or table is then shown only where its directive
#: stands on the page. Where it is unset (a chapter rerun in JupyterLab or any kernel), :func:`glue_numbered` also shows
#: the figure or table in the cell, with its provenance, so that a rerun chapter shows everything it computes.
BOOK_BUILD_ENV = "GRADCAM_STUDY_BOOK_BUILD"


def glue_numbered(key: str, content: object, *captions: str) -> None:
    """Hand a figure or table to the page's numbered ``{glue:figure}`` / ``{glue:table}`` directive of the same key.

    ``content`` (a matplotlib figure, a DataFrame or Styler) is glued under ``key``; the provenance lines
    ``captions`` (:meth:`Provenance.caption`), in italics, one a line, under ``key + "-provenance"``, which the
    directive's legend pastes with ``{glue:md}``. A figure is closed, so that the cell does not show it a second
    time. In the book build (:data:`BOOK_BUILD_ENV` set) nothing is displayed in the cell itself: the page shows
    the numbered object where its directive stands; elsewhere the cell shows it too.

    How figures and tables are numbered (the convention of every chapter): numbers come from Sphinx's ``numfig``
    per chapter ("Figure 4.2", "Table 6.1"); the key is also the object's label, prefixed ``fig-`` or ``tab-``
    and unique in the book; the caption's first paragraph is typed in the chapter (values in it are glued, never
    typed), the provenance line is the legend. A figure::

        glue_numbered("fig-alphas-histogram", fig, results.provenance.caption(score_kind="pre_softmax"))

    pasted by::

        :::{glue:figure} fig-alphas-histogram
        :name: fig-alphas-histogram

        The alphas of all analysed images, pre-softmax.

        {glue:md}`fig-alphas-histogram-provenance`
        :::

    and a table (``{glue:table}`` comes from :mod:`gradcam_study.sphinx_tables`; its caption stands above)::

        glue_numbered("tab-alphas-summary", styled, results.provenance.caption())

        :::{glue:table} tab-alphas-summary
        :name: tab-alphas-summary

        Summary of the non-zero alphas.

        {glue:md}`tab-alphas-summary-provenance`
        :::

    Elsewhere, {numref}`fig-alphas-histogram` prints "Figure N.M" as a link (from another chapter too).
    """
    from IPython.display import Markdown
    from myst_nb import glue

    glue(key, content, display=False)
    # A backslash at the end of a line is a Markdown line break: one provenance line per study.
    provenance = Markdown("\\\n".join(f"*{caption}*" for caption in captions))
    glue(f"{key}-provenance", provenance, display=False)
    if BOOK_BUILD_ENV not in os.environ:
        from IPython.display import display

        display(content, provenance)
    from matplotlib.figure import Figure

    if isinstance(content, Figure):
        import matplotlib.pyplot as plt

        plt.close(content)


def glue_absent(reason: str, *keys: str) -> None:
    """Glue ``reason`` in place of each numbered figure or table ``keys`` that this build does not make (a model
    without an inner layer, say), so that the page's directives still find their keys and the numbers of the
    chapter's other figures and tables do not depend on the profile."""
    from IPython.display import Markdown
    from myst_nb import glue

    images = settings.rehearsal_images()
    # In a rehearsal an absent figure's caption says so too, as every other caption does.
    provenance = f"*{settings.rehearsal_note(images)}*" if images is not None else ""
    for key in keys:
        glue(key, Markdown(f"*{reason}*"), display=False)
        glue(f"{key}-provenance", Markdown(provenance), display=False)


def p_value(p: float, digits: int = 2) -> str:
    """A p-value with ``digits`` significant digits, floored at
    :data:`~gradcam_study.study.verdicts.P_VALUE_FLOOR`: a smaller one (or one that underflows to 0) prints as
    ``"< 1e-12"``.

    >>> p_value(0.0), p_value(1.2e-248), p_value(0.01234)
    ('< 1e-12', '< 1e-12', '0.012')
    """
    from .study.verdicts import P_VALUE_FLOOR

    return f"< {P_VALUE_FLOOR:g}" if p < P_VALUE_FLOOR else significant(p, digits)


def p_equals(p: float, digits: int = 2) -> str:
    """A p-value for a sentence after "p": ``"= 0.012"``, or ``"< 1e-12"`` below the floor."""
    text = p_value(p, digits)
    return text if text.startswith("<") else f"= {text}"


#: Identifiers of summaries that are counts (printed as integers) and shares (printed as percentages).
COUNT_IDENTIFIERS = frozenset({"nonzero_alphas", "far_from_half", "far_at_positive_gradient", "images_far_from_half",
                               "images_term_below_pole", "constant_grad_cam_plus_plus_maps"})
SHARE_IDENTIFIERS = frozenset({"share_far_from_half", "share_near_half"})


def styled_summary(frame, number_format: str = "{:.5g}"):
    """A summary whose rows are keyed by identifiers, for display: rows labelled, counts as integers, shares as
    percentages with 3 decimals, every other number with ``number_format``."""
    counts = [label(i) for i in frame.index if i in COUNT_IDENTIFIERS]
    shares = [label(i) for i in frame.index if i in SHARE_IDENTIFIERS]
    frame = frame.rename(index=label)
    return (frame.style.format(number_format)
            .format("{:.0f}", subset=(counts, slice(None)))
            .format("{:.3%}", subset=(shares, slice(None))))


#: Decimals of each yardstick as printed: percentages with 1, areas under curves with 3.
YARDSTICK_DECIMALS = {"average_drop": 1, "increase_in_confidence": 1, "win_percent": 1, "deletion_auc": 3,
                      "insertion_auc": 3}
#: The unit of a difference of each yardstick, in a sentence: percentages differ by points, areas by plain units.
YARDSTICK_UNITS = {"average_drop": "points", "increase_in_confidence": "points", "win_percent": "points",
                   "deletion_auc": "(area units)", "insertion_auc": "(area units)"}


def yardstick_table(frame):
    """:meth:`~gradcam_study.study.LayerResults.yardsticks` for display: one row per method (labelled), one column
    per yardstick (labelled), each cell ``"value [low, high]"`` with :data:`YARDSTICK_DECIMALS`, or a dash where
    the value is undefined (Win % of the baseline over itself, areas without curves)."""
    import pandas as pd

    def cell(row, yardstick: str) -> str:
        digits = YARDSTICK_DECIMALS[yardstick]
        value = row[(yardstick, "value")]
        low, high = (row.get((yardstick, part), float("nan")) for part in ("low", "high"))
        if not math.isfinite(value):
            return "–"
        if not (math.isfinite(low) and math.isfinite(high)):
            return decimals(value, digits)
        return f"{decimals(value, digits)} [{decimals(low, digits)}, {decimals(high, digits)}]"

    yardsticks = list(dict.fromkeys(frame.columns.get_level_values(0)))
    return pd.DataFrame(
        {label(y): [cell(row, y) for _, row in frame.iterrows()] for y in yardsticks},
        index=pd.Index(labelled(frame.index), name="method"),
    )


def statistics_table(frame):
    """:meth:`~gradcam_study.study.LayerResults.statistics` for display: the relative performance with its interval,
    the Wilcoxon test and the equivalence tests (p-values Holm-adjusted over the table, floored by :func:`p_value`),
    and the verdict at each shown margin in words; the raw p-values and the single-margin columns are left out,
    since the verdicts do not rest on them. Extra index levels (a layer, say) are kept."""
    from .study.verdicts import verdict_words

    verdicts = [c for c in frame.columns if c.startswith("verdict_within_")]
    tests = [c for c in frame.columns if c.startswith("tost_p_holm_within_")]
    shown = frame[["relative_performance", "ci_low", "ci_high", "wilcoxon_statistic", "p_value_holm",
                   "median_log_ratio", *tests, *verdicts, "identical", "images"]].copy()
    for column in verdicts:
        shown[column] = [verdict_words(v, METHOD_LABELS[a], METHOD_LABELS[b])
                         for v, a, b in zip(frame[column], frame["first"], frame["second"])]
    shown["identical"] = shown["identical"].map({True: "yes", False: "no"})
    shown = shown.rename(columns=label)
    return (
        shown.style.format(precision=3, na_rep="–")
        .format(ratio, subset=[label(c) for c in ("relative_performance", "ci_low", "ci_high")], na_rep="–")
        .format(p_value, subset=[label(c) for c in ("p_value_holm", *tests)], na_rep="–")
        .format(lambda m: significant(m, 2), subset=[label("median_log_ratio")], na_rep="–")
        .format("{:.0f}", subset=[label("wilcoxon_statistic"), label("images")], na_rep="–")
    )


def finite_or_dash(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or an en dash where it is not a number (no NaN in a table)."""
    return "–" if value is None or not math.isfinite(value) else decimals(value, digits)


__all__ = [
    "BOOK_BUILD_ENV",
    "COUNT_IDENTIFIERS",
    "LABELS",
    "MACHINE_LABELS",
    "STUDY_TIME_LABELS",
    "METHOD_LABELS",
    "METHOD_PAIRS",
    "NEAR_HALF",
    "PIXEL_WISE_PAIRS",
    "YARDSTICK_DECIMALS",
    "YARDSTICK_UNITS",
    "Provenance",
    "SCORE_KIND_LABELS",
    "SHARE_IDENTIFIERS",
    "decimals",
    "interval",
    "listing",
    "finite_or_dash",
    "glue_absent",
    "glue_numbered",
    "label",
    "labelled",
    "layer_label",
    "p_equals",
    "p_value",
    "ratio",
    "statistics_table",
    "styled_summary",
    "yardstick_table",
    "pair_label",
    "percent",
    "show_caption",
    "significant",
]
