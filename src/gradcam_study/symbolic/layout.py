"""Long SymPy expressions laid out over several lines, so that a displayed equation fits the text column of a page
(and of an A4 print) instead of running past its edge.

>>> from sympy import symbols
>>> a, b, c, d = symbols("a b c d")
>>> sum_lines(a + b - c + d, per_line=2)
['a + b', '- c + d']
>>> print(aligned("y", sum_lines(a + b - c + d, per_line=2), "e"))
\\begin{aligned} y &= a + b \\\\ &\\quad - c + d \\\\ &= e \\end{aligned}
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from gradcam_study.symbolic.statements import latex


def _joined(terms: Sequence[str]) -> str:
    """``a + b - c``: terms joined by their own signs."""
    text = ""
    for term in terms:
        if not text:
            text = term
        elif term.startswith("-"):
            text += " - " + term[1:].lstrip()
        else:
            text += " + " + term
    return text


def _signed(line: str) -> str:
    """A continuation line starts with its sign."""
    return line if line.startswith("-") else "+ " + line


def _chunks(terms: Sequence[str], size: int) -> list[str]:
    return [_joined(terms[start : start + size]) for start in range(0, len(terms), size)]


def sum_lines(expr: sp.Expr, per_line: int = 1, inner_per_line: int | None = None) -> list[str]:
    """The LaTeX of ``expr``, a sum, as lines of ``per_line`` terms; every line after the first starts with its sign.

    With ``inner_per_line``, a term that is a product with a sum among its factors (``(A + B)(x + y + z + w)``) is
    itself broken: its other factors, then its longest sum, ``inner_per_line`` terms a line, in big parentheses.
    Terms come in SymPy's printing order.
    """
    lines: list[str] = []
    terms = expr.as_ordered_terms()
    for start in range(0, len(terms), per_line):
        group = terms[start : start + per_line]
        broken = _broken_product(group[0], inner_per_line) if len(group) == 1 and inner_per_line else None
        if broken is None:
            lines.append(_joined([latex(term) for term in group]))
        else:
            lines.extend(broken)
    return [lines[0], *(_signed(line) for line in lines[1:])] if lines else []


def _broken_product(term: sp.Expr, per_line: int) -> list[str] | None:
    """``other factors \\Bigl( first terms`` then ``+ next terms \\Bigr)`` (the sum longest in print broken), or None
    when ``term`` has no sum of more than ``per_line`` terms."""
    coefficient, product = term.as_coeff_Mul()
    factors = sp.Mul.make_args(product)
    sums = [factor for factor in factors if isinstance(factor, sp.Add)]
    if not sums:
        return None
    longest = max(sums, key=lambda factor: len(latex(factor)))
    if len(longest.args) <= per_line:
        return None
    prefix = {1: "", -1: "-"}.get(coefficient, latex(coefficient) + " ")
    prefix += "".join(
        (r"\left(" + latex(factor) + r"\right) " if isinstance(factor, sp.Add) else latex(factor) + " ")
        for factor in factors
        if factor is not longest
    )
    inner = _chunks([latex(t) for t in longest.as_ordered_terms()], per_line)
    inner[0] = prefix + r"\Bigl(" + inner[0]
    inner[-1] = inner[-1] + r"\Bigr)"
    return inner


def _rows(lhs: str, sides: Sequence[str | Sequence[str]], lhs_alone: bool) -> list[str]:
    rows: list[str] = ["& " + lhs] if lhs_alone else []
    for side in sides:
        lines = [side] if isinstance(side, str) else list(side)
        rows.append(("" if rows else lhs + " ") + "&= " + lines[0])
        rows.extend(r"&\quad " + line for line in lines[1:])
    return rows


def aligned(lhs: str, *sides: str | Sequence[str], lhs_alone: bool = False) -> str:
    """``lhs = side_1 = side_2 ...`` as an ``aligned`` block: each side starts a line with its ``=``, and a side given
    as lines (:func:`sum_lines`) continues on indented lines. With ``lhs_alone``, a long
    ``lhs`` has a line of its own and every side starts below it."""
    return r"\begin{aligned} " + r" \\ ".join(_rows(lhs, sides, lhs_alone)) + r" \end{aligned}"


def stacked(*equations: tuple[str, str | Sequence[str]]) -> str:
    """Equations ``(lhs, side)`` one under another, aligned at their ``=`` and separated by commas, instead of side
    by side on one line; a side given as lines continues on indented lines, as in :func:`aligned`."""
    blocks = [r" \\ ".join(_rows(lhs, [side], lhs_alone=False)) for lhs, side in equations]
    return r"\begin{aligned} " + r", \\ ".join(blocks) + r" \end{aligned}"


__all__ = ["aligned", "stacked", "sum_lines"]
