"""A finished study's per-image rows, and the paper's tables computed from them.

A study explains one or more layers from one pass per batch; :class:`StudyResults` holds all of
it and :meth:`StudyResults.at` gives the view of one layer, :class:`LayerResults`, which computes
Tables 1 and 2, the statistics beyond the paper and the alpha summaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..capture import ScoreKind
from ..capture import layer_label
from ..methods import METHOD_PAIRS, pair_id
from .provenance import Provenance
from ..metrics import (
    bootstrap_mean,
    bootstrap_relative_performance,
    confidence_drops,
    confidence_increases,
    equivalence_test,
    log_relative_performance,
    median_log_ratio,
    relative_performance,
    perturbation_counts,
    summarise_log_relative_performance,
    wins,
)
from ..models import Classifier, model_spec
from .analysis import (
    SQUEEZED_ALPHA_BINS,
    alpha_column,
    auc_column,
    constant_map_column,
    correlation_column,
    log_prob_column,
    top_overlap_column,
)
from .config import DEFAULT_THRESHOLD, StudyConfig
from .store import AlphaArrays, CurveArrays, ResultStore
from .verdicts import (
    EQUIVALENCE_MARGIN,
    EQUIVALENCE_MARGINS,
    NEARLY_EQUAL_CORRELATION,
    SHOWN_MARGINS,
    SIGNIFICANCE_LEVEL,
    heatmap_verdict,
    holm,
    identical_maps,
    relative_performance_verdict,
    signed_rank_test,
)

Pairs = tuple[tuple[str, str], ...]

#: The yardsticks of :meth:`LayerResults.yardsticks`, per method; "win_percent" is over :data:`WIN_BASELINE`.
YARDSTICKS = ("average_drop", "increase_in_confidence", "win_percent", "deletion_auc", "insertion_auc")
#: The method every other one's Win % is taken over in :meth:`LayerResults.yardsticks` (the Grad-CAM++ paper's).
WIN_BASELINE = "grad_cam"
#: Whether a higher value of each yardstick is better.
HIGHER_IS_BETTER = {"average_drop": False, "increase_in_confidence": True, "win_percent": True,
                    "deletion_auc": False, "insertion_auc": True}


def verdict_column(margin: float) -> str:
    """Column of :meth:`LayerResults.statistics` holding the verdict with equivalence margin ``margin``."""
    return f"verdict_within_{round(100 * margin, 1):g}pct"


def tost_column(margin: float) -> str:
    """Column of :meth:`LayerResults.statistics` holding the Holm-adjusted TOST p-value at ``margin``."""
    return f"tost_p_holm_within_{round(100 * margin, 1):g}pct"


def raw_tost_column(margin: float) -> str:
    """Column of :meth:`LayerResults.statistics` holding the unadjusted TOST p-value at ``margin``."""
    return f"tost_p_within_{round(100 * margin, 1):g}pct"


def with_verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (rows of :meth:`LayerResults.statistics`, of one table) with its Wilcoxon and TOST p-values
    Holm-adjusted over all its rows (``p_value_holm``, :func:`tost_column`) and the verdict at each shown margin
    (:func:`verdict_column`) from the adjusted values."""
    frame = frame.copy()
    frame["p_value_holm"] = holm(frame["p_value"].to_numpy())
    for m in SHOWN_MARGINS:
        frame[tost_column(m)] = holm(frame[raw_tost_column(m)].to_numpy())
        frame[verdict_column(m)] = [
            relative_performance_verdict(
                row["images"], row["ci_low"], row["ci_high"], row[tost_column(m)], row["p_value_holm"],
                row["median_log_ratio"], identical=row["identical"],
            ).value
            for _, row in frame.iterrows()
        ]
    return frame


def statistics_over_layers(
    layers: Mapping[str, LayerResults], threshold: float = DEFAULT_THRESHOLD, pairs: Pairs = METHOD_PAIRS,
) -> pd.DataFrame:
    """One table of :meth:`LayerResults.statistics` over several layers (``layers`` maps a name, the outer index
    level ``layer``, to results): its p-values Holm-adjusted over the whole table, not per layer, and its verdicts
    from them."""
    frame = pd.concat({name: results.statistics(threshold, pairs=pairs) for name, results in layers.items()},
                      names=["layer"])
    return with_verdicts(frame)


