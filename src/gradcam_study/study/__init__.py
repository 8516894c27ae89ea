"""The study of section 4 at scale: one pass per batch, resumable per-image results, profiles."""

from .analysis import analyse_batch, correlation_column, log_prob_column, summarise_alphas
from .config import DEFAULT_THRESHOLD, PROFILES, Profile, StudyConfig, profile, select_images
from .pipeline import run_profile, run_study
from .results import SCORE_KIND_LABELS, Provenance, StudyResults, squeezed_bin_edges

__all__ = [
    "DEFAULT_THRESHOLD",
    "PROFILES",
    "Profile",
    "Provenance",
    "SCORE_KIND_LABELS",
    "StudyConfig",
    "StudyResults",
    "analyse_batch",
    "correlation_column",
    "log_prob_column",
    "profile",
    "run_profile",
    "run_study",
    "select_images",
    "squeezed_bin_edges",
    "summarise_alphas",
]
