"""The derivation chapter's reading: every statement in words, its displays, the summary."""

from __future__ import annotations

import pytest
import sympy as sp

from gradcam_study.symbolic import compare
from gradcam_study.symbolic.reading import derivation_reading, found, found_all

x = sp.Symbol("x")


def test_found_says_zero_or_the_difference() -> None:
    assert found(compare(x + x, 2 * x)) == "the difference simplifies to 0"
    assert found(compare(2 * x, x)) == "the difference is x"
    assert found_all([compare(x, x), compare(2 * x, x)]) == "1 of 2 differences are not 0: [x]"


@pytest.fixture(scope="module")
def reading():
    return derivation_reading()


def test_the_reading_carries_what_sympy_finds(reading) -> None:
    phrases = reading.phrases
    assert phrases["eq9"] == phrases["eq18"] == phrases["eq19"] == "the difference simplifies to 0"
    assert phrases["analogue"] == "the difference is x"
    assert (phrases["eq10-rank"], phrases["eq10-nullity"]) == ("2", "14")
    assert phrases["eq7-terms"] == "7" and phrases["witness"] == "14*exp(8)"
    assert phrases["bases"] == "(E,)" and phrases["linear-offset"] == "1"
    assert all(value for value in phrases.values())


def test_the_displays_and_the_summary(reading) -> None:
    assert all(latex for displays in reading.math.values() for latex in displays)
    assert len(reading.math["eq10"]) == 4  # two equations, one product, the coefficients
    assert reading.summary.loc["derivative of (6) = (7)", "what SymPy finds"] == "no: 7 mixed terms remain"
    assert reading.caption.startswith(f"SymPy {sp.__version__}; 2 feature maps of 2×2 units")
