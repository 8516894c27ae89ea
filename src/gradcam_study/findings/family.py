"""What the chapter on the Grad-CAM family reads from its study and its live explanations: the images it explains,
the share of each heatmap on its own half of the composite of the paper's Figure 2 and the clause that reads it,
the agreement of eq. (9), eq. (13) and eq. (12), and the constant maps of the study, as tables and text.

The chapter's images are chosen by rule: the cat and the dog the model recognises with the highest probability
(:func:`chosen_images`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd
import torch
from torch import Tensor

from ..data import class_name
from ..explain import Explanation
from ..methods import (
    PAPER_METHODS,
    general_base_alphas,
    grad_cam_plus_plus_alphas,
    grad_cam_plus_plus_alphas_divided,
)
from ..presentation.labels import METHOD_LABELS
from ..study.results import LayerResults

#: ImageNet 281-285: tabby, tiger cat, Persian, Siamese, Egyptian cat.
CAT_CLASSES = range(281, 286)
#: ImageNet 151-268: the dog breeds.
DOG_CLASSES = range(151, 269)


def best_recognised(images: pd.DataFrame, classes: Sequence[int]) -> int:
    """The image (an index of a study's ``images``) of one of ``classes`` predicted correctly with the highest
    probability; where none is (a study of a few images, or random weights), the image whose true class is the
    most probable.

    >>> rows = pd.DataFrame({"label": [281, 281, 7], "predicted": [281, 3, 7], "probability": [0.6, 0.9, 0.95]})
    >>> best_recognised(rows, CAT_CLASSES), best_recognised(rows, DOG_CLASSES)
    (0, 2)
    """
    recognised = images[images["label"].isin(classes) & (images["predicted"] == images["label"])]
    return int((recognised if len(recognised) else images)["probability"].idxmax())


def chosen_images(results: LayerResults) -> dict[str, int]:
    """The chapter's two images, ``{"cat": image, "dog": image}``, by :func:`best_recognised`."""
    return {"cat": best_recognised(results.images, CAT_CLASSES), "dog": best_recognised(results.images, DOG_CLASSES)}


def chosen_table(results: LayerResults, chosen: Mapping[str, int]) -> pd.DataFrame:
    """The chosen images (rows, by role) with their file, true class and probability."""
    return pd.DataFrame([
        {
            "": role,
            "image": results.images.loc[image, "path"],
            "class": class_name(int(results.images.loc[image, "label"])),
            "probability": results.images.loc[image, "probability"],
        }
        for role, image in chosen.items()
    ]).set_index("")


def image_note(results: LayerResults, image: int) -> str:
    """A caption's note on a live example: the image and the class it is explained for (its own)."""
    return (f"image {results.images.loc[image, 'path']}, explained for its class "
            f"{class_name(int(results.images.loc[image, 'label']))}")


def composite_note(results: LayerResults, left: int, right: int) -> str:
    """A caption's note on the composite of two images: each one's file and the class of its column."""
    images = results.images
    return (f"left image {images.loc[left, 'path']} (column: class {class_name(int(images.loc[left, 'label']))}), "
            f"right image {images.loc[right, 'path']} (column: class {class_name(int(images.loc[right, 'label']))})")


def own_half_shares(explained: Explanation, class_labels: Sequence[str]) -> pd.DataFrame:
    """Per method of the paper (columns, labelled) and explained class (rows: the first class on the left half of
    the composite, the second on the right): the share of the upsampled heatmap's mass on the class's own half,
    ``sum(own half) / sum(all)``."""
    half = explained.pixels.shape[-1] // 2
    return pd.DataFrame(
        {
            METHOD_LABELS[method]: [
                float(explained.upsampled[method][0][:, :half].sum() / explained.upsampled[method][0].sum()),
                float(explained.upsampled[method][1][:, half:].sum() / explained.upsampled[method][1].sum()),
            ]
            for method in PAPER_METHODS
        },
        index=pd.Index([f"{class_labels[0]} (left)", f"{class_labels[1]} (right)"], name="explained class"),
    )


def top_classes(probabilities: Tensor, count: int = 5) -> pd.DataFrame:
    """The ``count`` most probable classes of one image (``probabilities``: one per class), by rank from 1."""
    top = probabilities.detach().cpu().topk(count)
    return pd.DataFrame(
        {"class": [class_name(int(i)) for i in top.indices], "probability": top.values.numpy()},
        index=pd.RangeIndex(1, count + 1, name="rank"),
    )


def own_half_clause(shares: pd.DataFrame) -> str:
    """How the smallest share of :func:`own_half_shares` reads, completing "Every heatmap puts at least x% of
    its mass on its own half".

    >>> own_half_clause(pd.DataFrame({"a": [0.8, 0.6]}))
    ', so each class is found where it is, as in the paper’s Figure 2.'
    """
    if shares.min().min() > 0.5:
        return ", so each class is found where it is, as in the paper’s Figure 2."
    return "; where that share is under one half, the heatmap strays onto the other animal."


def alpha_forms(explanations: Mapping[str, Explanation]) -> pd.DataFrame:
    """Eq. (9) (:func:`~gradcam_study.methods.grad_cam_plus_plus_alphas`) against eq. (13)
    (:func:`~gradcam_study.methods.grad_cam_plus_plus_alphas_divided`) and eq. (12)
    (:func:`~gradcam_study.methods.general_base_alphas`, bases e and 2) on captures of one image, per score kind
    (``explanations`` keyed by kind) and precision (float32, float64; columns): the units and those with a non-zero
    gradient, the largest absolute and relative difference where ``g != 0``, whether both forms are 0 where
    ``g = 0``, the units whose ``g**2`` underflows in float32, and the range of the alphas. Values as printed
    (three significant digits)."""
    records = []
    for kind, explained in explanations.items():
        for precision in (torch.float32, torch.float64):
            A = explained.activations.to(precision)
            g = explained.gradients.to(precision)
            nonzero = g != 0
            alphas9 = grad_cam_plus_plus_alphas(A, g)
            alphas13 = grad_cam_plus_plus_alphas_divided(A, g)
            defined = nonzero & (alphas13 != 0)
            records.append({
                "score": kind.replace("_", "-"),
                "precision": str(precision).removeprefix("torch."),
                "units": g.numel(),
                "units with g != 0": int(nonzero.sum()),
                "max |eq. (9) - eq. (13)| where g != 0": float((alphas9 - alphas13)[nonzero].abs().max()),
                "max relative difference": float(((alphas9 - alphas13) / alphas13)[defined].abs().max()),
                "all 0 where g = 0 (if any unit has g = 0)": bool((alphas9[~nonzero] == 0).all()
                                                                   and (alphas13[~nonzero] == 0).all()),
                "units where g**2 underflows to 0 in float32": int(((g.float() ** 2) == 0)[nonzero].sum()),
                "max |eq. (12), a = e - eq. (9)|": float((general_base_alphas(A, g, base=math.e) - alphas9).abs().max()),
                "max |eq. (12), a = 2 - eq. (9)|": float((general_base_alphas(A, g, base=2.0) - alphas9).abs().max()),
                "alpha min": float(alphas9[nonzero].min()),
                "alpha max": float(alphas9[nonzero].max()),
            })
    check = pd.DataFrame(records).set_index(["score", "precision"]).T
    return check.map(lambda value: f"{value:.3g}" if isinstance(value, float) else str(value))


def constant_maps_reading(results: LayerResults) -> str:
    """How many of the study's images get a constant heatmap (all zero once normalised), per score kind and method
    of the paper: ``"pre-softmax: Grad-CAM 0, Grad-CAM+ 0, Grad-CAM++ 1; post-softmax: ..."``."""
    return "; ".join(
        f"{kind.replace('_', '-')}: "
        + ", ".join(f"{METHOD_LABELS[m]} {results.constant_maps(kind, m)}" for m in PAPER_METHODS)
        for kind in results.score_kinds
    )


__all__ = ["CAT_CLASSES", "DOG_CLASSES", "alpha_forms", "best_recognised", "chosen_images", "chosen_table",
           "composite_note", "constant_maps_reading", "image_note", "own_half_clause", "own_half_shares",
           "top_classes"]
