"""How numbers are printed in the book's sentences and tables: decimals, ratios, intervals, p-values, lists.

>>> interval(1.084, 1.0004, 1.195), p_equals(0.01234), listing(["a", "b", "c"])
('1.084 [1.0004, 1.195]', '= 0.012', 'a, b and c')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from ..study.verdicts import P_VALUE_FLOOR


def decimals(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals (relative performances are printed with 3)."""
    return f"{value:.{digits}f}"


def significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits (extremes, which span orders of magnitude)."""
    return f"{value:.{digits}g}"


def ratio(value: float, digits: int = 3) -> str:
    """A relative performance (or an end of its interval) with ``digits`` decimals, or with more (up to 6) where it
    would otherwise read 1 without being 1, so that "below 1" never stands beside a printed 1.000.

    >>> ratio(0.99996), ratio(0.995)
    ('0.99996', '0.995')
    """
    places = digits
    while round(value, places) == 1 and value != 1 and places < 6:
        places += 1
    return decimals(value, places)


def interval(value: float, low: float, high: float, digits: int = 3,
             number: Callable[[float, int], str] | None = None) -> str:
    """``"0.995 [0.993, 0.997]"``: a value and its interval, each with ``number`` (default :func:`ratio`, for a
    relative performance; :func:`decimals` for a percentage).

    >>> interval(1.084, 1.0004, 1.195), interval(38.09, 19.04, 57.14, 1, number=decimals)
    ('1.084 [1.0004, 1.195]', '38.1 [19.0, 57.1]')
    """
    number = number or ratio
    return f"{number(value, digits)} [{number(low, digits)}, {number(high, digits)}]"


def listing(items: Iterable[str]) -> str:
    """``"a, b and c"``; items that hold commas themselves are separated by semicolons instead.

    >>> listing(["a", "b", "c"]), listing(["m at x, y", "n"])
    ('a, b and c', 'm at x, y; and n')
    """
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if any("," in item for item in items):
        return "; ".join(items[:-1]) + "; and " + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def percent(share: float, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage with ``digits`` decimals."""
    return f"{100 * share:.{digits}f}%"



def p_value(p: float, digits: int = 2) -> str:
    """A p-value with ``digits`` significant digits, floored at
    :data:`~gradcam_study.study.verdicts.P_VALUE_FLOOR`: a smaller one (or one that underflows to 0) prints as
    ``"< 1e-12"``.

    >>> p_value(0.0), p_value(1.2e-248), p_value(0.01234)
    ('< 1e-12', '< 1e-12', '0.012')
    """
    return f"< {P_VALUE_FLOOR:g}" if p < P_VALUE_FLOOR else significant(p, digits)


def p_equals(p: float, digits: int = 2) -> str:
    """A p-value for a sentence after "p": ``"= 0.012"``, or ``"< 1e-12"`` below the floor."""
    text = p_value(p, digits)
    return text if text.startswith("<") else f"= {text}"



def finite_or_dash(value: float | None, digits: int = 3, style: Callable[[float, int], str] | None = None) -> str:
    """``value`` printed by ``style`` (default :func:`decimals`) with ``digits``, or an en dash where it is missing or
    not a number (no NaN in a table).

    >>> finite_or_dash(float("nan")), finite_or_dash(0.000123, 2, significant)
    ('–', '0.00012')
    """
    if value is None or not math.isfinite(value):
        return "–"
    return (style or decimals)(value, digits)



__all__ = ["decimals", "finite_or_dash", "interval", "listing", "p_equals", "p_value", "percent", "ratio",
           "significant"]
