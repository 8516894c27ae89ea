"""What the two chapters read from the sanity checks and the score comparison: summaries, tables for display, the
declared criteria of their verdicts and the computed sentences.

Criteria (the dependence criterion declared before looking at the numbers; the identity tolerance set from the
rounding gap observed between heatmaps that are equal in exact arithmetic):

- a method's explanations *depend on the model* when, after the full cascade, the median Spearman correlation of the
  absolute values of its maps with the trained model's is below :data:`DEPENDENCE_CRITERION`, over at least
  :data:`MIN_IMAGES` images with a defined correlation; below that count the number is shown without a verdict;
- two score kinds give *identical* heatmaps when no image's normalised heatmaps differ by more than
  :data:`IDENTICAL_TOLERANCE` anywhere (equal up to float rounding), and the shift *changes* an image's heatmap when
  they differ by more than that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..capture import ALL_SCORE_KINDS
from ..presentation.labels import METHOD_LABELS, SCORE_KIND_LABELS, layer_label, pair_label
from ..methods import METHOD_PAIRS, pair_id
from ..study.provenance import Provenance
from ..presentation.formats import decimals, interval, listing, percent
from ..presentation.tables import yardstick_table
from ..study import DEFAULT_THRESHOLD, LayerResults, StudyResults, run_profile
from ..sanity.checks import EXPERIMENTS, MEASURES, SanityResults, sanity_limit
from ..study.verdicts import DEPENDENCE_CRITERION, IDENTICAL_TOLERANCE, MIN_IMAGES_FOR_VERDICT

#: The fewest images a verdict is given on (the book's minimum).
MIN_IMAGES = MIN_IMAGES_FOR_VERDICT
#: Labels of the measures and of the steps, for display.
MEASURE_LABELS = {"spearman": "Spearman", "spearman_absolute": "Spearman, |map|", "ssim": "SSIM"}
#: The yardsticks of the score comparison (no deletion/insertion: that study draws no curves).
SCORE_YARDSTICKS = ("average_drop", "increase_in_confidence", "win_percent")


def step_label(step: str) -> str:
    """``"stage 5"`` for ``"stage_5"``; ``"head"``; ``"trained"``."""
    return step.replace("_", " ")


def randomisation_summary(results: SanityResults, experiment: str) -> pd.DataFrame:
    """Per layer, score kind, method and step (in the order computed): the median of each measure over the images
    where it is defined, and how many images are undefined (a constant map), as ``<measure>`` and
    ``<measure>_undefined``, with ``images``."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"Unknown experiment {experiment!r}; known: {', '.join(EXPERIMENTS)}.")
    rows = results.similarity[results.similarity["experiment"] == experiment]
    grouped = rows.groupby(["layer", "kind", "method", "step"], sort=False)
    summary = grouped[list(MEASURES)].median()
    for measure in MEASURES:
        summary[f"{measure}_undefined"] = grouped[measure].apply(lambda values: int(values.isna().sum()))
    summary["images"] = grouped.size()
    return summary


def full_cascade(results: SanityResults) -> pd.DataFrame:
    """:func:`randomisation_summary` of the cascade at its last step (every stage re-initialised)."""
    last = results.steps["cascading"][-1]
    return randomisation_summary(results, "cascading").xs(last, level="step")


def _cell(value: float, undefined: int) -> str:
    if not np.isfinite(value):
        return "–"
    return decimals(value, 2) + (f" ({undefined} undef.)" if undefined else "")


def full_cascade_table(results: SanityResults) -> pd.DataFrame:
    """For display: per layer and method (rows), per score kind and measure (columns), the median after the full
    cascade (a dash where no image has a defined value; the count of undefined images in parentheses)."""
    summary = full_cascade(results)
    data = {}
    for kind in results.config.score_kinds:
        for measure in MEASURES:
            data[(SCORE_KIND_LABELS[kind], MEASURE_LABELS[measure])] = [
                _cell(row[measure], row[f"{measure}_undefined"])
                for row in (summary.loc[(layer, kind, method)] for layer, method in _layer_methods(results))
            ]
    index = pd.MultiIndex.from_tuples([(layer_label(layer), METHOD_LABELS[m]) for layer, m in _layer_methods(results)],
                                      names=["layer", "method"])
    return pd.DataFrame(data, index=index)


