"""The audit's tables and sentences: what the chapter prints, computed from :func:`~.audit.audit_layer` frames.

Tables (:func:`formula_table`, :func:`performance_table`) have printed column labels and cells ("–" where a value
is absent, never NaN); sentences (:func:`findings`, :func:`recommendations`, :func:`audit_scope`,
:func:`compat_sentence`) are Markdown, glued into the chapter's prose. ``audits`` are :func:`~.audit.audit_layer`
frames by layer key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from ..methods import pair_id
from ..methods.candidates import CANDIDATES, REFERENCE_FORMULA, is_eq9
from ..presentation.formats import finite_or_dash, interval, p_equals, significant
from ..presentation.labels import METHOD_LABELS, layer_label
from ..study.config import DEFAULT_THRESHOLD
from ..study.results import LayerResults
from ..study.verdicts import EQUIVALENCE_MARGIN, interval_verdict
from .adapters import LIBRARIES, SCORE_KIND, Library
from .audit import AUDITED_METHODS, audit_provenance
from .matching import HEATMAP_TOLERANCE, MATCH_TOLERANCE



def _tolerance(row: pd.Series) -> float:
    return MATCH_TOLERANCE if row["compared"] == "weights" else HEATMAP_TOLERANCE


def _float32_matches(row: pd.Series) -> bool:
    residual = row.get("float32_residual")
    return isinstance(residual, float) and math.isfinite(residual) and residual <= _tolerance(row)


def _partial(row: pd.Series) -> str:
    """Empty when the best candidate matches on every image, else on how many, and whether its float32 form does."""
    if row["residual"] <= _tolerance(row):
        return ""
    text = f"within {_tolerance(row):g} on {int(row['images_matched'])} of {int(row['images'])} images"
    if _float32_matches(row):
        text += f" in float64, and on all {int(row['images'])} when evaluated in float32, as the library computes it"
    return text


def _formula_text(row: pd.Series) -> str:
    """The best candidate's label, with its factor when not 1, and how far it matches when not on every image."""
    if row["status"] != "ok":
        return row["status"]
    label = CANDIDATES[row["formula"]].label
    factor = row.get("factor")
    if isinstance(factor, float) and math.isfinite(factor) and abs(factor - 1) > 1e-4:
        label += f" × {significant(factor)}"
    partial_match = _partial(row)
    return f"{label} ({partial_match})" if partial_match else label