class NoImageKeptError(ValueError):
    """A threshold (or a subset) kept no image: the statistics would be undefined."""


@dataclass(frozen=True)
class LayerResults:
    """Per-image rows of one study at one layer, with the statistics of section 4.

    ``images`` holds, per analysed image, the whole-image columns (``label``, ``predicted``,
    ``probability`` ...) and the layer's columns (``logp_<kind>_<method>``, ``<kind>_alpha_min`` ...).
    """

    key: str
    config: StudyConfig
    layer: str
    provenance: Provenance
    images: pd.DataFrame
    skipped: pd.DataFrame
    store_path: Path
    #: The image folder; ``images["path"]`` is relative to it.
    data_root: Path

    def load_classifier(self) -> Classifier:
        """The classifier this study explained (same weights and device), for single-image figures."""
        return self.config.classifier(self.provenance.device)

    def image_path(self, image: int) -> Path:
        """Where image ``image`` (an index of :attr:`images`) is on disk."""
        return self.data_root / self.images.loc[image, "path"]

    @property
    def score_kinds(self) -> tuple[ScoreKind, ...]:
        return self.config.score_kinds

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods explained at this layer (every one at a main layer, the paper's three at a swept one)."""
        return self.config.methods_at(self.layer)

    def kept(self, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
        """Rows whose post-softmax probability of the true class exceeds ``threshold`` (the paper's filter)."""
        return self.images[self.images["probability"] > threshold] if len(self.images) else self.images

    def require_kept(self, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
        """:meth:`kept`, or a :class:`NoImageKeptError` saying what to change when it is empty."""
        kept = self.kept(threshold)
        if len(kept) == 0:
            best = float(self.images["probability"].max()) if len(self.images) else float("nan")
            raise NoImageKeptError(
                f"No image passed the threshold {threshold} (of {len(self.images)} analysed; the highest probability "
                f"of a true class is {best:.6f}). Lower the threshold (--threshold), use more images, or use "
                "trained weights."
            )
        return kept

    def log_relative_performance(
        self, kind: ScoreKind, first: str, second: str, threshold: float = DEFAULT_THRESHOLD
    ) -> np.ndarray:
        kept = self.kept(threshold)
        return log_relative_performance(kept[log_prob_column(kind, first)], kept[log_prob_column(kind, second)])

    @staticmethod
    def _pairs_index(pairs: Pairs) -> pd.Index:
        return pd.Index([pair_id(a, b) for a, b in pairs], name="methods")

    def table1(self, threshold: float = DEFAULT_THRESHOLD, pairs: Pairs = METHOD_PAIRS) -> pd.DataFrame:
        """Table 1: relative performance (eq. (16)) of each pair, per score kind, over the kept images (the paper's
        pairs by default; :data:`~gradcam_study.methods.PIXEL_WISE_PAIRS` for the pixel-wise weightings)."""
        kept = self.require_kept(threshold)
        return pd.DataFrame(
            {
                kind: [
                    relative_performance(kept[log_prob_column(kind, a)], kept[log_prob_column(kind, b)])
                    for a, b in pairs
                ]
                for kind in self.score_kinds
            },
            index=self._pairs_index(pairs),
        )

    def table2(self, threshold: float = DEFAULT_THRESHOLD, pairs: Pairs = METHOD_PAIRS) -> pd.DataFrame:
        """Table 2: mean and standard deviation of the per-image log relative performance of each pair."""
        self.require_kept(threshold)
        data = {}
        for kind in self.score_kinds:
            summaries = [
                summarise_log_relative_performance(self.log_relative_performance(kind, a, b, threshold))
                for a, b in pairs
            ]
            data[(kind, "mean")] = [s.mean for s in summaries]
            data[(kind, "std")] = [s.std for s in summaries]
        return pd.DataFrame(data, index=self._pairs_index(pairs))

    def statistics(
        self, threshold: float = DEFAULT_THRESHOLD, resamples: int = 2000, seed: int = 0,
        margin: float = EQUIVALENCE_MARGIN, pairs: Pairs = METHOD_PAIRS,
    ) -> pd.DataFrame:
        """Beyond the paper, per pair (identifiers ``first``, ``second``) and score kind: the relative performance,
        its percentile bootstrap interval, the Wilcoxon signed-rank test
        (:func:`~gradcam_study.study.verdicts.signed_rank_test`) with the median log ratio that gives its
        direction, the equivalence test (TOST) within ``margin``, whether the two heatmaps are identical up to
        rounding, and the verdict (:func:`~gradcam_study.study.verdicts.relative_performance_verdict`) at each of
        :data:`~gradcam_study.study.verdicts.SHOWN_MARGINS` (columns :func:`verdict_column`). The Wilcoxon and TOST
        p-values are Holm-adjusted over the rows of this table (``p_value_holm``, :func:`tost_column`), and the
        verdicts use the adjusted values. Columns are identifiers (:func:`gradcam_study.presentation.labels.label` prints
        them)."""
        self.require_kept(threshold)
        records = []
        for kind in self.score_kinds:
            for a, b in pairs:
                log_rp = self.log_relative_performance(kind, a, b, threshold)
                interval = bootstrap_relative_performance(
                    log_rp, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples, seed=seed
                )
                statistic, p_value = signed_rank_test(log_rp)
                records.append(
                    {
                        "methods": pair_id(a, b),
                        "score": kind,
                        "first": a,
                        "second": b,
                        "kind": kind,
                        "relative_performance": float(np.exp(log_rp.mean())),  # eq. (17)
                        "ci_low": interval.low,
                        "ci_high": interval.high,
                        "wilcoxon_statistic": statistic,
                        "p_value": p_value,
                        "median_log_ratio": median_log_ratio(log_rp),
                        "tost_p_value": equivalence_test(log_rp, margin, SIGNIFICANCE_LEVEL).p_value,
                        "equivalent": equivalence_test(log_rp, margin, SIGNIFICANCE_LEVEL).equivalent,
                        "images": int(log_rp.size),
                        "identical": self.identical(kind, a, b, threshold),
                        **{raw_tost_column(m): equivalence_test(log_rp, m, SIGNIFICANCE_LEVEL).p_value
                           for m in SHOWN_MARGINS},
                    }
                )
        return with_verdicts(pd.DataFrame.from_records(records).set_index(["methods", "score"]))

    def identical(self, kind: ScoreKind, first: str, second: str, threshold: float = DEFAULT_THRESHOLD) -> bool:
        """Whether ``first`` and ``second`` drew the same heatmap on every kept image, up to float rounding
        (:func:`~gradcam_study.study.verdicts.identical_maps` of the stored correlations); False where the study
        kept no correlation for the pair."""
        kept = self.kept(threshold)
        for a, b in ((first, second), (second, first)):
            column = correlation_column(kind, a, b)
            if column in kept:
                return identical_maps(kept[column], kept[constant_map_column(kind, a)],
                                      kept[constant_map_column(kind, b)])
        return False

    def equivalence_sweep(self, threshold: float = DEFAULT_THRESHOLD, margins=EQUIVALENCE_MARGINS) -> pd.DataFrame:
        """TOST p-value of each pair and score kind (rows) at each equivalence margin (columns): how the verdict
        "perform alike" moves with the declared margin."""
        self.require_kept(threshold)
        return pd.DataFrame(
            {
                margin: [
                    equivalence_test(self.log_relative_performance(kind, a, b, threshold), margin).p_value
                    for kind in self.score_kinds
                    for a, b in METHOD_PAIRS
                ]
                for margin in margins
            },
            index=pd.MultiIndex.from_tuples(
                [(pair_id(a, b), kind) for kind in self.score_kinds for a, b in METHOD_PAIRS],
                names=["methods", "score"],
            ),
        ).rename_axis(columns="margin")

    def heatmap_similarity(
        self, threshold: float = DEFAULT_THRESHOLD, criterion: float = NEARLY_EQUAL_CORRELATION,
        pairs: Pairs = METHOD_PAIRS,
    ) -> pd.DataFrame:
        """Per pair and score kind, over the kept images (the images of the tables): the median and 5th percentile
        of the per-image heatmap correlations, the share at or above ``criterion``, how many are undefined (a
        constant map), whether the pair is "nearly equal" by correlation (median at or above ``criterion``), the
        median and 5th percentile of the top-pixel overlap (0 on an image where one map is constant and the other
        not; NaN where the study did not store it), and the verdict
        (:func:`~gradcam_study.study.verdicts.heatmap_verdict`: identical, nearly equal or different)."""
        kept = self.require_kept(threshold)
        records = []
        for kind in self.score_kinds:
            for a, b in pairs:
                r = kept[correlation_column(kind, a, b)]
                overlap_name = top_overlap_column(kind, a, b)
                overlap = kept[overlap_name] if overlap_name in kept else pd.Series(np.nan, index=kept.index)
                # One map constant (all zero) and the other not: they share no top pixel. Both constant: undefined.
                first_constant = kept[constant_map_column(kind, a)].astype(bool)
                second_constant = kept[constant_map_column(kind, b)].astype(bool)
                if overlap_name in kept:
                    overlap = overlap.mask(first_constant != second_constant, 0.0)
                identical = self.identical(kind, a, b, threshold)
                median_overlap = float(overlap.median())
                records.append({
                    "methods": pair_id(a, b),
                    "score": kind,
                    "median_correlation": float(r.median()),
                    "q05": float(r.quantile(0.05)),
                    "share_correlation_above": float((r >= criterion).mean()),
                    "undefined": int(r.isna().sum()),
                    "nearly_equal": bool(r.median() >= criterion),
                    "median_overlap": median_overlap,
                    "overlap_q05": float(overlap.quantile(0.05)),
                    "identical": identical,
                    # Images with a defined overlap decide (none where the study did not store it).
                    "verdict": heatmap_verdict(int(r.size) if identical else int(overlap.notna().sum()),
                                               median_overlap, identical).value,
                    "images": int(r.size),
                })
        return pd.DataFrame.from_records(records).set_index(["methods", "score"])

    def _has_curves(self, frame: pd.DataFrame) -> pd.Series:
        """Which rows of ``frame`` have deletion and insertion curves (all False where the study computed none)."""
        column = auc_column("deletion", self.score_kinds[0], self.methods[0])
        return frame[column].notna() if column in frame else pd.Series(False, index=frame.index)

    def curve_images(self, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
        """The kept images that have deletion and insertion curves (the study's curve subset)."""
        kept = self.require_kept(threshold)
        return kept[self._has_curves(kept)]

    def curve_note(self, threshold: float = DEFAULT_THRESHOLD) -> str:
        """Which images the deletion and insertion columns are over, for a caption."""
        with_curves = int(self._has_curves(self.images).sum())
        if with_curves == 0:
            return "deletion and insertion: no image has curves in this study"
        subset = ("all analysed images" if with_curves == len(self.images)
                  else f"an evenly spread subset of {with_curves} of the {len(self.images)} analysed images")
        kept = len(self.curve_images(threshold))
        return (f"deletion and insertion: the {kept} kept image{'' if kept == 1 else 's'} of {subset}, "
                f"{self.config.curve_steps} steps")

    def yardsticks(
        self, kind: ScoreKind = "pre_softmax", threshold: float = DEFAULT_THRESHOLD, resamples: int = 2000,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Per method (rows) and yardstick (:data:`YARDSTICKS`): the value over the kept images and its percentile
        bootstrap interval (columns ``(yardstick, "value" | "low" | "high")``), and the images it is over
        (``(yardstick, "images")``). Average Drop and Increase in Confidence (in %) use every kept image, from
        the stored log-probabilities; Win % is over :data:`WIN_BASELINE` (NaN for the baseline itself);
        deletion and insertion AUC use the kept images of the curve subset (NaN where it is empty)."""
        records = {}
        for method in self.methods:
            row = {}
            for yardstick in YARDSTICKS:
                values = (np.empty(0) if yardstick == "win_percent" and method == WIN_BASELINE
                          else self.per_image(kind, method, yardstick, threshold))
                interval = bootstrap_mean(values, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples, seed=seed)
                row[(yardstick, "value")] = float(np.mean(values)) if len(values) else float("nan")
                row[(yardstick, "low")], row[(yardstick, "high")] = interval.low, interval.high
                row[(yardstick, "images")] = len(values)
            records[method] = row
        frame = pd.DataFrame.from_dict(records, orient="index")
        frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["yardstick", "statistic"])
        return frame.rename_axis("method")

    def per_image(
        self, kind: ScoreKind, method: str, yardstick: str, threshold: float = DEFAULT_THRESHOLD,
        over: str = WIN_BASELINE,
    ) -> np.ndarray:
        """Per-image values of ``yardstick`` (one of :data:`YARDSTICKS`) for ``method``, whose mean is the yardstick:
        drops and increases in % over the kept images, from the stored log-probabilities; wins (100 or 0) over the
        method ``over``, same images; deletion and insertion areas over the kept images with curves (none where
        the study computed no curves)."""
        if yardstick in ("deletion_auc", "insertion_auc"):
            images = self.curve_images(threshold)
            column = auc_column(yardstick.removesuffix("_auc"), kind, method)
            return images[column].to_numpy(dtype=float) if len(images) else np.empty(0)
        kept = self.require_kept(threshold)
        log_y, log_o = kept["log_probability"], kept[log_prob_column(kind, method)]
        if yardstick == "average_drop":
            return 100 * confidence_drops(log_y, log_o)
        if yardstick == "increase_in_confidence":
            return 100 * confidence_increases(log_y, log_o)
        if yardstick == "win_percent":
            return 100 * wins(log_y, log_o, kept[log_prob_column(kind, over)])
        raise ValueError(f"Unknown yardstick {yardstick!r}; known: {', '.join(YARDSTICKS)}.")

    def win_table(
        self, kind: ScoreKind = "pre_softmax", threshold: float = DEFAULT_THRESHOLD, pairs: Pairs = METHOD_PAIRS,
        resamples: int = 2000, seed: int = 0,
    ) -> pd.DataFrame:
        """Per pair (identifiers ``first``, ``second``): Win % of the first over the second, of the second over the
        first (ties, images with equal drops, count for neither), with percentile bootstrap intervals of the first,
        over the kept images."""
        records = []
        for a, b in pairs:
            first = self.per_image(kind, a, "win_percent", threshold, over=b)
            second = self.per_image(kind, b, "win_percent", threshold, over=a)
            interval = bootstrap_mean(first, level=1 - SIGNIFICANCE_LEVEL, resamples=resamples, seed=seed)
            records.append({
                "methods": pair_id(a, b), "first": a, "second": b,
                "win_first": float(first.mean()), "low": interval.low, "high": interval.high,
                "win_second": float(second.mean()), "ties": float(100 - first.mean() - second.mean()),
                "images": len(first),
            })
        return pd.DataFrame.from_records(records).set_index("methods")

    def curve_fractions(self) -> np.ndarray:
        """The fractions of pixels deleted / inserted at the points of every curve of this study."""
        pixels = model_spec(self.config.model).crop ** 2
        return np.asarray(perturbation_counts(pixels, self.config.curve_steps), dtype=np.float64) / pixels

    def curves(self, kind: ScoreKind, method: str, threshold: float = DEFAULT_THRESHOLD) -> CurveArrays:
        """``method``'s deletion and insertion curves for ``kind`` over the kept images of the curve subset."""
        with ResultStore(self.store_path) as store:
            found = store.curves(self.layer, kind, method)
        keep = np.isin(found.images, self.curve_images(threshold).index.to_numpy())
        return CurveArrays(found.images[keep], found.deletion[keep], found.insertion[keep])

    def mean_curves(self, kind: ScoreKind = "pre_softmax", threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
        """Mean deletion and insertion curves of every method over the kept images of the curve subset: rows are
        the fractions of pixels, columns ``(curve, method)`` with curve ``"deletion"`` or ``"insertion"``."""
        data = {}
        for method in self.methods:
            found = self.curves(kind, method, threshold)
            for curve in ("deletion", "insertion"):
                values = getattr(found, curve)
                data[(curve, method)] = values.mean(axis=0) if len(values) else np.full(len(self.curve_fractions()), np.nan)
        frame = pd.DataFrame(data, index=pd.Index(self.curve_fractions(), name="fraction"))
        frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["curve", "method"])
        return frame

    def constant_maps(self, kind: ScoreKind, method: str) -> int:
        """How many images' heatmaps of ``method`` are constant (all zero once normalised: no localisation)."""
        return int(self.images[constant_map_column(kind, method)].sum())

    def alpha_extremes(self, kind: ScoreKind = "pre_softmax") -> pd.Series:
        """The data set's non-zero alphas (eq. (9)) in a few numbers, from the per-image rows, keyed by identifiers
        (:func:`gradcam_study.presentation.labels.label` prints them): how many, the extremes, how many stray beyond
        ``|alpha - 1/2| > 1/2`` (outside [0, 1]) and in how many images, the share within ``NEAR_HALF`` of 1/2,
        the extremes of eq. (13)'s denominator term ``t`` and how close ``2 + t`` comes to 0."""
        frame = self.images
        column = lambda statistic: frame[alpha_column(kind, statistic)]  # noqa: E731
        count = int(column("alpha_count").sum())
        far = column("alpha_far_from_half")
        smallest_term = column("denominator_term_min").min()
        return pd.Series(
            {
                "nonzero_alphas": count,
                "alpha_min": column("alpha_min").min(),
                "alpha_max": column("alpha_max").max(),
                "far_from_half": int(far.sum()),
                "share_far_from_half": far.sum() / count,
                "images_far_from_half": int((far > 0).sum()),
                "share_near_half": column("alpha_near_half").sum() / count,
                "term_min": smallest_term,
                "term_max": column("denominator_term_max").max(),
                "images_term_below_pole": int((column("denominator_term_min") < -2).sum()),
                "closest_to_pole": column("denominator_closest_to_pole").min(),
                "constant_grad_cam_plus_plus_maps": self.constant_maps(kind, "grad_cam_plus_plus"),
            },
            name=kind,
        )

    def farthest_alpha_from_half(self, kind: ScoreKind = "pre_softmax") -> pd.Series:
        """Per image, the largest ``|alpha - 1/2|`` of its non-zero alphas."""
        frame = self.images
        return np.maximum(
            (frame[alpha_column(kind, "alpha_max")] - 0.5).abs(), (frame[alpha_column(kind, "alpha_min")] - 0.5).abs()
        )

    def gradient_constant_share(self, kind: ScoreKind = "pre_softmax") -> float:
        """Share of images whose gradient is constant within every feature map at this layer."""
        return float(self.images[alpha_column(kind, "gradient_constant")].mean())

    def typical_image(self, threshold: float = DEFAULT_THRESHOLD, kind: ScoreKind = "pre_softmax") -> int:
        """A typical image, chosen by rule rather than by hand: among the kept images (all analysed images, if none
        is kept; ``len(self.kept(threshold))`` tells which), the one whose spread of alphas between its 1st and 99th
        percentiles is closest to the median spread."""
        kept = self.kept(threshold)
        pool = kept if len(kept) else self.images
        spread = pool[alpha_column(kind, "alpha_q99")] - pool[alpha_column(kind, "alpha_q01")]
        return int((spread - spread.median()).abs().idxmin())

    def alpha_arrays(self, kind: ScoreKind = "pre_softmax") -> AlphaArrays:
        """Pooled per-image samples of non-zero alphas and of their denominator terms (every image contributes the
        same number), and the histogram of ``tanh(alpha - 1/2)`` over all non-zero alphas (bin edges:
        :func:`squeezed_bin_edges`)."""
        with ResultStore(self.store_path) as store:
            return store.alpha_arrays(self.layer, kind)


#: The roles a layer plays in the book's argument (:meth:`StudyResults.role_layers`), by identifier.
LAST_MAP, INNER_SIGNED, INNER_NON_NEGATIVE = "last_map", "inner_signed", "inner_non_negative"
LAYER_ROLES: tuple[str, ...] = (LAST_MAP, INNER_SIGNED, INNER_NON_NEGATIVE)


@dataclass(frozen=True)
class StudyResults:
    """A finished study: whole-image rows, and per layer the rows of :class:`LayerResults` (see :meth:`at`)."""

    key: str
    config: StudyConfig
    layers: tuple[str, ...]
    #: Provenance of the whole study; its ``layer`` lists every layer.
    provenance: Provenance
    images: pd.DataFrame
    layer_frames: dict[str, pd.DataFrame]
    skipped: pd.DataFrame
    store_path: Path
    seconds: float
    data_root: Path
    #: How the explanation maps' forward passes ran in the run that computed the study: ``"compiled"`` or
    #: ``"eager"``, and what compiling cost (seconds, paid once per process and model).
    forward_mode: str = "eager"
    warmup_seconds: float = 0.0

    @property
    def main_layers(self) -> tuple[str, ...]:
        """The layers explained with every method (the model's last map, then its inner layer where it has one);
        :attr:`layers` adds the layers of a sweep."""
        return tuple(layer for layer in self.config.main_layers() if layer in self.layer_frames)

    def role_layers(self) -> dict[str, str]:
        """The study's layers by the role they play in the argument, those it explained (:data:`LAYER_ROLES`):
        ``"last_map"`` (the model's last map, where every feature map has one alpha), ``"inner_signed"`` (the model's
        inner layer, whose gradients vary within the maps; EfficientNet-Lite's is a block output, a linear bottleneck
        with signed activations) and ``"inner_non_negative"`` (the non-negative map at the same depth,
        :attr:`~gradcam_study.models.ModelSpec.nonnegative_stages`).

        >>> study.role_layers()                                                  # doctest: +SKIP
        {'last_map': '_avg_pooling:input', 'inner_signed': '_blocks.15', 'inner_non_negative': '_blocks.15._project_conv:input'}
        """
        spec = model_spec(self.config.model)
        keys = {LAST_MAP: spec.layer}
        if spec.inner_layer is not None:
            keys[INNER_SIGNED] = spec.inner_layer
            if spec.inner_layer in spec.stages and len(spec.nonnegative_stages) == len(spec.stages):
                keys[INNER_NON_NEGATIVE] = spec.nonnegative_stages[spec.stages.index(spec.inner_layer)]
        return {role: layer for role, layer in keys.items() if layer in self.layer_frames}

    def at_role(self, role: str) -> LayerResults | None:
        """The results at the layer playing ``role`` (one of :data:`LAYER_ROLES`), or ``None`` where the study has
        no such layer (a model without an inner layer)."""
        if role not in LAYER_ROLES:
            raise ValueError(f"Unknown layer role {role!r}; use one of {', '.join(LAYER_ROLES)}.")
        layer = self.role_layers().get(role)
        return None if layer is None else self.at(layer)

    def at(self, layer: str | None = None) -> LayerResults:
        """The results at ``layer`` (a layer key of the study); the first layer, the model's last map by default."""
        layer = layer or self.layers[0]
        if layer not in self.layer_frames:
            raise ValueError(f"The study explained {', '.join(self.layers)}, not {layer!r}.")
        frame = self.layer_frames[layer]
        images = self.images.join(frame) if len(frame) else self.images
        return LayerResults(
            key=self.key,
            config=self.config,
            layer=layer,
            provenance=replace(self.provenance, layer=layer_label(layer)),
            images=images,
            skipped=self.skipped,
            store_path=self.store_path,
            data_root=self.data_root,
        )


def squeezed_bin_edges() -> np.ndarray:
    """Edges of the ``tanh(alpha - 1/2)`` histogram bins over [-1, 1]."""
    return np.linspace(-1.0, 1.0, SQUEEZED_ALPHA_BINS + 1)
