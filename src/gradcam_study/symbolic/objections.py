"""§3.1 of Lerma & Lucas (2022), built in SymPy: the objections to the derivation of the Grad-CAM++ alphas
(an underdetermined system, a constant treated as a constant, the invariance to a linear term, a change of base).

Like :mod:`gradcam_study.symbolic.statements`, each public function builds one statement on a small concrete layer
and returns the expressions being compared with the simplified difference SymPy found; nothing here asserts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .statements import SMALL_LAYER, Comparison, Layer, Unit, compare
# The equations both modules build on (the paper's eq. (6) and (8), the gradients of a score, a linear pre-softmax score).
from .statements import _eq6_rhs, _eq8_alpha, _gradients, _linear_pre_softmax_score


# --- §3.1.1, eq. (10)-(11) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaSolution:
    """One solution of eq. (10) in the form of eq. (11): ``alpha = beta Y / R``, the shares ``beta`` summing to 1."""

    shares: dict[sp.Symbol, sp.Expr]
    alphas: dict[sp.Symbol, sp.Expr]
    share_sums: tuple[sp.Expr, ...]
    residuals: tuple[Comparison, ...]


@dataclass(frozen=True)
class UnderdeterminedSystem:
    """Eq. (10) as a linear system in the alphas: its rank, the dimension of its solutions, two solutions."""

    equations: tuple[sp.Eq, ...]
    unknowns: tuple[sp.Symbol, ...]
    products: dict[sp.Symbol, sp.Expr]
    coefficients: sp.Matrix
    rank: int
    nullity: int
    free_unknowns_in_general_solution: int
    eq6_as_eq10: tuple[Comparison, ...]
    solutions: tuple[AlphaSolution, AlphaSolution]
    solutions_difference: dict[sp.Symbol, sp.Expr]


def underdetermined_system(layer: Layer = SMALL_LAYER, classes: int = 2) -> UnderdeterminedSystem:
    """Eq. (6) without the ReLU, rewritten as eq. (10) ``Y^c = sum_k sum_ij alpha^kc_ij R^kc_ij`` with
    ``R^kc_ij = g^kc_ij sum_ab A^k_ab`` (``g`` the gradient), for ``classes`` classes.

    Returns the rank of the system in the alphas and the dimension of its solution set (counted twice: by
    rank-nullity and by the free unknowns of SymPy's ``linsolve``), and two solutions of the form of eq. (11),
    ``alpha = beta Y / R``: equal shares ``beta = 1/N``, and shares proportional to ``R`` (all alphas of a class
    equal).
    The ``R`` are kept as nonzero symbols, as eq. (11) requires, and ``products`` says what each one stands for.
    """
    scores = tuple(sp.Symbol(f"Y^{c + 1}") for c in range(classes))
    alphas: dict[tuple[int, int, int, int], sp.Symbol] = {}
    gradients: dict[tuple[int, int, int, int], sp.Symbol] = {}
    products: dict[tuple[int, int, int, int], sp.Symbol] = {}
    for c in range(classes):
        for k, i, j in layer.units:
            name = f"^{k + 1},{c + 1}_{i + 1}{j + 1}"
            alphas[c, k, i, j] = sp.Symbol(f"alpha{name}")
            gradients[c, k, i, j] = sp.Symbol(f"g{name}", real=True)
            products[c, k, i, j] = sp.Symbol(f"R{name}", nonzero=True)
    definitions = {products[key]: gradients[key] * layer.map_sum(key[1]) for key in products}
    per_class = [[key for key in alphas if key[0] == c] for c in range(classes)]

    eq10_rhs = [sp.Add(*(alphas[key] * products[key] for key in keys)) for keys in per_class]
    eq6_as_eq10 = tuple(
        compare(
            _eq6_rhs(
                layer,
                {key[1:]: alphas[key] for key in keys},
                {key[1:]: gradients[key] for key in keys},
                with_relu=False,
            ),
            rhs.subs(definitions),
        )
        for keys, rhs in zip(per_class, eq10_rhs)
    )
    equations = tuple(sp.Eq(score, rhs) for score, rhs in zip(scores, eq10_rhs))
    unknowns = tuple(alphas.values())
    coefficients, _ = sp.linear_eq_to_matrix([eq.rhs - eq.lhs for eq in equations], list(unknowns))
    rank = coefficients.rank()
    (general,) = sp.linsolve(list(equations), list(unknowns))
    free_unknowns = len(set(unknowns) & set().union(*(entry.free_symbols for entry in general)))

    def solution(share_of: dict[tuple[int, int, int, int], sp.Expr]) -> AlphaSolution:
        solved = {alphas[key]: share_of[key] * scores[key[0]] / products[key] for key in alphas}
        return AlphaSolution(
            shares={
                sp.Symbol(f"beta^{key[1] + 1},{key[0] + 1}_{key[2] + 1}{key[3] + 1}"): share_of[key] for key in alphas
            },
            alphas=solved,
            share_sums=tuple(sp.simplify(sp.Add(*(share_of[key] for key in keys))) for keys in per_class),
            residuals=tuple(compare(rhs.subs(solved), score) for rhs, score in zip(eq10_rhs, scores)),
        )

    equal_shares = solution({key: sp.Rational(1, len(per_class[key[0]])) for key in alphas})
    proportional_shares = solution(
        {key: products[key] / sp.Add(*(products[other] for other in per_class[key[0]])) for key in alphas}
    )
    return UnderdeterminedSystem(
        equations=equations,
        unknowns=unknowns,
        products=definitions,
        coefficients=coefficients,
        rank=rank,
        nullity=len(unknowns) - rank,
        free_unknowns_in_general_solution=free_unknowns,
        eq6_as_eq10=eq6_as_eq10,
        solutions=(equal_shares, proportional_shares),
        solutions_difference={
            alpha: sp.simplify(equal_shares.alphas[alpha] - proportional_shares.alphas[alpha]) for alpha in unknowns
        },
    )


# --- §3.1.2 ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstantTreatedAsConstantAnalogue:
    """``c x = x^2`` solved for ``c`` by differentiating with ``c`` held constant, and correctly."""

    equation: sp.Eq
    naive_derivative: sp.Eq
    naive_solution: sp.Expr
    actual_solution: sp.Expr
    naive_against_actual: Comparison
    correct_derivative: sp.Eq
    correct_derivative_at_actual_solution: Comparison
    correct_derivative_general_solution: sp.Eq


def constant_treated_as_constant_analogue() -> ConstantTreatedAsConstantAnalogue:
    """§3.1.2's analogue: differentiating ``c x = x^2`` with ``c`` held constant "gives" ``c = 2x``, while the
    equation's solution is ``c = x``. Keeping ``dc/dx`` gives ``c + x dc/dx = 2x``: true at ``c = x``, but its
    general solution ``c = x + C1/x`` shows that it does not isolate ``c``.
    """
    x = sp.Symbol("x", nonzero=True)
    constant = sp.Symbol("c")
    varying = sp.Function("c")(x)
    equation = sp.Eq(constant * x, x**2)
    naive_derivative = sp.Eq(sp.diff(equation.lhs, x), sp.diff(equation.rhs, x))
    (naive_solution,) = sp.solve(naive_derivative, constant)
    (actual_solution,) = sp.solve(equation, constant)
    correct_derivative = sp.Eq(sp.diff(varying * x, x), sp.diff(x**2, x))
    return ConstantTreatedAsConstantAnalogue(
        equation=equation,
        naive_derivative=naive_derivative,
        naive_solution=naive_solution,
        actual_solution=actual_solution,
        naive_against_actual=compare(naive_solution, actual_solution),
        correct_derivative=correct_derivative,
        correct_derivative_at_actual_solution=compare(
            correct_derivative.lhs.subs(varying, actual_solution).doit(), correct_derivative.rhs
        ),
        correct_derivative_general_solution=sp.dsolve(correct_derivative, varying),
    )


# --- §3.1.4 ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearTermInvariance:
    """Eq. (8)'s alphas for ``Y`` and for ``Y + L`` (``L`` linear), and how eq. (6)'s residual changes."""

    score: sp.Expr
    linear_term: sp.Expr
    slopes: dict[Unit, sp.Symbol]
    offset: sp.Symbol
    alphas: dict[Unit, Comparison]
    residual_change: Comparison


def linear_term_invariance(layer: Layer = SMALL_LAYER) -> LinearTermInvariance:
    """Add ``L = sum_k sum_ij c^k_ij A^k_ij + d`` to a generic score ``Y``: eq. (8) gives the same alpha at
    every unit (second and third derivatives kill ``L``), while the residual ``Y - (6)`` of eq. (6), with
    those shared alphas, changes by ``L - sum_k (sum_ab alpha^k_ab c^k_ab) sum_ij A^k_ij``, so the alphas
    cannot solve eq. (6) for both scores.
    """
    score = layer.score()
    activations = layer.activations()
    slopes = layer.symbols("c", real=True)
    offset = sp.Symbol("d", real=True)
    linear_term = sp.Add(*(slopes[unit] * activations[unit] for unit in layer.units)) + offset
    shifted = score + linear_term
    shared_alphas = layer.symbols("alpha")

    def residual(of: sp.Expr) -> sp.Expr:
        return of - _eq6_rhs(layer, shared_alphas, _gradients(layer, of), with_relu=False)

    return LinearTermInvariance(
        score=score,
        linear_term=linear_term,
        slopes=slopes,
        offset=offset,
        alphas={
            unit: compare(_eq8_alpha(layer, shifted, unit), _eq8_alpha(layer, score, unit)) for unit in layer.units
        },
        residual_change=compare(residual(shifted), residual(score)),
    )


# --- §3.1.5 ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseChangesAlphas:
    """Eq. (8)'s alpha for ``Y = a^S`` against ``Y = exp(S)``, and the bases at which they agree."""

    base: sp.Symbol
    gradient: sp.Expr
    comparison: Comparison
    bases_where_equal: tuple[sp.Expr, ...]


def base_changes_alphas(layer: Layer = SMALL_LAYER, unit: Unit = (0, 0, 0)) -> BaseChangesAlphas:
    """Eq. (8) at ``unit`` with ``Y = a^S`` (which gives eq. (12)) minus eq. (8) with ``Y = exp(S)`` (eq. (9)),
    ``S`` linear, and the positive bases ``a`` for which the difference vanishes.
    """
    pre_softmax, gradient, linear = _linear_pre_softmax_score(layer, unit)
    base = sp.Symbol("a", positive=True)
    comparison = compare(
        _eq8_alpha(layer, base**pre_softmax, unit).subs(linear),
        _eq8_alpha(layer, sp.exp(pre_softmax), unit).subs(linear),
    )
    return BaseChangesAlphas(
        base=base,
        gradient=gradient,
        comparison=comparison,
        bases_where_equal=tuple(sp.solve(comparison.difference, base)),
    )


