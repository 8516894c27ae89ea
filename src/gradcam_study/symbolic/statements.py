"""The algebraic statements of Lerma & Lucas (2022), §2.2, §3.3 and Appendix A, built in SymPy (§3.1's objections
to the alphas' derivation are in :mod:`gradcam_study.symbolic.objections`).

Each public function builds one statement on a small concrete layer (by default 2 feature maps of 2×2
units), with SymPy symbols for the activations ``A^k_ij``, the alphas and the weights, and an undefined
function ``Y`` of all the activations for the class score. It returns a frozen dataclass holding the
expressions being compared and the simplified difference SymPy found; nothing here asserts the outcome.

Unit indices ``(k, i, j)`` are zero-based in Python and printed one-based, as ``A^{k+1}_{i+1 j+1}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter

Unit = tuple[int, int, int]
"""A unit of the layer as ``(k, i, j)``: feature map ``k``, row ``i``, column ``j`` (zero-based)."""


@dataclass(frozen=True)
class Layer:
    """The concrete case a statement is built on: ``maps`` feature maps of ``height`` × ``width`` units."""

    maps: int = 2
    height: int = 2
    width: int = 2

    @property
    def size(self) -> int:
        """``Z``, the number of units of one feature map (the divisor of eq. (1) and eq. (3))."""
        return self.height * self.width

    @property
    def units(self) -> tuple[Unit, ...]:
        """Every unit of the layer, map by map, row by row."""
        return tuple((k, i, j) for k in range(self.maps) for i in range(self.height) for j in range(self.width))

    def map_units(self, k: int) -> tuple[Unit, ...]:
        """The units of feature map ``k``."""
        return tuple(unit for unit in self.units if unit[0] == k)

    def symbols(self, letter: str, **assumptions: bool) -> dict[Unit, sp.Symbol]:
        """One symbol per unit, named ``letter^k_ij`` so that it prints like the paper's notation."""
        return {(k, i, j): sp.Symbol(f"{letter}^{k + 1}_{i + 1}{j + 1}", **assumptions) for k, i, j in self.units}

    def functions_of_activations(self, letter: str) -> dict[Unit, sp.Expr]:
        """One undefined function of all the activations per unit, named like :meth:`symbols`."""
        activations = tuple(self.activations().values())
        return {(k, i, j): sp.Function(f"{letter}^{k + 1}_{i + 1}{j + 1}")(*activations) for k, i, j in self.units}

    def activations(self) -> dict[Unit, sp.Symbol]:
        """The activations ``A^k_ij``, independent real variables (Appendix A, assumption 2)."""
        return self.symbols("A", real=True)

    def score(self, name: str = "Y") -> sp.Expr:
        """A generic class score: an undefined function of every activation of the layer."""
        return sp.Function(name)(*self.activations().values())

    def map_sum(self, k: int) -> sp.Expr:
        """``sum_ab A^k_ab``, the global sum pooling of feature map ``k``."""
        activations = self.activations()
        return sp.Add(*(activations[unit] for unit in self.map_units(k)))


SMALL_LAYER = Layer()
"""Two feature maps of 2×2 units: large enough to have cross-map and mixed terms, small enough to print."""


@dataclass(frozen=True)
class Comparison:
    """Two expressions the paper relates, and ``simplify(lhs - rhs)`` as SymPy returned it."""

    lhs: sp.Expr
    rhs: sp.Expr
    difference: sp.Expr

    @property
    def equal(self) -> bool:
        """Whether SymPy simplified the difference to exactly zero."""
        return self.difference == 0


def compare(lhs: sp.Expr, rhs: sp.Expr) -> Comparison:
    """Compare two expressions by simplifying their difference.

    ``Max``/``Min`` (ReLU, min-max normalisation) are rewritten with ``Abs`` first: ``simplify`` cannot
    take a positive factor out of ``Max``, but it does out of ``Abs``.
    """
    difference = lhs - rhs
    if difference.has(sp.Max, sp.Min):
        difference = difference.rewrite(sp.Abs)
    return Comparison(lhs=lhs, rhs=rhs, difference=sp.simplify(difference))


