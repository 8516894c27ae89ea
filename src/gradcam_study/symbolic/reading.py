"""The derivation chapter's reading of the statements: what SymPy finds for each, in words (glued into the chapter's
Markdown), the displayed equations as LaTeX (laid out by :mod:`.layout` to fit the page) and the summary table.

Every statement of :mod:`.statements` is built once by :func:`derivation_reading`; the chapter glues
``reading.phrases`` and displays ``reading.math[section]``.

>>> found_all([compare(sp.Symbol("x"), sp.Symbol("x"))])
'the difference simplifies to 0 in all 1 cases'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import sympy as sp

from gradcam_study.symbolic import objections as ob
from gradcam_study.symbolic import statements as st
from gradcam_study.symbolic.layout import aligned, stacked, sum_lines
from gradcam_study.symbolic.statements import Comparison, compare, latex


def found(comparison: Comparison) -> str:
    """What SymPy found for one comparison: ``"the difference simplifies to 0"``, or the difference it left."""
    return "the difference simplifies to 0" if comparison.equal else f"the difference is {comparison.difference}"


def found_all(comparisons: Iterable[Comparison]) -> str:
    """What SymPy found for several comparisons of one kind (one per class, unit or map), in one clause."""
    comparisons = list(comparisons)
    unequal = [c.difference for c in comparisons if not c.equal]
    if not unequal:
        return f"the difference simplifies to 0 in all {len(comparisons)} cases"
    return f"{len(unequal)} of {len(comparisons)} differences are not 0: {unequal}"


def shown(lhs: str, expr: sp.Expr, per_line: int = 1, inner_per_line: int | None = None, lhs_alone: bool = False) -> str:
    """LaTeX of ``lhs = expr``, a long sum broken after every ``per_line`` terms (and a long sum inside a term after
    every ``inner_per_line`` terms; a long ``lhs`` on a line of its own), so that it fits the page's column."""
    return aligned(lhs, sum_lines(expr, per_line, inner_per_line), lhs_alone=lhs_alone)


@dataclass(frozen=True)
class DerivationReading:
    """The chapter's reading: ``phrases`` (glue key -> text), ``math`` (section -> LaTeX displays, in order),
    ``summary`` (statement -> what SymPy finds) and the summary's ``caption`` (provenance line)."""

    phrases: dict[str, str]
    math: dict[str, list[str]]
    summary: pd.DataFrame
    caption: str


