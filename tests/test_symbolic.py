"""The algebraic statements of the paper's §2.2, §3.1, §3.3 and Appendix A, asserted with SymPy.

Where the paper says two expressions are equal the test asserts ``simplify(lhs - rhs) == 0``; where it says
they differ, it asserts a specific non-zero difference, so that an accidental cancellation would fail it.
"""

from __future__ import annotations

import pytest
import sympy as sp

from gradcam_study import symbolic
from gradcam_study.symbolic import SMALL_LAYER


def vanishes(comparison: symbolic.Comparison) -> bool:
    return sp.simplify(comparison.lhs - comparison.rhs) == 0


def vanishes_piecewise(comparison: symbolic.Comparison) -> bool:
    """``simplify`` proves ReLU and min/max identities only once ``Max``/``Min`` are written with ``Abs``."""
    return sp.simplify((comparison.lhs - comparison.rhs).rewrite(sp.Abs)) == 0


def terms(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    return sp.Add.make_args(sp.expand(expr))


@pytest.mark.parametrize("with_relu", [False, True])
def test_eq5_with_eq4_weights_is_eq6(with_relu: bool) -> None:
    statement = symbolic.score_through_alphas(with_relu=with_relu)
    assert vanishes(statement.comparison)
    assert statement.comparison.lhs.has(sp.Max) == with_relu


@pytest.mark.parametrize("unit", [(0, 0, 0), (1, 1, 0)])
def test_derivative_of_eq6_is_eq18(unit: symbolic.Unit) -> None:
    assert vanishes(symbolic.derivative_of_eq6(unit=unit).against_eq18)


def test_derivative_of_eq6_is_not_eq7() -> None:
    statement = symbolic.derivative_of_eq6()
    difference = sp.simplify(statement.against_eq7.lhs - statement.against_eq7.rhs)
    assert difference != 0
    activations = SMALL_LAYER.activations()
    differentiated = activations[statement.unit]
    # What eq. (7) leaves out is exactly the mixed second derivatives: one per other unit, any feature map.
    second_derivatives = difference.atoms(sp.Derivative)
    assert all(d.derivative_count == 2 for d in second_derivatives)
    partners = {v for d in second_derivatives for v in d.variables} - {differentiated}
    assert partners == set(activations.values()) - {differentiated}
    assert all(differentiated in d.variables and len(set(d.variables)) == 2 for d in second_derivatives)


def test_eq7_fails_for_an_exponential_score() -> None:
    statement = symbolic.derivative_of_eq6()
    witness = statement.witness
    at_witness = (statement.against_eq7.lhs - statement.against_eq7.rhs).subs(statement.score, witness.score)
    value = sp.simplify(at_witness.doit().subs(witness.point))
    # Y = exp(sum A): every second derivative is Y = e^8; 7 mixed terms, each alpha (1/2) times a map sum (4).
    assert value == 7 * sp.Rational(1, 2) * 4 * sp.exp(8)
    assert witness.value == value


def test_varying_alphas_add_the_term_of_eq19() -> None:
    statement = symbolic.derivative_of_eq6_varying_alphas()
    assert vanishes(statement.against_eq19)
    extra = sp.simplify(statement.against_eq18.lhs - statement.against_eq18.rhs)
    assert extra != 0
    alpha_functions = set(statement.alphas.values())
    differentiated = SMALL_LAYER.activations()[statement.unit]
    for term in terms(extra):
        (alpha_derivative,) = [d for d in term.atoms(sp.Derivative) if d.expr in alpha_functions]
        assert alpha_derivative.variables == (differentiated,)
    assert len(terms(extra)) == len(SMALL_LAYER.units) * SMALL_LAYER.size


def test_eq8_with_exponential_score_gives_eq9_eq12_eq13() -> None:
    statement = symbolic.alphas_from_exponential_score()
    assert vanishes(statement.eq9)
    assert vanishes(statement.eq12)
    assert vanishes(statement.eq13)
    assert sp.simplify(statement.eq12.rhs.subs(statement.base, sp.E) - statement.eq9.rhs) == 0
    assert statement.eq9_at_zero_gradient is sp.nan
    assert statement.eq13_at_zero_gradient == sp.Rational(1, 2)


def test_eq6_is_underdetermined() -> None:
    statement = symbolic.underdetermined_system(classes=2)
    unknowns_per_class = len(SMALL_LAYER.units)
    assert len(statement.unknowns) == 2 * unknowns_per_class
    assert statement.rank == 2
    assert statement.nullity == 2 * unknowns_per_class - 2
    assert statement.free_unknowns_in_general_solution == statement.nullity
    assert all(vanishes(comparison) for comparison in statement.eq6_as_eq10)


def test_two_different_eq11_solutions_satisfy_eq10() -> None:
    statement = symbolic.underdetermined_system(classes=2)
    for solution in statement.solutions:
        assert solution.share_sums == (1, 1)
        assert all(share.name.startswith("beta^") for share in solution.shares)
        assert all(vanishes(residual) for residual in solution.residuals)
    first, second = statement.solutions
    distinct_products = {r: index + 1 for index, r in enumerate(statement.products)}
    scores = {s: 1 for eq in statement.equations for s in eq.lhs.free_symbols}
    differing = [
        alpha
        for alpha in statement.unknowns
        if (first.alphas[alpha] - second.alphas[alpha]).subs(distinct_products).subs(scores) != 0
    ]
    assert differing == list(statement.unknowns)


def test_holding_a_variable_constant_solves_the_analogue_wrongly() -> None:
    statement = symbolic.constant_treated_as_constant_analogue()
    (x,) = statement.equation.rhs.free_symbols
    assert statement.naive_solution == 2 * x
    assert statement.actual_solution == x
    assert sp.simplify(statement.naive_against_actual.lhs - statement.naive_against_actual.rhs) == x
    assert vanishes(statement.correct_derivative_at_actual_solution)
    general = statement.correct_derivative_general_solution.rhs
    (constant,) = general.free_symbols - {x}
    spurious = general.subs(constant, 1)
    # c = x + 1/x satisfies the differentiated equation but misses the original one by exactly 1.
    assert sp.simplify(sp.diff(spurious * x, x) - 2 * x) == 0
    assert sp.simplify((statement.equation.lhs - statement.equation.rhs).subs(sp.Symbol("c"), spurious)) == 1


def test_a_linear_term_leaves_the_alphas_but_changes_eq6() -> None:
    statement = symbolic.linear_term_invariance()
    assert len(statement.alphas) == len(SMALL_LAYER.units)
    assert all(vanishes(comparison) for comparison in statement.alphas.values())
    change = sp.simplify(statement.residual_change.lhs - statement.residual_change.rhs)
    assert sp.diff(change, statement.offset) == 1
    # Per slope c^k_ij the change is A^k_ij - alpha^k_ij sum_ab A^k_ab, not 0 unless alpha is tuned to A.
    alphas = SMALL_LAYER.symbols("alpha")
    activations = SMALL_LAYER.activations()
    for unit, slope in statement.slopes.items():
        expected = activations[unit] - alphas[unit] * SMALL_LAYER.map_sum(unit[0])
        assert sp.expand(sp.diff(change, slope) - expected) == 0


def test_the_base_changes_the_alphas() -> None:
    statement = symbolic.base_changes_alphas()
    difference = sp.simplify(statement.comparison.lhs - statement.comparison.rhs)
    assert difference != 0
    assert statement.bases_where_equal == (sp.E,)
    point = {statement.gradient: 1, **{a: 1 for a in SMALL_LAYER.activations().values()}}
    # g = 1, sum_ab A_ab = 4: eq. (12) at a = 2 is 1/(2 + 4 ln 2), eq. (9) is 1/6.
    at_base_two = difference.subs(point).subs(statement.base, 2)
    assert sp.simplify(at_base_two - (1 / (2 + 4 * sp.log(2)) - sp.Rational(1, 6))) == 0
    assert sp.simplify(difference.subs(statement.base, sp.E)) == 0


def test_half_alphas_make_grad_cam_plus_plus_a_multiple_of_grad_cam_plus() -> None:
    statement = symbolic.half_alphas_make_gc_plus()
    assert statement.scale == sp.Rational(SMALL_LAYER.size, 2)
    assert len(statement.weights) == SMALL_LAYER.maps
    assert all(vanishes(comparison) for comparison in statement.weights.values())
    assert len(statement.heatmaps) == SMALL_LAYER.size
    assert all(vanishes_piecewise(comparison) for comparison in statement.heatmaps.values())
    assert all(vanishes_piecewise(comparison) for comparison in statement.normalised.values())


def test_min_max_normalise_maps_the_range_onto_the_unit_interval() -> None:
    values = sp.symbols("h_1:4", nonnegative=True)
    point = dict(zip(values, (2, 3, 6)))
    assert [e.subs(point) for e in symbolic.min_max_normalise(values)] == [0, sp.Rational(1, 4), 1]


def test_latex_prints_undefined_functions_by_name() -> None:
    score = SMALL_LAYER.score()
    printed = symbolic.latex(score.diff(SMALL_LAYER.activations()[0, 0, 0]) ** 2)
    assert "A^{1}_{12}" not in printed
    assert printed == r"\left(\frac{\partial}{\partial A^{1}_{11}} Y\right)^{2}"


def test_layout_breaks_long_sums_and_products_into_lines() -> None:
    from gradcam_study.symbolic.layout import aligned, stacked, sum_lines

    a, b, c, d, x = sp.symbols("a b c d x")
    assert sum_lines(a + b - c + d, per_line=2) == ["a + b", "- c + d"]
    # A product with a long sum: its other factors first, then the sum two terms a line, in big parentheses.
    broken = sum_lines((a + b) * (x + c + d + 2) + 1, per_line=1, inner_per_line=2)
    assert broken[0].startswith(r"\left(a + b\right) \Bigl(") and broken[1].endswith(r"\Bigr)")
    assert len(broken) == 3 and broken[2] == "+ 1"
    assert aligned("y", ["a", "+ b"], "c") == r"\begin{aligned} y &= a \\ &\quad + b \\ &= c \end{aligned}"
    assert aligned("y", "a", lhs_alone=True) == r"\begin{aligned} & y \\ &= a \end{aligned}"
    assert stacked(("u", "a"), ("v", "b")) == r"\begin{aligned} u &= a, \\ v &= b \end{aligned}"