def formula_table(audit: pd.DataFrame) -> pd.DataFrame:
    """Per library and method: version, the formula it computes (best candidate, with its factor), its residual,
    every candidate indistinguishable on these inputs, what was compared, and how far the activations and
    gradients it recorded are from the package's capture (:func:`capture_deviation`); errors and absences as text."""
    rows = {}
    for (library, method), row in audit.iterrows():
        ok = row["status"] == "ok"
        rows[(library, METHOD_LABELS[method])] = {
            "class": row["class"],
            "version": row["version"] or "–",
            "formula (best match)": _formula_text(row),
            "residual": finite_or_dash(row.get("residual"), 2, significant) if ok else "–",
            "also matches": ", ".join(CANDIDATES[c].label for c in row["matches"].split(", ") if c and c != row["formula"])
            if ok else "–",
            "compared": row["compared"] if ok else "–",
            "its A and g vs the package's": finite_or_dash(row.get("capture_deviation"), 2, significant) if ok else "–",
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.names = ["library", "method"]
    return frame


def performance_table(audit: pd.DataFrame, method: str = "grad_cam_plus_plus") -> pd.DataFrame:
    """Per library, for ``method``: the largest relative deviation of its weights from the package's formula, the
    largest difference of normalised heatmaps, the median heatmap correlation, and the relative performances
    (3 decimals) with their 95% intervals against eq. (9)'s Grad-CAM++ and against Grad-CAM+."""
    rows = {}
    for (library, row_method), row in audit.iterrows():
        if row_method != method:
            continue
        ok = row["status"] == "ok"
        entry = {
            "largest relative weight deviation from eq. 9": finite_or_dash(row.get("deviation"), 2, significant) if ok else row["status"],
            "largest deviation after fitting a factor per image": finite_or_dash(row.get("deviation_up_to_factor"), 2, significant) if ok else "–",
            "largest heatmap difference": finite_or_dash(row.get("heatmap_deviation"), 2, significant) if ok else "–",
            "median heatmap correlation with eq. 9": finite_or_dash(row.get("median_correlation"), 4) if ok else "–",
        }
        for suffix, against in (("", "eq. 9's Grad-CAM++"), ("_vs_grad_cam_plus", "Grad-CAM+")):
            if ok and f"relative_performance{suffix}" in row and math.isfinite(row[f"relative_performance{suffix}"]):
                entry[f"relative performance vs {against} [95% CI]"] = interval(
                    row[f"relative_performance{suffix}"], row[f"ci_low{suffix}"], row[f"ci_high{suffix}"]
                )
            else:
                entry[f"relative performance vs {against} [95% CI]"] = "–"
        rows[library] = entry
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("library")


def _layer_candidates(row: pd.Series) -> list[str]:
    """The candidates a row supports: those within the tolerance, or the best one where none is on every image."""
    return [name for name in row["matches"].split(", ") if name] or [row["formula"]]


def consistent_formula(rows: Sequence[pd.Series], method: str) -> str | None:
    """The one candidate every row (a library's method at several layers, all ``"ok"``) supports: the method's own
    formula where possible (eq. (9) or eq. (1)), else the first in :data:`CANDIDATES` order; None when no candidate
    is supported at every layer. (At a layer with constant gradients, eq. (9) and the ΣAg³ denominator tie; the
    other layer decides.)"""
    if not rows:
        return None
    common = set.intersection(*(set(_layer_candidates(row)) for row in rows))
    if not common:
        return None
    own = REFERENCE_FORMULA[method]
    return own if own in common else next(name for name in CANDIDATES if name in common)


def _audited_libraries(audits: Mapping[str, pd.DataFrame]) -> list[str]:
    """The libraries of the audits, in order, without this package (the control)."""
    names = dict.fromkeys(name for audit in audits.values() for name in audit.index.get_level_values("library"))
    return [name for name in names if name != "gradcam_study"]


def _interval(row: pd.Series, against: str, suffix: str = "") -> str:
    """``"1.004 [0.998, 1.011] against <against> (not distinguishable)"``."""
    low, high = row[f"ci_low{suffix}"], row[f"ci_high{suffix}"]
    return (f"{interval(row[f'relative_performance{suffix}'], low, high)} against {against} "
            f"({interval_verdict(low, high)})")


def _status_phrase(status: str) -> str:
    return status if status.startswith("not installed") else f"raised {status.removeprefix('error: ')}"


def _rows(audits: Mapping[str, pd.DataFrame], library: str, method: str) -> dict[str, pd.Series]:
    return {layer: audit.loc[(library, method)] for layer, audit in audits.items() if (library, method) in audit.index}


def _method_sentence(library: str, method: str, audits: Mapping[str, pd.DataFrame]) -> str:
    """``"`Class` computes F at every layer audited (residual r at L1, r' at L2), not eq. 9"``; per layer where no one
    formula fits all; absences and errors per layer."""
    rows = _rows(audits, library, method)
    ok = {layer: row for layer, row in rows.items() if row["status"] == "ok"}
    problems = [f"at {layer_label(layer)} it {_status_phrase(row['status'])}" for layer, row in rows.items()
                if row["status"] != "ok"]
    klass = next(iter(rows.values()))["class"]
    chosen = consistent_formula(list(ok.values()), method)
    own = CANDIDATES[REFERENCE_FORMULA[method]].label
    if chosen is not None:
        residuals = []
        for layer, row in ok.items():
            partial_match = _partial(row) if row["formula"] == chosen else ""
            residuals.append(f"{significant(row['residuals'][chosen], 2)} at {layer_label(layer)}"
                             + (f", {partial_match}" if partial_match else ""))
        same = is_eq9(chosen) if method == "grad_cam_plus_plus" else chosen == REFERENCE_FORMULA[method]
        text = (f"`{klass}` computes {CANDIDATES[chosen].label} at {'every layer audited' if len(ok) > 1 else 'the layer'} "
                f"(residual {'; '.join(residuals)})" + ("" if same else f", not {own}"))
    elif ok:
        text = f"`{klass}` computes " + "; ".join(
            f"{_formula_text(row)} at {layer_label(layer)} (residual {significant(row['residual'], 2)})"
            for layer, row in ok.items()) + f", not {own}"
    else:
        text = f"`{klass}`"
    return "; ".join([text, *problems])


def findings(audits: Mapping[str, pd.DataFrame]) -> list[str]:
    """One computed sentence per library (this package, the control, left out): what its Grad-CAM++ and its
    Grad-CAM compute at the audited layers (``audits``: :func:`audit_layer` frames by layer key), with residuals,
    or that it is not installed or raised."""
    sentences = []
    for library in _audited_libraries(audits):
        rows = [row for method in AUDITED_METHODS for row in _rows(audits, library, method).values()]
        statuses = {row["status"] for row in rows}
        if len(statuses) == 1 and next(iter(statuses)).startswith("not installed"):
            sentences.append(f"**{library}** is {next(iter(statuses))}: its rows are empty.")
            continue
        version = next((row["version"] for row in rows if row["version"]), None)
        name = f"{library} {version}" if version else library
        methods = [m for m in AUDITED_METHODS if _rows(audits, library, m)]
        sentences.append(f"**{name}**: " + "; ".join(_method_sentence(library, m, audits) for m in methods) + ".")
    return sentences


def pair_statistics(statistics: pd.DataFrame, first: str, second: str, kind: str) -> pd.Series:
    """The row of a :meth:`~gradcam_study.study.LayerResults.statistics` frame (indexed by pair identifier and score
    kind) for ``first`` against ``second`` with ``kind`` maps: the one place this module reads that frame's layout."""
    return statistics.loc[(pair_id(first, second), kind)]


def study_verdicts(statistics: Mapping[str, pd.DataFrame]) -> dict[str, tuple[str, str]]:
    """Per layer key, the study's Grad-CAM++ (eq. (9)) against Grad-CAM+ on all its kept images, pre-softmax
    (``statistics``: :meth:`LayerResults.statistics` frames by layer key): its interval verdict and a clause with the
    relative performance, its interval and the equivalence test."""
    found = {}
    for layer, frame in statistics.items():
        row = pair_statistics(frame, "grad_cam_plus_plus", "grad_cam_plus", SCORE_KIND)
        verdict = interval_verdict(row["ci_low"], row["ci_high"])
        found[layer] = (verdict, (
            f"at {layer_label(layer)} with {SCORE_KIND.replace('_', '-')} maps, Grad-CAM++ against Grad-CAM+ scores "
            f"{interval(row['relative_performance'], row['ci_low'], row['ci_high'])} over the study's "
            f"{int(row['images'])} kept images ("
            + {"worse": "worse, with the interval below 1", "better": "better, with the interval above 1",
               "not distinguishable": "not distinguishable"}[verdict]
            + f"; equivalence within {EQUIVALENCE_MARGIN:.0%} {'shown' if row['equivalent'] else 'not shown'}, "
            f"TOST p {p_equals(row['tost_p_value'])})"
        ))
    return found


def recommendations(audits: Mapping[str, pd.DataFrame], statistics: Mapping[str, pd.DataFrame]) -> list[str]:
    """The chapter's "What to do", computed: whether the study favours Grad-CAM++ over Grad-CAM+ anywhere
    (:func:`study_verdicts`), then per library whether that applies to its Grad-CAM++ (it does where the library
    computes eq. (9)) and how the formula its Grad-CAM++ computes scores on every kept image (:func:`score_identified`) against eq. (9)'s and against Grad-CAM+."""
    verdicts = study_verdicts(statistics)
    better = [layer_label(layer) for layer, (verdict, _) in verdicts.items() if verdict == "better"]
    lead = ("**Grad-CAM+ rather than Grad-CAM++.** No interval in this study puts Grad-CAM++ above Grad-CAM+: "
            if not better else
            f"**Grad-CAM++ or Grad-CAM+.** Grad-CAM++ scores better than Grad-CAM+ at {', '.join(better)}: ")
    sentences = [lead + "; ".join(clause for _, clause in verdicts.values()) + ". Grad-CAM+ has no alphas, so it has "
                 "no denominator to come near a pole ({doc}`alphas_unstable`)."]
    for library in _audited_libraries(audits):
        rows = _rows(audits, library, "grad_cam_plus_plus")
        ok = {layer: row for layer, row in rows.items() if row["status"] == "ok"}
        klass = next(iter(rows.values()))["class"]
        if not ok:
            sentences.append(f"**{library}**: {_status_phrase(next(iter(rows.values()))['status'])}; nothing to say.")
            continue
        scores = "; ".join(
            f"at {layer_label(layer)}, {_interval(row, 'eq. 9' + chr(39) + 's Grad-CAM++')} and "
            f"{_interval(row, 'Grad-CAM+', '_vs_grad_cam_plus')}"
            for layer, row in ok.items() if "relative_performance" in row.index and math.isfinite(row["relative_performance"])
        )
        chosen = consistent_formula(list(ok.values()), "grad_cam_plus_plus")
        if chosen is not None and is_eq9(chosen):
            text = (f"**{library} users**: `{klass}` is eq. 9 ({CANDIDATES[chosen].label}); where its heatmaps and scores "
                    "are not distinguishable from eq. 9's (the tables above), this book's findings about Grad-CAM++ apply "
                    f"to it on this network. On every kept image the formula it computes scores {scores}.")
        else:
            what = (CANDIDATES[chosen].label if chosen is not None
                    else " / ".join(f"{_formula_text(row)} at {layer_label(layer)}" for layer, row in ok.items()))
            text = (f"**{library} users**: `{klass}` is not the Grad-CAM++ of eq. 9 but {what}, so this book's findings "
                    f"about Grad-CAM++ do not carry over to it unchecked. On every kept image the formula it computes scores {scores}.")
        if library == "pytorch-grad-cam":
            text += f" For Grad-CAM+, `gradcam_study.compat.GradCAMPlus` takes the same arguments as `{klass}`."
        else:
            text += (" For Grad-CAM+, `gradcam_study.methods.grad_cam_plus_weights(A, g)` gives its weights from the "
                     "activations and gradients the library records.")
        sentences.append(text)
    return sentences


def audit_scope(
    model: str, layers: Sequence[str], audited: int, kept: int, threshold: float,
    libraries: Mapping[str, Library] | None = None,
) -> dict[str, str]:
    """The values the chapter's description of the audit glues, by key: ``model``, ``layers`` (labels),
    ``audited`` and ``kept`` (image counts), ``threshold``, ``subset`` ("an evenly spread subset" or "all of them")
    and ``versions`` (each library with its installed version, or "(not installed)").

    >>> scope = audit_scope("m", ["_avg_pooling:input"], 3, 3, 0.5, {})
    >>> scope["layers"], scope["subset"], scope["versions"]
    ('_avg_pooling (input)', 'all of them', '')
    """
    libraries = LIBRARIES if libraries is None else libraries
    return {
        "model": model,
        "layers": ", ".join(layer_label(layer) for layer in layers),
        "audited": str(audited),
        "kept": str(kept),
        "threshold": str(threshold),
        "subset": "an evenly spread subset" if audited < kept else "all of them",
        "versions": ", ".join(f"{name} {library.version() or '(not installed)'}" for name, library in libraries.items()),
    }


def compat_sentence(
    results: LayerResults, image: int, agreement: float | None, missing: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> str:
    """Markdown: how closely ``gradcam_study.compat.GradCAMPlus``'s upsampled heatmap of ``image`` at
    ``results.layer`` correlates with the package's Grad-CAM+ (``agreement``, a Pearson correlation), with the
    image's provenance in italics under it; or, where pytorch-grad-cam is ``missing`` (its :meth:`Library.missing`
    sentence), that the example did not run.

    >>> compat_sentence(None, 6, None, "not installed (pip install grad-cam==1.5.7)")
    'pytorch-grad-cam is not installed (pip install grad-cam==1.5.7): the example did not run.'
    """
    if missing is not None or agreement is None:
        return f"pytorch-grad-cam is {missing}: the example did not run."
    provenance = audit_provenance(results, [image], threshold, subset=f"image {image}, the typical one,")
    return (f"On image {image} at {layer_label(results.layer)}, the Pearson correlation of `GradCAMPlus`'s heatmap "
            f"with the package's Grad-CAM+ heatmap, both upsampled to the image, is {finite_or_dash(agreement, 5)} (the "
            "two upsample with different bilinear kernels; at feature-map resolution they agree to 1e-5)."
            f"\n\n*{provenance.caption(score_kind=SCORE_KIND, kept=1)}*")


__all__ = [
    "audit_scope",
    "compat_sentence",
    "consistent_formula",
    "findings",
    "formula_table",
    "pair_statistics",
    "performance_table",
    "recommendations",
    "study_verdicts",
]
