"""Figures and tables of the comparisons of the paper's methods, from frames keyed by identifiers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gradcam_study.findings.empirical import relative_performance_spread
from gradcam_study.methods import METHOD_PAIRS, PLUS_PAIR_ID, pair_id
from gradcam_study.presentation import comparisons

KINDS = ("pre_softmax", "post_softmax")


def per_image() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame([{"relative_performance": float(np.exp(rng.normal(0, 0.1))), "pair": pair_id(*p), "score": k}
                         for k in KINDS for p in METHOD_PAIRS for _ in range(5)])


def test_figure6_and_its_numbers_are_labelled() -> None:
    figure = comparisons.figure6(per_image())
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels == ["Grad-CAM++ vs Grad-CAM", "Grad-CAM+ vs Grad-CAM", "Grad-CAM++ vs Grad-CAM+"]
    plt.close(figure)
    shown = comparisons.spread_table(relative_performance_spread(per_image())).data
    assert ("Grad-CAM++ vs Grad-CAM+", "post-softmax") in shown.index
    assert "share within 1 ± 1%" in shown.columns and "share above 1" in shown.columns


def test_the_equivalence_sweep_marks_equivalence_below_the_significance_level() -> None:
    sweep = pd.DataFrame({0.01: [0.3], 0.05: [0.01]},
                         index=pd.MultiIndex.from_tuples([(PLUS_PAIR_ID, "pre_softmax")], names=["methods", "score"]))
    html = comparisons.equivalence_sweep_table(sweep).to_html()
    assert "0.01, equivalent" in html and "0.3, equivalent" not in html
    assert "5.0%" in html and "Grad-CAM++ vs Grad-CAM+" in html and "pre-softmax" in html


def test_the_threshold_sweep_table_and_figure() -> None:
    columns = [("kept", "images")] + [(k, pair_id(*p)) for k in KINDS for p in METHOD_PAIRS]
    sweep = pd.DataFrame([[10, 1, 1, 1, 1, 1, 1], [5, 1.1, 1.05, 0.99, 1.0, 1.0, 1.0]],
                         columns=pd.MultiIndex.from_tuples(columns, names=["score", "methods"]),
                         index=pd.Index([0.0, 0.5], name="threshold"))
    html = comparisons.threshold_sweep_table(sweep).to_html()
    assert "Grad-CAM+ vs Grad-CAM" in html and "post-softmax" in html and ">0.5<" in html
    shares = pd.Series([1.0, 0.5], index=pd.Index([0.0, 0.5], name="threshold"))
    figure = comparisons.threshold_sweep_figure(sweep, shares, 0.5)
    assert len(figure.axes[0].get_lines()) >= 6
    plt.close(figure)