def relu(x: sp.Expr) -> sp.Expr:
    """``ReLU(x) = max(0, x)``."""
    return sp.Max(0, x)


def _rectifier(with_relu: bool) -> Callable[[sp.Expr], sp.Expr]:
    """ReLU, or the identity where the derivation removes the ReLU."""
    return relu if with_relu else (lambda x: x)


class _CompactLatexPrinter(LatexPrinter):
    """Prints ``Y(A^1_11, ..., A^2_22)`` as ``Y``: every undefined function here takes all the activations."""

    def _print_Function(self, expr: sp.Expr, exp: str | None = None) -> str:
        if isinstance(expr, AppliedUndef):
            name = self._deal_with_super_sub(expr.func.__name__)
            return name if exp is None else f"{{{name}}}^{{{exp}}}"
        return super()._print_Function(expr, exp)


def latex(expr: sp.Basic) -> str:
    """LaTeX for ``expr`` as :func:`sympy.latex` writes it, with undefined functions printed by name only."""
    return _CompactLatexPrinter().doprint(expr)


def _gradients(layer: Layer, score: sp.Expr) -> dict[Unit, sp.Expr]:
    activations = layer.activations()
    return {unit: score.diff(activations[unit]) for unit in layer.units}


def _eq6_rhs(
    layer: Layer,
    alphas: Mapping[Unit, sp.Expr],
    gradients: Mapping[Unit, sp.Expr],
    *,
    with_relu: bool,
) -> sp.Expr:
    """``sum_k sum_ij [ sum_ab alpha^k_ab ReLU(dY/dA^k_ab) ] A^k_ij``, eq. (6), with or without the ReLU."""
    activations = layer.activations()
    rectify = _rectifier(with_relu)
    terms: list[sp.Expr] = []
    for k in range(layer.maps):
        bracket = sp.Add(*(alphas[ab] * rectify(gradients[ab]) for ab in layer.map_units(k)))
        terms.extend(bracket * activations[ij] for ij in layer.map_units(k))
    return sp.Add(*terms)


def _eq7_rhs(layer: Layer, score: sp.Expr, alphas: Mapping[Unit, sp.Expr], unit: Unit) -> sp.Expr:
    """Eq. (7)'s right side (the Grad-CAM++ paper's eq. (8)) for the derivative with respect to ``A`` at ``unit``."""
    activations = layer.activations()
    own_map = layer.map_units(unit[0])
    first_order = sp.Add(*(alphas[ab] * score.diff(activations[ab]) for ab in own_map))
    second_order = sp.Add(*(activations[ab] * (alphas[unit] * score.diff(activations[unit], 2)) for ab in own_map))
    return first_order + second_order


def _eq18_rhs(layer: Layer, score: sp.Expr, alphas: Mapping[Unit, sp.Expr], unit: Unit) -> sp.Expr:
    """The right side of eq. (18) for the derivative with respect to ``A`` at ``unit``."""
    activations = layer.activations()
    first_order = sp.Add(*(alphas[ab] * score.diff(activations[ab]) for ab in layer.map_units(unit[0])))
    second_order = sp.Add(
        *(
            sp.Add(
                *(
                    alphas[primed] * score.diff(activations[primed], activations[unit])
                    for primed in layer.map_units(k_prime)
                )
            )
            * activations[ab]
            for k_prime in range(layer.maps)
            for ab in layer.map_units(k_prime)
        )
    )
    return first_order + second_order