def derivation_reading(layer: st.Layer = st.SMALL_LAYER) -> DerivationReading:
    """Build every statement of the derivation chapter on ``layer`` and read it: phrases, displays, summary."""
    phrases: dict[str, str] = {}
    math: dict[str, list[str]] = {}

    with_relu = st.score_through_alphas(layer, with_relu=True)
    without_relu = st.score_through_alphas(layer, with_relu=False)
    math["eq6"] = [shown("Y", with_relu.comparison.lhs, inner_per_line=2)]
    phrases.update({"eq6-with-relu": found(with_relu.comparison), "eq6-without-relu": found(without_relu.comparison)})

    alphas = st.alphas_from_exponential_score(layer)
    math["eq9"] = [
        stacked((r"\alpha^1_{11}", latex(alphas.eq8)), ("g", latex(alphas.gradient))),
        aligned(r"\alpha^1_{11}\big|_{Y = e^S}", latex(alphas.eq9.lhs), latex(alphas.eq9.rhs)),
    ]
    phrases["eq9"] = found(alphas.eq9)

    system = ob.underdetermined_system(layer, classes=2)
    r = next(iter(system.products))
    # Sixteen columns do not fit a page: the coefficients of the alphas four columns (one map of one class) at a time.
    coefficients = r"\begin{aligned} " + r" \\ ".join(
        rf"\text{{coefficients of }} {latex(system.unknowns[start])}, \dots, {latex(system.unknowns[start + 3])} &: "
        + latex(system.coefficients[:, start : start + 4])
        for start in range(0, len(system.unknowns), 4)
    ) + r" \end{aligned}"
    math["eq10"] = [
        *(shown(latex(equation.lhs), equation.rhs, per_line=4) for equation in system.equations),
        latex(r) + " = " + latex(system.products[r]),
        coefficients,
    ]
    phrases.update({
        "eq10": found_all(system.eq6_as_eq10),
        "eq10-equations": str(len(system.equations)),
        "eq10-unknowns": str(len(system.unknowns)),
        "eq10-rank": str(system.rank),
        "eq10-nullity": str(system.nullity),
        "eq10-free": str(system.free_unknowns_in_general_solution),
    })
    first_alpha = system.unknowns[0]
    for name, solution in zip(("equal", "proportional"), system.solutions):
        first_share = next(iter(solution.shares))
        math[f"eq11-{name}"] = [stacked((latex(first_share), latex(solution.shares[first_share])),
                                        (latex(first_alpha), latex(solution.alphas[first_alpha])))]
        phrases[f"eq11-{name}-sums"] = str(solution.share_sums)
        phrases[f"eq11-{name}"] = found_all(solution.residuals)
    math["eq11-difference"] = [shown(r"\text{difference}", system.solutions_difference[first_alpha])]

    analogue = ob.constant_treated_as_constant_analogue()
    math["analogue"] = [latex(analogue.equation) + r"\quad\Rightarrow\quad " + latex(analogue.naive_derivative)]
    math["analogue-correct"] = [latex(analogue.correct_derivative) + r"\quad\Rightarrow\quad "
                                + latex(analogue.correct_derivative_general_solution)]
    phrases.update({
        "analogue-naive": str(analogue.naive_solution),
        "analogue-actual": str(analogue.actual_solution),
        "analogue": found(analogue.naive_against_actual),
        "analogue-correct": found(analogue.correct_derivative_at_actual_solution),
    })

    derivative = st.derivative_of_eq6(layer)
    mixed = derivative.against_eq7.difference
    mixed_by_derivative = sp.collect(mixed, mixed.atoms(sp.Derivative), func=sp.factor)
    mixed_terms = len(sp.Add.make_args(mixed_by_derivative))
    math["eq18"] = [shown(r"\text{derivative of (6)} - \text{(7)}", mixed_by_derivative, lhs_alone=True)]
    witness = derivative.witness
    math["witness"] = [r"Y = " + latex(witness.score) + r", \quad \text{derivative of (6)} - \text{(7)} = "
                       + latex(witness.value)]
    phrases.update({
        "eq18": found(derivative.against_eq18),
        "eq7-terms": str(mixed_terms),
        "witness": str(witness.value),
        "witness-value": f"{float(witness.value):.4g}",
    })

    varying = st.derivative_of_eq6_varying_alphas(layer)
    extra = varying.against_eq18.difference
    gradients = [d for d in extra.atoms(sp.Derivative) if d.expr == varying.score]
    math["eq19"] = [shown(r"\text{derivative of (6)} - \text{(18)}", sp.collect(extra, gradients, func=sp.factor),
                          lhs_alone=True)]
    phrases.update({"eq19": found(varying.against_eq19), "eq19-terms": str(len(gradients))})

    linear = ob.linear_term_invariance(layer)
    change = linear.residual_change.difference
    math["linear"] = [shown(r"\text{residual}(Y + L) - \text{residual}(Y)",
                            sp.collect(change, list(linear.slopes.values()), func=sp.factor), lhs_alone=True)]
    offset_derivative = sp.diff(change, linear.offset)
    phrases.update({"linear": found_all(linear.alphas.values()), "linear-offset": str(offset_derivative)})

    base = ob.base_changes_alphas(layer)
    # Written with g, the gradient of S, as above; numerator and denominator on lines of their own.
    g = sp.Symbol("g")
    numerator, denominator = sp.fraction(sp.factor(base.comparison.difference.subs(alphas.gradient, g)))
    math["base"] = [stacked((r"\alpha\big|_{Y = a^S} - \alpha\big|_{Y = e^S}", r"\frac{N}{D}"),
                            ("N", latex(numerator)), ("D", sum_lines(denominator, inner_per_line=2)))]
    phrases.update({"eq12": found(alphas.eq12), "bases": str(base.bases_where_equal)})

    math["eq13"] = [aligned(latex(alphas.eq13.lhs), latex(alphas.eq13.rhs), lhs_alone=True)]
    phrases.update({
        "eq13": found(alphas.eq13),
        "eq9-at-zero": str(alphas.eq9_at_zero_gradient),
        "eq13-at-zero": str(alphas.eq13_at_zero_gradient),
    })

    half = st.half_alphas_make_gc_plus(layer)
    weight = half.weights[0]
    math["half-weights"] = [stacked((r"w^{1}_{\mathrm{GC++}}", sum_lines(weight.lhs, per_line=2)),
                                    (r"\tfrac{Z}{2}\, w^{1}_{\mathrm{GC+}}", sum_lines(weight.rhs, per_line=2)))]
    normalised = half.normalised[(0, 0)]
    math["half-normalised"] = [aligned(latex(normalised.lhs), latex(normalised.rhs), lhs_alone=True)]
    phrases.update({
        "half-scale": str(half.scale),
        "half-weights": found_all(half.weights.values()),
        "half-heatmaps": found_all(half.heatmaps.values()),
        "half-normalised": found_all(half.normalised.values()),
    })

    outcomes = {
        "(5) with (4) = (6)": found(without_relu.comparison),
        "(8) with Y = e^S = (9)": found(alphas.eq9),
        "(6) = (10)": found_all(system.eq6_as_eq10),
        "rank, solution dimension of (10), 2 classes": f"{system.rank}, {system.nullity}",
        "two solutions (11) satisfy (10)": found_all(c for solution in system.solutions for c in solution.residuals),
        "analogue: naive c - actual c": found(analogue.naive_against_actual),
        "derivative of (6) = (18)": found(derivative.against_eq18),
        "derivative of (6) = (7)": f"no: {mixed_terms} mixed terms remain",
        "varying alphas: derivative of (6) = (19)": found(varying.against_eq19),
        "(8) unchanged by a linear term": found_all(linear.alphas.values()),
        "residual of (6) changed by a linear term": f"its derivative in d is {offset_derivative}",
        "(8) with Y = a^S = (12)": found(alphas.eq12),
        "bases giving the alphas of (9)": str(base.bases_where_equal),
        "(9) = (13) for g != 0": found(alphas.eq13),
        "alphas 1/2: normalised GC++ = GC+": found_all(half.normalised.values()),
    }
    summary = pd.DataFrame({"what SymPy finds": outcomes}).rename_axis("statement")
    caption = (f"SymPy {sp.__version__}; {layer.maps} feature maps of {layer.height}×{layer.width} units, the score an "
               "undefined function of the activations")
    return DerivationReading(phrases=phrases, math=math, summary=summary, caption=caption)


__all__ = ["DerivationReading", "compare", "derivation_reading", "found", "found_all", "shown"]
