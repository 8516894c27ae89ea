"""The papers' reported values: references to compare against, never results.

Lerma & Lucas (2022): only what the text of the paper available to this book states is here (see
``shared/paper/README.md`` of the project); the score threshold of section 4 and the alpha extremes of
section 3.4 are not stated there. Chattopadhay et al. (2018), the Grad-CAM++ paper: its own yardsticks for
VGG-16, transcribed from Table 1 of arXiv:1710.11063 (the text is not in the project's folder).
"""

from __future__ import annotations

import pandas as pd

from .methods import PAPER_PAIR_IDS

SETTING = "VGG16 (block5_conv3) on ImageNetV2 MatchedFrequency"
IMAGES = 10_000
#: Images kept by the post-softmax threshold (section 4).
KEPT = 4219
#: Section 3.3, Figure 3: the non-zero alphas of the paper's sample image, outliers removed.
ONE_IMAGE_ALPHA_RANGE = (0.48, 0.53)

_PAIRS = pd.Index(PAPER_PAIR_IDS, name="methods")


def table1() -> pd.DataFrame:
    """The paper's Table 1 (relative performance), shaped like :meth:`StudyResults.table1`."""
    return pd.DataFrame({"pre_softmax": [1.24, 1.16, 1.06], "post_softmax": [1.27, 1.25, 1.01]}, index=_PAIRS)


def table2() -> pd.DataFrame:
    """The paper's Table 2 (mean and std of log relative performance), shaped like :meth:`StudyResults.table2`."""
    return pd.DataFrame(
        {
            ("pre_softmax", "mean"): [0.21, 0.15, 0.06],
            ("pre_softmax", "std"): [0.64, 0.66, 0.41],
            ("post_softmax", "mean"): [0.24, 0.22, 0.01],
            ("post_softmax", "std"): [0.68, 0.68, 0.11],
        },
        index=_PAIRS,
    )


#: The paper's values are stated with 2 decimals.
DECIMALS = 2


def beside(ours: pd.DataFrame, reference: pd.DataFrame, same_setting: bool) -> pd.DataFrame:
    """Our table and the paper's side by side, one column group per column of ``ours``.

    A "difference (ours − paper)" column is added only when ``same_setting`` (the paper profile): a
    difference between another model and data set and the paper's means nothing, so there the paper's
    value stands beside ours, labelled as another setting.
    """
    paper_label = "paper" if same_setting else f"paper ({SETTING}: another setting)"
    reference = reference.reindex(index=ours.index, columns=ours.columns)
    parts = {}
    for column in ours.columns:
        parts[(column, "this build")] = ours[column]
        parts[(column, paper_label)] = reference[column]
        if same_setting:
            parts[(column, "difference (ours − paper)")] = ours[column] - reference[column]
    return pd.concat(parts, axis=1)


def table1_beside(ours: pd.DataFrame, same_setting: bool) -> pd.DataFrame:
    """Table 1 of a study (:meth:`~gradcam_study.study.LayerResults.table1`) beside the paper's (:func:`beside`)."""
    return beside(ours, table1(), same_setting)


def table2_beside(ours: pd.DataFrame, same_setting: bool) -> pd.DataFrame:
    """Table 2 of a study (:meth:`~gradcam_study.study.LayerResults.table2`) beside the paper's, one row per pair
    and statistic (``mean``, ``std``), one column group per score kind (:func:`beside`)."""
    long_ours = ours.stack(level=1, future_stack=True)
    long_paper = table2().stack(level=1, future_stack=True)
    long_ours.index.names = long_paper.index.names = ["methods", "statistic"]
    return beside(long_ours, long_paper, same_setting)


def styled_beside(frame: pd.DataFrame, digits: int = 3):
    """A :func:`beside` table for display (identifiers labelled): our values with ``digits`` decimals, the paper's
    with the 2 it states, an en dash where a value is missing."""
    from .presentation.tables import labelled_frame

    frame = labelled_frame(frame)
    paper_columns = [column for column in frame.columns if str(column[-1]).startswith("paper")]
    return frame.style.format(precision=digits, na_rep="–").format(precision=DECIMALS, subset=paper_columns)


#: The Grad-CAM++ paper's setting for its Average Drop, Increase in Confidence and Win %.
GRAD_CAM_PLUS_PLUS_SETTING = "VGG-16 on the 50,000 ILSVRC2012 validation images (Chattopadhay et al. 2018, Table 1)"


def grad_cam_plus_plus_yardsticks() -> pd.DataFrame:
    """The Grad-CAM++ paper's Table 1 for VGG-16, in % (rows: method identifiers; columns: yardstick identifiers).
    Its Win % of each method is over the other, and the two add up to 100."""
    return pd.DataFrame(
        {"average_drop": [36.84, 46.56], "increase_in_confidence": [17.05, 13.42], "win_percent": [70.72, 29.28]},
        index=pd.Index(["grad_cam_plus_plus", "grad_cam"], name="method"),
    )
