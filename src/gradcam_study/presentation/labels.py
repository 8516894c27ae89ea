"""How identifiers are printed: the one place that turns the package's keys into labels for people.

Keys and columns everywhere in the package are identifiers (``"grad_cam_plus"``, ``"pre_softmax"``,
``"alpha_min"``, a pair ``"grad_cam_plus_plus/grad_cam"``, a layer ``"_avg_pooling:input"``); labels are applied
only when something is displayed. Score kinds and layer keys are printed as their owner, :mod:`gradcam_study.capture`,
names them.

>>> pair_label("grad_cam_plus_plus", "grad_cam_plus"), pair_label("grad_cam_plus_plus/grad_cam")
('Grad-CAM++ vs Grad-CAM+', 'Grad-CAM++ vs Grad-CAM')
>>> label("share_near_half")
'share |alpha - 1/2| <= 0.03'
"""

from __future__ import annotations

from collections.abc import Iterable

from ..capture import SCORE_KIND_LABELS, layer_label
from ..methods import pair_methods
from ..study.verdicts import NEAR_HALF

#: How the book and the tables print each method.
METHOD_LABELS: dict[str, str] = {
    "grad_cam": "Grad-CAM",
    "grad_cam_plus": "Grad-CAM+",
    "grad_cam_plus_plus": "Grad-CAM++",
    "hires_cam": "HiResCAM",
    "layer_cam": "LayerCAM",
}


#: How the book names the roles of a study's layers (:meth:`gradcam_study.study.StudyResults.role_layers`).
ROLE_LABELS: dict[str, str] = {"last_map": "last map", "inner_signed": "inner layer, signed",
                               "inner_non_negative": "inner layer, non-negative"}

#: Labels of the keys of :func:`gradcam_study.publishing.edition.machine`.
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
    "share_within_one_percent": "share within 1 ± 1%",
    "share_above_one": "share above 1",
    "low": "95% CI low",
    "high": "95% CI high",
    # The alpha chapters' tables (gradcam_study.findings.alphas).
    "denominator_term": "denominator term t",
    "lower_whisker": "lower whisker",
    "upper_whisker": "upper whisker",
    "share_beyond_whiskers": "share beyond whiskers",
    "pooled_lower_whisker": "pooled lower whisker",
    "pooled_upper_whisker": "pooled upper whisker",
    **{f"pooled_q{q}": f"pooled q{q}" for q in ("01", "25", "50", "75", "99")},
    **{f"image_q{q}_median": f"per-image q{q} (median over images)" for q in ("01", "25", "50", "75", "99")},
    "squeezed_window": "within |tanh(alpha - 1/2)| <=",
    "alpha_window": "|alpha - 1/2| <=",
    "share_of_alphas": "share of all non-zero alphas",
    "units_per_map": "Z (units per map)",
    "maps_positive_plus_weight": "maps with positive GC+ weight",
    "ratio_q01": "ratio q01",
    "ratio_median": "ratio median",
    "ratio_q99": "ratio q99",
    "weight_correlation": "corr. of weights",
    "heatmap_correlation": "corr. of heatmaps",
}




def label(identifier: str) -> str:
    """The printed label of an identifier (itself when it has none): methods, pairs, score kinds, columns."""
    for table in (METHOD_LABELS, SCORE_KIND_LABELS, LABELS):
        if identifier in table:
            return table[identifier]
    if "/" in identifier and all(method in METHOD_LABELS for method in pair_methods(identifier)):
        return pair_label(identifier)
    # Columns per equivalence margin ("verdict_within_1pct"): the margin is part of the identifier.
    for prefix, text in (("verdict_within_", "verdict, {} margin"), ("tost_p_holm_within_", "TOST p (Holm), {}")):
        if identifier.startswith(prefix):
            return text.format(identifier.removeprefix(prefix).replace("pct", "%"))
    return identifier


def labelled(identifiers: Iterable[str]) -> list[str]:
    """:func:`label` of each identifier, e.g. to rename the index of a summary before display."""
    return [label(i) for i in identifiers]


def pair_label(first: str, second: str | None = None) -> str:
    """``"Grad-CAM++ vs Grad-CAM"`` for ``("grad_cam_plus_plus", "grad_cam")`` or the pair identifier
    ``"grad_cam_plus_plus/grad_cam"``."""
    if second is None:
        first, second = pair_methods(first)
    return f"{METHOD_LABELS[first]} vs {METHOD_LABELS[second]}"


def method_labels(pair: str) -> tuple[str, str]:
    """The labels of a pair identifier's two methods: ``("Grad-CAM++", "Grad-CAM")``."""
    first, second = pair_methods(pair)
    return METHOD_LABELS[first], METHOD_LABELS[second]


__all__ = ["LABELS", "MACHINE_LABELS", "METHOD_LABELS", "ROLE_LABELS", "SCORE_KIND_LABELS", "STUDY_TIME_LABELS", "label",
           "labelled", "layer_label", "method_labels", "pair_label"]
