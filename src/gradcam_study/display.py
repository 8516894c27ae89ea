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
from collections.abc import Iterable
from dataclasses import dataclass

#: Section 3.3's "near 1/2": within this distance (a definition of the study, printed in labels).
NEAR_HALF = 0.03

#: How the book and the tables print each method.
METHOD_LABELS: dict[str, str] = {
    "grad_cam": "Grad-CAM",
    "grad_cam_plus": "Grad-CAM+",
    "grad_cam_plus_plus": "Grad-CAM++",
}

#: The pairs of Table 1 and Table 2, "first vs second".
METHOD_PAIRS: tuple[tuple[str, str], ...] = (
    ("grad_cam_plus_plus", "grad_cam"),
    ("grad_cam_plus", "grad_cam"),
    ("grad_cam_plus_plus", "grad_cam_plus"),
)

SCORE_KIND_LABELS: dict[str, str] = {"pre_softmax": "pre-softmax", "post_softmax": "post-softmax"}

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
}


def label(identifier: str) -> str:
    """The printed label of an identifier (itself when it has none): methods, score kinds, columns."""
    for table in (METHOD_LABELS, SCORE_KIND_LABELS, LABELS):
        if identifier in table:
            return table[identifier]
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

    def caption(self, score_kind: str | None = None, kept: int | None = None) -> str:
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
        return "; ".join(parts)


def show_caption(provenance: Provenance, **kwargs: object) -> None:
    """Display the provenance line every figure and table of the book carries, in italics."""
    from IPython.display import Markdown, display

    display(Markdown(f"*{provenance.caption(**kwargs)}*"))


def p_value(p: float, digits: int = 2) -> str:
    """A p-value with ``digits`` significant digits; one that underflows to 0 in floating point prints as
    ``"< 1e-300"``, not as 0.

    >>> p_value(0.0), p_value(0.01234)
    ('< 1e-300', '0.012')
    """
    return "< 1e-300" if p == 0 else significant(p, digits)


def p_equals(p: float, digits: int = 2) -> str:
    """A p-value for a sentence after "p": ``"= 0.012"``, or ``"< 1e-300"`` where it underflows to 0."""
    return p_value(p, digits) if p == 0 else f"= {p_value(p, digits)}"


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


def finite_or_dash(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or an en dash where it is not a number (no NaN in a table)."""
    return "–" if value is None or not math.isfinite(value) else decimals(value, digits)


__all__ = [
    "COUNT_IDENTIFIERS",
    "LABELS",
    "MACHINE_LABELS",
    "METHOD_LABELS",
    "METHOD_PAIRS",
    "NEAR_HALF",
    "Provenance",
    "SCORE_KIND_LABELS",
    "SHARE_IDENTIFIERS",
    "decimals",
    "interval",
    "listing",
    "finite_or_dash",
    "label",
    "labelled",
    "layer_label",
    "p_equals",
    "p_value",
    "ratio",
    "styled_summary",
    "pair_label",
    "percent",
    "show_caption",
    "significant",
]
