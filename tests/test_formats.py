"""Numbers to text: ratios never print a 1 that is not 1, p-values are floored, lists read as prose."""

from __future__ import annotations

import math

from gradcam_study.presentation.formats import finite_or_dash, interval, listing, p_equals, p_value, percent, ratio
from gradcam_study.study import verdicts


def test_a_ratio_that_is_not_1_never_prints_as_1() -> None:
    assert ratio(0.99996) == "0.99996" and ratio(0.995) == "0.995" and ratio(1.0) == "1.000"
    assert interval(1.084, 1.0004, 1.195) == "1.084 [1.0004, 1.195]"


def test_p_values_are_floored_when_printed() -> None:
    assert p_value(1.2e-248) == p_value(0.0) == f"< {verdicts.P_VALUE_FLOOR:g}" == "< 1e-12"
    assert p_equals(1.2e-248) == "< 1e-12" and p_equals(0.0123) == "= 0.012"
    assert verdicts.floor_p(1e-300) == verdicts.P_VALUE_FLOOR and math.isnan(verdicts.floor_p(math.nan))


def test_lists_shares_and_missing_values() -> None:
    assert listing(["a", "b", "c"]) == "a, b and c" and listing(["m at x, y", "n"]) == "m at x, y; and n"
    assert listing([]) == "" and percent(0.1234) == "12.3%"
    assert finite_or_dash(math.nan) == "–" and finite_or_dash(0.5, 2) == "0.50"
