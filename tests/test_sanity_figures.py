"""The sanity chapters' figures draw from hand-made results: one panel per layer, kind and measure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from gradcam_study.sanity.checks import MEASURES  # noqa: E402
from gradcam_study.presentation.sanity_figures import randomisation_figure, vulnerability_figure  # noqa: E402
from test_findings_sanity import FINAL, made  # noqa: E402


def test_randomisation_figure_has_a_curve_per_method_in_each_panel() -> None:
    results = made(FINAL)
    figure = randomisation_figure(results, "cascading")
    axes = figure.get_axes()
    assert len(axes) == len(results.config.layers()) * len(results.config.score_kinds) * len(MEASURES)
    assert all(len(ax.get_lines()) == 5 + 1 for ax in axes)  # five methods and the zero line
    # The trained model is the first point of each curve, at 1.
    assert axes[0].get_lines()[0].get_ydata()[0] == 1.0


def test_vulnerability_figure_has_a_panel_per_layer() -> None:
    results = made(FINAL)
    assert len(vulnerability_figure(results).get_axes()) == len(results.config.layers())
