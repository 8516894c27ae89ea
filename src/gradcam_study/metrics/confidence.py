"""The Grad-CAM++ paper's own yardsticks (Chattopadhay et al. 2018, section 5.1), from stored log-probabilities.

``Y`` is the post-softmax probability of the true class on the image and ``O`` on a method's explanation
map (eq. (15)); the study stores both as log-probabilities, so no function here needs a network pass.
Each takes log-probabilities, one per image, and works in logs where a ratio of probabilities appears.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def confidence_drops(log_y: npt.ArrayLike, log_o: npt.ArrayLike) -> FloatArray:
    r"""Per image, the relative drop in confidence :math:`\max(0, Y - O) / Y = \max(0, 1 - e^{\log O - \log Y})`.

    0 where the explanation map raises the confidence; formed from the log ratio, so that it stays exact
    where ``Y`` and ``O`` are far below float precision.

    >>> confidence_drops(np.log([0.8, 0.5]), np.log([0.2, 0.6])).round(6).tolist()
    [0.75, 0.0]
    """
    log_ratio = np.asarray(log_o, dtype=np.float64) - np.asarray(log_y, dtype=np.float64)
    return np.clip(-np.expm1(log_ratio), 0.0, None)


def confidence_increases(log_y: npt.ArrayLike, log_o: npt.ArrayLike) -> FloatArray:
    """Per image, 1.0 where the explanation map raises the confidence (``O > Y``), else 0.0."""
    return (np.asarray(log_o, dtype=np.float64) > np.asarray(log_y, dtype=np.float64)).astype(np.float64)


def wins(log_y: npt.ArrayLike, log_o_first: npt.ArrayLike, log_o_second: npt.ArrayLike) -> FloatArray:
    """Per image, 1.0 where the first method's drop in confidence is smaller than the second's, else 0.0.

    Drops are those of :func:`confidence_drops` (clipped at 0), so an image on which both maps raise the
    confidence is a tie and counts for neither: Win % of A over B plus Win % of B over A is at most 100.
    """
    first, second = confidence_drops(log_y, log_o_first), confidence_drops(log_y, log_o_second)
    return (first < second).astype(np.float64)


def average_drop(log_y: npt.ArrayLike, log_o: npt.ArrayLike) -> float:
    r"""Average Drop %, :math:`\frac{100}{N} \sum_i \max(0, Y_i - O_i) / Y_i` (lower is better). NaN for no image.

    >>> round(average_drop(np.log([0.8, 0.5]), np.log([0.2, 0.6])), 6)
    37.5
    """
    drops = confidence_drops(log_y, log_o)
    return float(100 * drops.mean()) if drops.size else float("nan")


def increase_in_confidence(log_y: npt.ArrayLike, log_o: npt.ArrayLike) -> float:
    r"""% Increase in Confidence, :math:`\frac{100}{N} \sum_i \mathbb{1}[O_i > Y_i]` (higher is better). NaN for no
    image.

    >>> increase_in_confidence(np.log([0.8, 0.5]), np.log([0.2, 0.6]))
    50.0
    """
    increases = confidence_increases(log_y, log_o)
    return float(100 * increases.mean()) if increases.size else float("nan")


def win_percent(log_y: npt.ArrayLike, log_o_first: npt.ArrayLike, log_o_second: npt.ArrayLike) -> float:
    """Win % of the first method over the second: the share of images (in %) where its drop in confidence is
    smaller (see :func:`wins` for ties). NaN for no image.

    >>> win_percent(np.log([0.8, 0.5]), np.log([0.4, 0.6]), np.log([0.2, 0.7]))
    50.0
    """
    won = wins(log_y, log_o_first, log_o_second)
    return float(100 * won.mean()) if won.size else float("nan")
