"""The paper's reported values (Lerma & Lucas 2022): references to compare against, never results.

Only what survived the extraction of the paper's text is here (see ``shared/paper/README.md``
of the project); the score threshold of section 4 and the alpha extremes of section 3.4 were lost.
"""

from __future__ import annotations

import pandas as pd

from .methods import METHOD_PAIRS, pair_label

SETTING = "VGG16 (block5_conv3) on ImageNetV2 MatchedFrequency"
IMAGES = 10_000
#: Images kept by the post-softmax threshold (section 4).
KEPT = 4219
#: Section 3.3, Figure 3: the non-zero alphas of the paper's sample image, outliers removed.
ONE_IMAGE_ALPHA_RANGE = (0.48, 0.53)

_PAIRS = pd.Index([pair_label(first, second) for first, second in METHOD_PAIRS], name="methods")


def table1() -> pd.DataFrame:
    """The paper's Table 1 (relative performance), shaped like :meth:`StudyResults.table1`."""
    return pd.DataFrame({"pre-softmax": [1.24, 1.16, 1.06], "post-softmax": [1.27, 1.25, 1.01]}, index=_PAIRS)


def table2() -> pd.DataFrame:
    """The paper's Table 2 (mean and std of log relative performance), shaped like :meth:`StudyResults.table2`."""
    return pd.DataFrame(
        {
            ("pre-softmax", "mean"): [0.21, 0.15, 0.06],
            ("pre-softmax", "std"): [0.64, 0.66, 0.41],
            ("post-softmax", "mean"): [0.24, 0.22, 0.01],
            ("post-softmax", "std"): [0.68, 0.68, 0.11],
        },
        index=_PAIRS,
    )