def _layer_methods(results: SanityResults) -> list[tuple[str, str]]:
    return [(layer, method) for layer in results.config.layers() for method in METHOD_LABELS]


def depends_on_model(median_absolute: float, images: int) -> bool | None:
    """The verdict of the declared criterion, or None below :data:`MIN_IMAGES` images (no verdict)."""
    if images < MIN_IMAGES or not np.isfinite(median_absolute):
        return None
    return bool(median_absolute < DEPENDENCE_CRITERION)


def cascade_findings(results: SanityResults) -> str:
    """One sentence per layer and score kind: each method's median Spearman correlation (absolute values) after the
    full cascade, and which methods' explanations depend on the model by the declared criterion."""
    summary = full_cascade(results)
    sentences = []
    for layer in results.config.layers():
        for kind in results.config.score_kinds:
            values, verdicts = [], {}
            for method in METHOD_LABELS:
                row = summary.loc[(layer, kind, method)]
                defined = int(row["images"] - row["spearman_absolute_undefined"])
                values.append(f"{METHOD_LABELS[method]} {_cell(row['spearman_absolute'], 0)}")
                verdicts[method] = depends_on_model(row["spearman_absolute"], defined)
            depend = [METHOD_LABELS[m] for m, v in verdicts.items() if v is True]
            hold = [METHOD_LABELS[m] for m, v in verdicts.items() if v is False]
            none = [METHOD_LABELS[m] for m, v in verdicts.items() if v is None]
            reading = []
            if depend:
                reading.append(f"{'all five' if len(depend) == len(verdicts) else listing(depend)} "
                               f"depend{'s' if len(depend) == 1 else ''} on the model")
            if hold:
                reading.append(f"{listing(hold)} {'does' if len(hold) == 1 else 'do'} not pass the check")
            if none:
                reading.append(f"{listing(none)} {'has' if len(none) == 1 else 'have'} too few images with a defined "
                               f"correlation (fewer than {MIN_IMAGES}) for a verdict")
            sentences.append(
                f"At {layer_label(layer)}, {SCORE_KIND_LABELS[kind]}: {'; '.join(values)}, so "
                f"{' and '.join(reading)}."
            )
    return " ".join(sentences)


def independent_findings(results: SanityResults) -> str:
    """Per layer and score kind, the stage whose lone re-initialisation moves the maps most and least (the median
    Spearman correlation of absolute values, averaged over the five methods)."""
    summary = randomisation_summary(results, "independent")
    sentences = []
    for layer in results.config.layers():
        for kind in results.config.score_kinds:
            per_step = summary.loc[(layer, kind)]["spearman_absolute"].groupby(level="step", sort=False).mean().dropna()
            if per_step.empty:
                continue
            low, high = per_step.idxmin(), per_step.idxmax()
            sentences.append(
                f"At {layer_label(layer)}, {SCORE_KIND_LABELS[kind]}, re-initialising the {step_label(low)} alone "
                f"moves the maps most (mean over the methods of the median correlation {decimals(per_step[low], 2)}), "
                f"the {step_label(high)} least ({decimals(per_step[high], 2)})."
            )
    undefined = int(results.similarity.loc[results.similarity["experiment"] == "independent", "spearman"].isna().sum())
    if undefined:
        sentences.append(
            f"{undefined} of the independent comparisons have no rank correlation: the randomised model's map is "
            "constant there (its gradients vanish), which the figure leaves out and the SSIM still measures."
        )
    return " ".join(sentences)