def _eq19_extra_term(layer: Layer, score: sp.Expr, alphas: Mapping[Unit, sp.Expr], unit: Unit) -> sp.Expr:
    """The term eq. (19) adds to eq. (18) when the alphas depend on the activations."""
    activations = layer.activations()
    return sp.Add(
        *(
            sp.Add(
                *(
                    alphas[primed].diff(activations[unit]) * score.diff(activations[primed])
                    for primed in layer.map_units(k_prime)
                )
            )
            * activations[ab]
            for k_prime in range(layer.maps)
            for ab in layer.map_units(k_prime)
        )
    )


def _eq8_alpha(layer: Layer, score: sp.Expr, unit: Unit) -> sp.Expr:
    """Eq. (8): ``alpha = Y'' / (2 Y'' + sum_ab A^k_ab Y''')``, derivatives with respect to ``A`` at ``unit``."""
    activation = layer.activations()[unit]
    second = score.diff(activation, 2)
    third = score.diff(activation, 3)
    return second / (2 * second + layer.map_sum(unit[0]) * third)


# --- §2.2, eq. (5)-(6) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreThroughAlphas:
    """Eq. (5) with eq. (4)'s weights substituted, against eq. (6)."""

    score: sp.Expr
    comparison: Comparison


def score_through_alphas(layer: Layer = SMALL_LAYER, *, with_relu: bool = False) -> ScoreThroughAlphas:
    """Eq. (5) ``Y = sum_k w_k sum_ij A^k_ij`` with eq. (4)'s weights ``w_k = sum_ab alpha^k_ab ReLU(dY/dA^k_ab)``
    substituted, compared with eq. (6) as the paper writes it.

    ``with_relu=False`` removes the ReLU, as the Grad-CAM++ derivation does before differentiating.
    """
    score = layer.score()
    alphas = layer.symbols("alpha")
    gradients = _gradients(layer, score)
    rectify = _rectifier(with_relu)
    weights = {
        k: sp.Add(*(alphas[ab] * rectify(gradients[ab]) for ab in layer.map_units(k))) for k in range(layer.maps)
    }
    eq5_rhs = sp.Add(*(weights[k] * layer.map_sum(k) for k in range(layer.maps)))
    eq6_rhs = _eq6_rhs(layer, alphas, gradients, with_relu=with_relu)
    return ScoreThroughAlphas(score=score, comparison=compare(eq5_rhs, eq6_rhs))


# --- Appendix A, eq. (7), (18), (19) --------------------------------------------------------------------


@dataclass(frozen=True)
class Witness:
    """A concrete score and point at which a symbolic difference is evaluated."""

    score: sp.Expr
    point: dict[sp.Symbol, sp.Expr]
    value: sp.Expr


@dataclass(frozen=True)
class DerivativeOfEq6:
    """The derivative of eq. (6)'s right side (alphas constant) against eq. (18) and against eq. (7)."""

    unit: Unit
    score: sp.Expr
    against_eq18: Comparison
    against_eq7: Comparison
    witness: Witness


def derivative_of_eq6(layer: Layer = SMALL_LAYER, unit: Unit = (0, 0, 0)) -> DerivativeOfEq6:
    """Differentiate eq. (6) without the ReLU with respect to ``A`` at ``unit``, under Appendix A's assumptions
    (alphas constant, activations independent), and compare the result with eq. (18) and with eq. (7), the
    Grad-CAM++ paper's eq. (8): ``sum_ab alpha_ab dY/dA^k_ab + sum_ab A^k_ab alpha_ij d^2Y/(dA^k_ij)^2``.

    The witness evaluates ``derived - eq. (7)`` for ``Y = exp(sum of all activations)`` (an exponential of a
    linear pre-softmax score, the very case Grad-CAM++ assumes) with every activation 1 and every alpha 1/2.
    """
    activations = layer.activations()
    score = layer.score()
    alphas = layer.symbols("alpha")
    derived = _eq6_rhs(layer, alphas, _gradients(layer, score), with_relu=False).diff(activations[unit])
    against_eq7 = compare(derived, _eq7_rhs(layer, score, alphas, unit))
    witness_score = sp.exp(sp.Add(*activations.values()))
    point: dict[sp.Symbol, sp.Expr] = {a: sp.Integer(1) for a in activations.values()}
    point.update({alpha: sp.Rational(1, 2) for alpha in alphas.values()})
    witness_value = sp.simplify(against_eq7.difference.subs(score, witness_score).doit().subs(point))
    return DerivativeOfEq6(
        unit=unit,
        score=score,
        against_eq18=compare(derived, _eq18_rhs(layer, score, alphas, unit)),
        against_eq7=against_eq7,
        witness=Witness(score=witness_score, point=point, value=witness_value),
    )


