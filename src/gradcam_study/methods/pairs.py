"""The pairs of methods the study compares, and their identifiers.

A pair is ``(first, second)``; its identifier, the key of every result frame, is ``"first/second"``. Relative
performances are first over second.

>>> pair_id("grad_cam_plus_plus", "grad_cam_plus")
'grad_cam_plus_plus/grad_cam_plus'
>>> pair_methods("grad_cam_plus_plus/grad_cam")
('grad_cam_plus_plus', 'grad_cam')
"""

from __future__ import annotations

#: The pairs of Table 1 and Table 2, "first vs second".
METHOD_PAIRS: tuple[tuple[str, str], ...] = (
    ("grad_cam_plus_plus", "grad_cam"),
    ("grad_cam_plus", "grad_cam"),
    ("grad_cam_plus_plus", "grad_cam_plus"),
)

#: The pixel-wise weightings against the channel weightings they reduce to where the gradient is constant
#: within each map (HiResCAM to Grad-CAM, LayerCAM to Grad-CAM+), LayerCAM against Grad-CAM++, and the two
#: against each other (positive gradients only, pixel-wise): the pairs of the tables beyond the paper.
PIXEL_WISE_PAIRS: tuple[tuple[str, str], ...] = (
    ("hires_cam", "grad_cam"),
    ("layer_cam", "grad_cam_plus"),
    ("layer_cam", "grad_cam_plus_plus"),
    ("layer_cam", "hires_cam"),
)

#: The paper's central pair, Grad-CAM++ against Grad-CAM+.
PLUS_PAIR: tuple[str, str] = ("grad_cam_plus_plus", "grad_cam_plus")


def pair_id(first: str, second: str) -> str:
    """The identifier of the pair ``(first, second)``: ``"first/second"``."""
    return f"{first}/{second}"


def pair_methods(pair: str) -> tuple[str, str]:
    """The two methods of a pair identifier (the inverse of :func:`pair_id`)."""
    first, separator, second = pair.partition("/")
    if not separator:
        raise ValueError(f"{pair!r} is not a pair identifier (\"first/second\").")
    return first, second


#: Identifiers of :data:`METHOD_PAIRS`, in their order, and of the central pair.
PAPER_PAIR_IDS: tuple[str, ...] = tuple(pair_id(*pair) for pair in METHOD_PAIRS)
PLUS_PAIR_ID: str = pair_id(*PLUS_PAIR)

__all__ = ["METHOD_PAIRS", "PAPER_PAIR_IDS", "PIXEL_WISE_PAIRS", "PLUS_PAIR", "PLUS_PAIR_ID", "pair_id",
           "pair_methods"]
