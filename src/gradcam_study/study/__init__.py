"""The study of section 4 at scale: one pass per batch over one or more layers, resumable per-image
results, profiles, and the criteria of the book's verdicts."""

from .analysis import (
    ALPHA_QUANTILES,
    alpha_column,
    analyse_batch,
    auc_column,
    constant_map_column,
    correlation_column,
    log_prob_column,
    summarise_alphas,
)
from .config import (
    DEFAULT_THRESHOLD,
    PROFILES,
    Profile,
    StudyConfig,
    evenly_spread,
    profile,
    select_images,
    source_fingerprint,
)
from .pipeline import run_profile, run_study
from .results import (
    HIGHER_IS_BETTER,
    WIN_BASELINE,
    YARDSTICKS,
    LayerResults,
    NoImageKeptError,
    StudyResults,
    squeezed_bin_edges,
)
from .store import AlphaArrays, CurveArrays

__all__ = [
    "ALPHA_QUANTILES",
    "AlphaArrays",
    "CurveArrays",
    "DEFAULT_THRESHOLD",
    "HIGHER_IS_BETTER",
    "LayerResults",
    "NoImageKeptError",
    "PROFILES",
    "Profile",
    "StudyConfig",
    "StudyResults",
    "WIN_BASELINE",
    "YARDSTICKS",
    "alpha_column",
    "analyse_batch",
    "auc_column",
    "constant_map_column",
    "correlation_column",
    "evenly_spread",
    "log_prob_column",
    "profile",
    "run_profile",
    "run_study",
    "select_images",
    "source_fingerprint",
    "squeezed_bin_edges",
    "summarise_alphas",
]