def kinds_summary(results: SanityResults) -> pd.DataFrame:
    """Per layer, method and pair of score kinds: the median correlation and top-pixel overlap of the trained
    model's heatmaps of the two kinds, the largest difference over all images, and whether they are identical."""
    grouped = results.kinds.groupby(["layer", "method", "kind", "other"], sort=False)
    summary = grouped.agg(correlation=("correlation", "median"), top_overlap=("top_overlap", "median"),
                          max_difference=("max_difference", "max"), images=("image", "size"))
    summary["identical"] = summary["max_difference"] <= IDENTICAL_TOLERANCE
    return summary


def kinds_table(results: SanityResults) -> pd.DataFrame:
    """:func:`kinds_summary` for display, one row per layer and method, one column group per pair of kinds."""
    summary = kinds_summary(results)
    data = {}
    for (kind, other), part in summary.groupby(level=["kind", "other"], sort=False):
        name = f"{SCORE_KIND_LABELS[kind]} vs {SCORE_KIND_LABELS[other]}"
        part = part.droplevel(["kind", "other"])
        data[(name, "median r")] = [decimals(v, 4) if np.isfinite(v) else "–" for v in part["correlation"]]
        data[(name, "largest difference")] = [f"{v:.1e}" for v in part["max_difference"]]
        index = part.index
    return pd.DataFrame(data, index=pd.MultiIndex.from_tuples(
        [(layer_label(layer), METHOD_LABELS[m]) for layer, m in index], names=["layer", "method"]))


def kinds_findings(results: SanityResults) -> str:
    """Which methods' post-softmax and log-softmax heatmaps are identical (the declared tolerance), at each layer."""
    summary = kinds_summary(results)
    sentences = []
    for layer in results.config.layers():
        part = summary.loc[layer].xs(("post_softmax", "log_softmax"), level=["kind", "other"])
        same = [METHOD_LABELS[m] for m in part.index if part.loc[m, "identical"]]
        other = [METHOD_LABELS[m] for m in part.index if not part.loc[m, "identical"]]
        text = f"At {layer_label(layer)}, the post-softmax and log-softmax heatmaps are identical for "
        text += listing(same) if same else "no method"
        if other:
            worst = part.loc[[m for m in part.index if not part.loc[m, "identical"]]]
            text += (f"; they differ for {listing(other)} (median correlation "
                     f"{listing(decimals(v, 4) for v in worst['correlation'])}, largest difference "
                     f"{listing(f'{v:.2g}' for v in worst['max_difference'])})")
        sentences.append(text + ".")
    return " ".join(sentences)


def vulnerability_summary(results: SanityResults) -> pd.DataFrame:
    """Per layer, score kind and method: the median correlation and top-pixel overlap of the heatmaps before and
    after the logit shift, the share of images whose heatmap changed (beyond :data:`IDENTICAL_TOLERANCE`), the largest
    difference, and the largest change of any probability."""
    grouped = results.vulnerability.groupby(["layer", "kind", "method"], sort=False)
    summary = grouped.agg(correlation=("correlation", "median"), top_overlap=("top_overlap", "median"),
                          max_difference=("max_difference", "max"),
                          probability_difference=("probability_difference", "max"), images=("image", "size"))
    summary["changed"] = grouped["max_difference"].apply(lambda values: float((values > IDENTICAL_TOLERANCE).mean()))
    return summary


def vulnerability_table(results: SanityResults) -> pd.DataFrame:
    """:func:`vulnerability_summary` for display: rows layer and method, columns per score kind."""
    summary = vulnerability_summary(results)
    data = {}
    for kind in ALL_SCORE_KINDS:
        part = summary.xs(kind, level="kind")
        data[(SCORE_KIND_LABELS[kind], "median r")] = [decimals(v, 3) if np.isfinite(v) else "–"
                                                      for v in part["correlation"]]
        data[(SCORE_KIND_LABELS[kind], f"top-{percent(results.config.top_fraction, 0)} overlap")] = [decimals(v, 2) for v in part["top_overlap"]]
        data[(SCORE_KIND_LABELS[kind], "images changed")] = [percent(v, 0) for v in part["changed"]]
    index = summary.xs(ALL_SCORE_KINDS[0], level="kind").index
    return pd.DataFrame(data, index=pd.MultiIndex.from_tuples(
        [(layer_label(layer), METHOD_LABELS[m]) for layer, m in index], names=["layer", "method"]))