@dataclass(frozen=True)
class DerivativeOfEq6VaryingAlphas:
    """The derivative of eq. (6)'s right side with alphas that depend on the activations."""

    unit: Unit
    score: sp.Expr
    alphas: dict[Unit, sp.Expr]
    against_eq18: Comparison
    against_eq19: Comparison


def derivative_of_eq6_varying_alphas(
    layer: Layer = SMALL_LAYER, unit: Unit = (0, 0, 0)
) -> DerivativeOfEq6VaryingAlphas:
    """Differentiate eq. (6) without the ReLU with respect to ``A`` at ``unit``, each alpha now an undefined
    function of all the activations, and compare with eq. (18) (whose difference is the extra term) and
    with eq. (19) = eq. (18) + ``sum_{k',ab} ( sum_{a'b'} d alpha^{k'}_{a'b'}/dA^k_ij dY/dA^{k'}_{a'b'} ) A^{k'}_ab``.
    """
    activations = layer.activations()
    score = layer.score()
    alphas = layer.functions_of_activations("alpha")
    derived = _eq6_rhs(layer, alphas, _gradients(layer, score), with_relu=False).diff(activations[unit])
    eq18_rhs = _eq18_rhs(layer, score, alphas, unit)
    return DerivativeOfEq6VaryingAlphas(
        unit=unit,
        score=score,
        alphas=alphas,
        against_eq18=compare(derived, eq18_rhs),
        against_eq19=compare(derived, eq18_rhs + _eq19_extra_term(layer, score, alphas, unit)),
    )


# --- §2.2 and §3.2, eq. (8) to (9), (12), (13) ----------------------------------------------------------


@dataclass(frozen=True)
class AlphasFromExponentialScore:
    """Eq. (8) for a generic score, specialised to ``Y = exp(S)`` and ``Y = a^S`` with ``S`` linear."""

    gradient: sp.Expr
    base: sp.Symbol
    eq8: sp.Expr
    eq9: Comparison
    eq12: Comparison
    eq13: Comparison
    eq9_at_zero_gradient: sp.Expr
    eq13_at_zero_gradient: sp.Expr


def _linear_pre_softmax_score(layer: Layer, unit: Unit) -> tuple[sp.Expr, sp.Expr, dict[sp.Expr, sp.Expr]]:
    """``S``, ``g = dS/dA`` at ``unit``, and the substitution that makes ``S`` linear there (``S'' = S''' = 0``)."""
    activation = layer.activations()[unit]
    pre_softmax = layer.score("S")
    linear = {pre_softmax.diff(activation, 2): 0, pre_softmax.diff(activation, 3): 0}
    return pre_softmax, pre_softmax.diff(activation), linear


