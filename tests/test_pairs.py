"""Pairs of methods and their identifiers."""

from __future__ import annotations

import pytest

from gradcam_study.methods import METHODS
from gradcam_study.methods.pairs import METHOD_PAIRS, PAPER_PAIR_IDS, PIXEL_WISE_PAIRS, PLUS_PAIR_ID, pair_id, pair_methods


def test_a_pair_identifier_round_trips() -> None:
    for first, second in (*METHOD_PAIRS, *PIXEL_WISE_PAIRS):
        assert first in METHODS and second in METHODS
        assert pair_methods(pair_id(first, second)) == (first, second)
    assert PAPER_PAIR_IDS[-1] == PLUS_PAIR_ID == "grad_cam_plus_plus/grad_cam_plus"


def test_a_method_name_is_not_a_pair() -> None:
    with pytest.raises(ValueError, match="not a pair identifier"):
        pair_methods("grad_cam")