def vulnerability_findings(results: SanityResults) -> str:
    """The shift in sentences: probabilities unchanged (the largest difference), how far each method's pre-softmax
    heatmaps move at each layer, and whether the post- and log-softmax ones stay identical."""
    summary = vulnerability_summary(results)
    largest = float(results.vulnerability["probability_difference"].max())
    sentences = [f"No probability of any class moves by more than {largest:.1e} under the shift."]
    for layer in results.config.layers():
        pre = summary.loc[(layer, "pre_softmax")]
        moved = listing(f"{METHOD_LABELS[m]} {decimals(pre.loc[m, 'correlation'], 3)} "
                        f"({decimals(pre.loc[m, 'top_overlap'], 2)})" for m in pre.index)
        others = summary.loc[layer].drop(index="pre_softmax", level="kind")
        steady = bool((others["max_difference"] <= IDENTICAL_TOLERANCE).all())
        sentences.append(
            f"At {layer_label(layer)}, the median correlation of each method's pre-softmax heatmaps before and after "
            f"the shift (and their median top-{percent(results.config.top_fraction, 0)} overlap) is: {moved}; the post-softmax and log-softmax heatmaps "
            + ("are identical on every image (largest difference "
               f"{float(others['max_difference'].max()):.1e})." if steady else
               f"change on some images (largest difference {float(others['max_difference'].max()):.2g}).")
        )
    return " ".join(sentences)


def score_choice_study(profile_name: str | None = None, progress: bool = False) -> StudyResults:
    """The profile's model at its last map, explained with the pre-softmax, post-softmax and log-softmax scores from
    one capture per batch, on the :func:`~gradcam_study.sanity.checks.sanity_limit` images of the sanity checks
    (an evenly spread subset), without deletion/insertion curves."""
    from ..models import model_spec
    from ..study import profile
    from .. import settings

    model = profile(settings.profile_name(profile_name)).config.model
    return run_profile(profile_name, progress=progress, score_kinds=ALL_SCORE_KINDS, limit=sanity_limit(),
                       curve_limit=0, layers=(model_spec(model).layer,))


