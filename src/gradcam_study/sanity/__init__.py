"""Do the explanations depend on the model, and on which score is explained? Model randomisation (Adebayo et al.
2018), the similarity measures it is read with, and the logit-shift vulnerability of pre-softmax scores (Lerma &
Lucas 2023)."""

from .randomisation import (
    FromBlock,
    block_inputs,
    cascading_steps,
    first_block,
    independent_steps,
    randomised,
    stage_modules,
    stage_seed,
)
from .similarity import average_ranks, spearman_per_image, ssim_per_image
from .vulnerability import TOP_FRACTION, HeatmapChange, ShiftedLogits, heatmap_change, top_overlap

__all__ = [
    "FromBlock",
    "HeatmapChange",
    "ShiftedLogits",
    "TOP_FRACTION",
    "average_ranks",
    "block_inputs",
    "cascading_steps",
    "first_block",
    "heatmap_change",
    "independent_steps",
    "randomised",
    "spearman_per_image",
    "ssim_per_image",
    "stage_modules",
    "stage_seed",
    "top_overlap",
]