def alphas_from_exponential_score(layer: Layer = SMALL_LAYER, unit: Unit = (0, 0, 0)) -> AlphasFromExponentialScore:
    """Eq. (8) at ``unit`` with ``Y = exp(S)`` against eq. (9) ``g^2 / (2 g^2 + sum_ab A^k_ab g^3)``, with
    ``Y = a^S`` against eq. (12) (``ln a`` on the third-order term), and eq. (9) against eq. (13)
    ``1 / (2 + sum_ab A^k_ab g)``; ``g = dS/dA`` and ``S`` has zero second and third derivatives.

    Eq. (9) and eq. (13) are also evaluated at ``g = 0``, where dividing by ``g^2`` is not allowed.
    """
    pre_softmax, gradient, linear = _linear_pre_softmax_score(layer, unit)
    base = sp.Symbol("a", positive=True)
    pooled = layer.map_sum(unit[0])
    eq9_rhs = gradient**2 / (2 * gradient**2 + pooled * gradient**3)
    eq12_rhs = gradient**2 / (2 * gradient**2 + sp.log(base) * pooled * gradient**3)
    eq13_rhs = 1 / (2 + pooled * gradient)
    return AlphasFromExponentialScore(
        gradient=gradient,
        base=base,
        eq8=_eq8_alpha(layer, layer.score(), unit),
        eq9=compare(_eq8_alpha(layer, sp.exp(pre_softmax), unit).subs(linear), eq9_rhs),
        eq12=compare(_eq8_alpha(layer, base**pre_softmax, unit).subs(linear), eq12_rhs),
        eq13=compare(eq9_rhs, eq13_rhs),
        eq9_at_zero_gradient=eq9_rhs.subs(gradient, 0),
        eq13_at_zero_gradient=eq13_rhs.subs(gradient, 0),
    )


# --- §3.3, eq. (14) -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HalfAlphasMakeGcPlus:
    """With every alpha 1/2: Grad-CAM++ against Grad-CAM+ weights, heatmaps and min-max normalised heatmaps."""

    scale: sp.Expr
    weights: dict[int, Comparison]
    heatmaps: dict[tuple[int, int], Comparison]
    normalised: dict[tuple[int, int], Comparison]


def min_max_normalise(values: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
    """``(v - min v) / (max v - min v)`` for each value, the normalisation applied to heatmaps before display."""
    low, high = sp.Min(*values), sp.Max(*values)
    return tuple((value - low) / (high - low) for value in values)


def half_alphas_make_gc_plus(layer: Layer = SMALL_LAYER) -> HalfAlphasMakeGcPlus:
    """Eq. (14): with every alpha equal to 1/2, eq. (4) gives ``w_k = (1/2) sum_ij ReLU(g^k_ij)``, which is
    ``Z/2`` times eq. (3)'s Grad-CAM+ weight; the heatmaps of eq. (2) then differ by the same factor ``Z/2``,
    and min-max normalisation of any heatmap ``h`` is unchanged by a positive factor ``lambda``.
    """
    activations = layer.activations()
    gradients = layer.symbols("g", real=True)
    size = sp.Integer(layer.size)
    scale = size / 2
    gc_plus = {k: sp.Add(*(relu(gradients[u]) for u in layer.map_units(k))) / size for k in range(layer.maps)}
    gc_plus_plus = {
        k: sp.Add(*(sp.Rational(1, 2) * relu(gradients[u]) for u in layer.map_units(k))) for k in range(layer.maps)
    }
    pixels = [(i, j) for i in range(layer.height) for j in range(layer.width)]

    def heatmap(weights: dict[int, sp.Expr], pixel: tuple[int, int]) -> sp.Expr:
        return relu(sp.Add(*(weights[k] * activations[(k, *pixel)] for k in range(layer.maps))))

    plain = sp.symbols(f"h_1:{len(pixels) + 1}", nonnegative=True)
    factor = sp.Symbol("lambda", positive=True)
    scaled = tuple(factor * value for value in plain)
    return HalfAlphasMakeGcPlus(
        scale=scale,
        weights={k: compare(gc_plus_plus[k], scale * gc_plus[k]) for k in range(layer.maps)},
        heatmaps={pixel: compare(heatmap(gc_plus_plus, pixel), scale * heatmap(gc_plus, pixel)) for pixel in pixels},
        normalised={
            pixel: compare(lhs, rhs)
            for pixel, lhs, rhs in zip(pixels, min_max_normalise(scaled), min_max_normalise(plain))
        },
    )