def score_relative_performance(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """For display: the relative performance of each pair of the paper (rows) with its bootstrap 95% interval, per
    score kind (columns), over the kept images."""
    statistics = results.statistics(threshold)
    return pd.DataFrame({
        SCORE_KIND_LABELS[kind]: [
            interval(*statistics.loc[(pair_id(a, b), kind),
                                     ["relative_performance", "ci_low", "ci_high"]])
            for a, b in METHOD_PAIRS
        ]
        for kind in results.score_kinds
    }, index=pd.Index([pair_label(a, b) for a, b in METHOD_PAIRS], name="methods"))


def score_yardsticks(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """For display: per score kind and method (rows), Average Drop, Increase in Confidence and Win % over Grad-CAM
    with their bootstrap 95% intervals."""
    parts = []
    for kind in results.score_kinds:
        frame = results.yardsticks(kind, threshold)
        frame = frame.loc[:, frame.columns.get_level_values(0).isin(SCORE_YARDSTICKS)]
        table = yardstick_table(frame)
        table.index = pd.MultiIndex.from_product([[SCORE_KIND_LABELS[kind]], table.index], names=["score", "method"])
        parts.append(table)
    return pd.concat(parts)


def score_findings(results: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> str:
    """Per score kind, the method (or the methods tied at the printed 0.1 point) with the smallest Average Drop, and
    whether the ranking of the methods by Average Drop (to 0.1 point, ties sharing a rank) is the same for the three kinds."""
    rankings, best = {}, []
    for kind in results.score_kinds:
        drops = results.yardsticks(kind, threshold)[("average_drop", "value")]
        # HiResCAM equals Grad-CAM (LayerCAM Grad-CAM+) where the gradient is constant within maps, up to rounding.
        rankings[kind] = drops.round(1).rank(method="min").to_dict()
        tied = [METHOD_LABELS[m] for m in drops.index if round(drops[m], 1) == round(drops.min(), 1)]
        best.append(f"{SCORE_KIND_LABELS[kind]}: {listing(tied)} ({decimals(drops.min(), 1)}%)")
    same = all(order == rankings[results.score_kinds[0]] for order in rankings.values())
    return (f"The smallest Average Drop, per score kind: {'; '.join(best)}. The order of the five methods by "
            f"Average Drop is {'the same' if same else 'not the same'} for the three kinds of score.")


def sanity_conclusion(results: SanityResults) -> str:
    """The conclusions' paragraph on model randomisation."""
    summary = full_cascade(results)
    layer, kind = results.config.layers()[0], results.config.score_kinds[0]
    part = summary.loc[(layer, kind)]
    verdicts = {m: depends_on_model(part.loc[m, "spearman_absolute"],
                                    int(part.loc[m, "images"] - part.loc[m, "spearman_absolute_undefined"]))
                for m in part.index}
    depend = [METHOD_LABELS[m] for m, v in verdicts.items() if v is True]
    hold = [METHOD_LABELS[m] for m, v in verdicts.items() if v is False]
    values = listing(f"{METHOD_LABELS[m]} {_cell(part.loc[m, 'spearman_absolute'], 0)}" for m in part.index)
    if all(v is None for v in verdicts.values()):
        reading = (f"with fewer than {MIN_IMAGES} images with a defined correlation, no verdict is given "
                   "({doc}`sanity_checks`).")
    else:
        reading = (f"by the declared criterion (below {DEPENDENCE_CRITERION}), "
                   f"{'all five methods' if len(depend) == len(verdicts) else (listing(depend) or 'no method')} "
                   f"pass{'es' if len(depend) <= 1 else ''} the model randomisation test"
                   + (f" and {listing(hold)} {'does' if len(hold) == 1 else 'do'} not" if hold and depend else "")
                   + " ({doc}`sanity_checks`).")
    return (
        f"**Do the explanations depend on the model?** Re-initialising {results.config.model} from the head down to "
        f"the stem ({len(results.images)} images), the median Spearman correlation of the absolute maps with the "
        f"trained model's, at {layer_label(layer)} with {SCORE_KIND_LABELS[kind]} scores, ends at {values}: {reading}"
    )


def score_conclusion(results: SanityResults, scores: LayerResults, threshold: float = DEFAULT_THRESHOLD) -> str:
    """The conclusions' paragraph on the choice of score."""
    vulnerable = vulnerability_summary(results)
    layer = results.config.layers()[0]
    pre = vulnerable.loc[(layer, "pre_softmax")]
    others = vulnerable.loc[layer].drop(index="pre_softmax", level="kind")
    steady = bool((others["max_difference"] <= IDENTICAL_TOLERANCE).all())
    return (
        "**Which score should be explained?** A shift common to all logits, invisible in the probabilities (at most "
        f"{float(results.vulnerability['probability_difference'].max()):.1e}), moves the pre-softmax heatmaps at "
        f"{layer_label(layer)} to a median correlation of {decimals(float(pre['correlation'].min()), 3)} to "
        f"{decimals(float(pre['correlation'].max()), 3)} with the originals, depending on the method, while the "
        f"post-softmax and log-softmax heatmaps {'stay identical' if steady else 'move too'}. "
        + score_findings(scores, threshold) + " ({doc}`score_choice`)"
    )


__all__ = [
    "DEPENDENCE_CRITERION",
    "IDENTICAL_TOLERANCE",
    "MEASURE_LABELS",
    "MIN_IMAGES",
    "cascade_findings",
    "depends_on_model",
    "full_cascade",
    "full_cascade_table",
    "prepare_book",
    "provenance",
    "independent_findings",
    "kinds_findings",
    "kinds_summary",
    "kinds_table",
    "randomisation_summary",
    "sanity_conclusion",
    "score_choice_study",
    "score_conclusion",
    "score_findings",
    "score_relative_performance",
    "example_image",
    "example_note",
    "score_values",
    "score_yardsticks",
    "sanity_values",
    "step_label",
    "vulnerability_findings",
    "vulnerability_summary",
    "vulnerability_table",
]


def example_image(results: SanityResults, threshold: float = DEFAULT_THRESHOLD) -> int:
    """By rule, the image whose heatmaps the chapter draws along the cascade: the first of the example images whose
    true class has a probability above ``threshold``, else the first example."""
    probability = results.images.set_index("image")["probability"]
    return next((image for image in results.example_images if probability.loc[image] > threshold),
                results.example_images[0])


def example_note(name: str, threshold: float = DEFAULT_THRESHOLD) -> str:
    """The caption's note on the example image ``name`` (:func:`example_image`).

    >>> example_note("n01_x.JPEG", 0.5)
    'image n01_x.JPEG, the first of the subset whose true class has a probability above 0.5'
    """
    return f"image {name}, the first of the subset whose true class has a probability above {threshold}"


def sanity_values(results: SanityResults) -> dict[str, str]:
    """The facts of the sanity checks that the chapter's prose quotes, formatted for its glue keys: the image count
    and the data set's, the size the maps are compared at, the seed, the seconds per image and step, the device,
    and the declared criterion with its minimum number of images.

    >>> sanity_values(sanity_checks())["dependence-criterion"] == str(DEPENDENCE_CRITERION)   # doctest: +SKIP
    True
    """
    return {
        "sanity-images": str(len(results.images)),
        "sanity-total": str(results.total_images),
        "sanity-size": str(results.config.similarity_size),
        "sanity-seed": str(results.config.seed),
        "sanity-step-seconds": f"{results.step_seconds_per_image:.2f}",
        "sanity-device": results.device,
        "dependence-criterion": str(DEPENDENCE_CRITERION),
        "sanity-min-images": str(MIN_IMAGES),
    }


def score_values(results: SanityResults, scores: StudyResults, threshold: float = DEFAULT_THRESHOLD) -> dict[str, str]:
    """The facts of the score comparison (``scores``, :func:`score_choice_study`) and of the logit shift
    (``results``) that the chapter's prose quotes, formatted for its glue keys.

    >>> score_values(sanity_checks(), score_choice_study())["score-layer"]   # doctest: +SKIP
    '_avg_pooling:input'
    """
    last = scores.at()
    return {
        "score-images": str(len(scores.images)),
        "score-total": str(scores.provenance.total),
        "score-kept": str(len(last.kept(threshold))),
        "score-threshold": str(threshold),
        "score-layer": last.provenance.layer,
        "identical-tolerance": f"{IDENTICAL_TOLERANCE:g}",
        "shift-scale": f"{results.config.shift_scale:g}",
        "shift-channel": str(results.config.shift_channel),
        "shift-layer": results.config.shift_layer,
        "shift-top-share": percent(results.config.top_fraction, 0),
        "sanity-images-scores": str(len(results.images)),
    }


def prepare_book(profile_name: str | None = None, *, progress: bool = True, report=print) -> dict[str, str]:
    """Compute (or read back) what the two chapters read: the sanity checks and the score comparison; their keys."""
    from ..sanity.checks import sanity_checks

    report(f"sanity checks: model randomisation and the logit shift on {sanity_limit()} images")
    checks = sanity_checks(profile_name, progress=progress)
    report(f"score comparison: pre-softmax, post-softmax and log-softmax scores on {sanity_limit()} images")
    scores = score_choice_study(profile_name, progress=progress)
    return {"sanity": checks.key, "score_choice": scores.key}


def provenance(results: SanityResults, profile_name: str | None = None) -> Provenance:
    """The provenance of the sanity checks, for the captions of their figures and tables."""
    from .. import settings

    return Provenance(
        profile=settings.profile_name(profile_name), model=results.config.model,
        layer=", ".join(layer_label(layer) for layer in results.config.layers()), dataset=results.data_root.name,
        images=len(results.images), device=results.device, total=results.total_images,
    )
