"""A finished study's per-image rows, and the paper's tables computed from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..capture import ScoreKind
from ..methods import METHOD_PAIRS, pair_label
from ..metrics import (
    bootstrap_relative_performance,
    log_relative_performance,
    relative_performance,
    summarise_log_relative_performance,
    wilcoxon_signed_rank,
)
from ..models import Classifier, load_classifier
from .analysis import NEAR_HALF, SQUEEZED_ALPHA_BINS, log_prob_column
from .config import DEFAULT_THRESHOLD, StudyConfig
from .store import ResultStore

SCORE_KIND_LABELS: dict[str, str] = {"pre_softmax": "pre-softmax", "post_softmax": "post-softmax"}


@dataclass(frozen=True)
class Provenance:
    """Where a result comes from, for every caption."""

    profile: str
    model: str
    layer: str
    dataset: str
    images: int
    device: str

    def caption(self, score_kind: str | None = None, kept: int | None = None) -> str:
        parts = [
            f"profile {self.profile}",
            f"model {self.model}",
            f"layer {self.layer}",
            f"data {self.dataset}",
            f"{self.images} images" + (f" ({kept} kept)" if kept is not None else ""),
            f"score {SCORE_KIND_LABELS.get(score_kind, score_kind) if score_kind else 'pre- and post-softmax'}",
            f"device {self.device}",
        ]
        return "; ".join(parts)


@dataclass(frozen=True)
class StudyResults:
    """Per-image rows of one study, with the statistics of section 4."""

    key: str
    config: StudyConfig
    provenance: Provenance
    images: pd.DataFrame
    skipped: pd.DataFrame
    store_path: Path
    seconds: float
    #: The image folder; ``images["path"]`` is relative to it.
    data_root: Path

    def load_classifier(self) -> Classifier:
        """The classifier this study explained (same weights, layer and device), for single-image figures."""
        return load_classifier(
            self.config.model,
            pretrained=self.config.pretrained,
            layer=self.config.layer,
            tap=self.config.tap,
            device=self.provenance.device,
        )

    def image_path(self, image: int) -> Path:
        """Where image ``image`` (an index of :attr:`images`) is on disk."""
        return self.data_root / self.images.loc[image, "path"]

    @property
    def score_kinds(self) -> tuple[ScoreKind, ...]:
        return self.config.score_kinds

    def kept(self, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
        """Rows whose post-softmax probability of the true class exceeds ``threshold`` (the paper's filter)."""
        return self.images[self.images["probability"] > threshold]

    def log_relative_performance(
        self, kind: ScoreKind, first: str, second: str, threshold: float = DEFAULT_THRESHOLD
    ) -> np.ndarray:
        kept = self.kept(threshold)
        return log_relative_performance(kept[log_prob_column(kind, first)], kept[log_prob_column(kind, second)])

    def table1(self, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
        """Table 1: relative performance (eq. (16)) of each pair, per score kind, over the kept images."""
        kept = self.kept(threshold)
        return pd.DataFrame(
            {
                SCORE_KIND_LABELS[kind]: [
                    relative_performance(kept[log_prob_column(kind, a)], kept[log_prob_column(kind, b)])
                    for a, b in METHOD_PAIRS
                ]
                for kind in self.score_kinds
            },
            index=pd.Index([pair_label(a, b) for a, b in METHOD_PAIRS], name="methods"),
        )

    def table2(self, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
        """Table 2: mean and standard deviation of the per-image log relative performance."""
        data = {}
        for kind in self.score_kinds:
            summaries = [
                summarise_log_relative_performance(self.log_relative_performance(kind, a, b, threshold))
                for a, b in METHOD_PAIRS
            ]
            data[(SCORE_KIND_LABELS[kind], "mean")] = [s.mean for s in summaries]
            data[(SCORE_KIND_LABELS[kind], "std")] = [s.std for s in summaries]
        return pd.DataFrame(data, index=pd.Index([pair_label(a, b) for a, b in METHOD_PAIRS], name="methods"))

    def statistics(self, threshold: float = DEFAULT_THRESHOLD, resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
        """Beyond the paper: a bootstrap 95% interval of each relative performance and a Wilcoxon signed-rank test."""
        records = []
        for kind in self.score_kinds:
            for a, b in METHOD_PAIRS:
                log_rp = self.log_relative_performance(kind, a, b, threshold)
                interval = bootstrap_relative_performance(log_rp, resamples=resamples, seed=seed)
                test = wilcoxon_signed_rank(log_rp)
                records.append(
                    {
                        "methods": pair_label(a, b),
                        "score": SCORE_KIND_LABELS[kind],
                        "relative performance": float(np.exp(log_rp.mean())) if log_rp.size else float("nan"),
                        "95% CI low": interval.low,
                        "95% CI high": interval.high,
                        "Wilcoxon statistic": test.statistic,
                        "p-value": test.p_value,
                        "images": int(log_rp.size),
                    }
                )
        return pd.DataFrame.from_records(records).set_index(["methods", "score"])

    def alpha_extremes(self, kind: ScoreKind = "pre_softmax") -> pd.Series:
        """The data set's non-zero alphas (eq. (9)) in a few numbers, from the per-image rows: how many, the
        extremes, how many stray beyond ``|alpha - 1/2| > 1/2`` (outside [0, 1]) and in how many images, the
        share within ``NEAR_HALF`` of 1/2, and the extremes of the denominator term ``t`` of eq. (13)."""
        frame = self.images
        count = frame[f"{kind}_alpha_count"].sum()
        far = frame[f"{kind}_alpha_far_from_half"]
        smallest_term = frame[f"{kind}_denominator_term_min"].min()
        return pd.Series(
            {
                "non-zero alphas": count,
                "smallest alpha": frame[f"{kind}_alpha_min"].min(),
                "largest alpha": frame[f"{kind}_alpha_max"].max(),
                "count |alpha - 1/2| > 0.5": far.sum(),
                "share |alpha - 1/2| > 0.5": far.sum() / count,
                "images with such an alpha": int((far > 0).sum()),
                f"share |alpha - 1/2| <= {NEAR_HALF}": frame[f"{kind}_alpha_near_half"].sum() / count,
                "smallest term t": smallest_term,
                "largest term t": frame[f"{kind}_denominator_term_max"].max(),
                "images with a term below -2": int((frame[f"{kind}_denominator_term_min"] < -2).sum()),
                "2 + smallest term": 2 + smallest_term,
            },
            name=SCORE_KIND_LABELS[kind],
        )

    def farthest_alpha_from_half(self, kind: ScoreKind = "pre_softmax") -> pd.Series:
        """Per image, the largest ``|alpha - 1/2|`` of its non-zero alphas."""
        frame = self.images
        return np.maximum((frame[f"{kind}_alpha_max"] - 0.5).abs(), (frame[f"{kind}_alpha_min"] - 0.5).abs())

    def alpha_arrays(self, kind: ScoreKind = "pre_softmax") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pooled per-image samples of non-zero alphas and of their denominator terms, and the
        histogram of ``tanh(alpha - 1/2)`` over all non-zero alphas (bin edges: :func:`squeezed_bin_edges`)."""
        with ResultStore(self.store_path) as store:
            return store.alpha_arrays(kind)


def squeezed_bin_edges() -> np.ndarray:
    """Edges of the ``tanh(alpha - 1/2)`` histogram bins over [-1, 1]."""
    return np.linspace(-1.0, 1.0, SQUEEZED_ALPHA_BINS + 1)
