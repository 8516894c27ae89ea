"""The alpha chapters' figures: each draws the panels it promises from the arrays it is given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from gradcam_study.presentation import alpha_figures
from gradcam_study.study import squeezed_bin_edges

RNG = np.random.default_rng(0)
ALPHAS = 0.5 + 0.01 * RNG.standard_normal(200)
TERMS = 1 / ALPHAS - 2
EDGES = squeezed_bin_edges()
HISTOGRAM = np.histogram(np.tanh(ALPHAS - 0.5), bins=EDGES)[0]


def test_one_image_and_data_set_figures() -> None:
    fig = alpha_figures.one_image_figure(torch.rand(3, 8, 8), "title", ALPHAS, TERMS)
    assert len(fig.axes) == 3 and fig.axes[0].get_title() == "title"
    plt.close(fig)
    fig = alpha_figures.data_set_figure(ALPHAS, HISTOGRAM, EDGES, draws=256)
    assert len(fig.axes) == 2 and fig.axes[1].get_yscale() == "log" and "256 per image" in fig.axes[0].get_xlabel()
    plt.close(fig)


def test_figures_by_score_kind() -> None:
    kinds = ("pre_softmax", "post_softmax")
    fig = alpha_figures.equation_14_figure({kind: (ALPHAS, ALPHAS) for kind in kinds}, "eq14")
    assert [ax.get_title() for ax in fig.axes] == ["pre-softmax gradients", "post-softmax gradients"]
    plt.close(fig)
    fig = alpha_figures.kinds_figure({kind: ALPHAS for kind in kinds}, {kind: HISTOGRAM for kind in kinds}, EDGES)
    assert len(fig.axes) == 2
    plt.close(fig)
    fig = alpha_figures.farthest_figure({kind: pd.Series(np.abs(ALPHAS - 0.5)) for kind in kinds}, analysed=200)
    assert fig.axes[0].get_ylabel() == "share of the 200 analysed images"
    plt.close(fig)


def test_denominator_figures_circle_the_farthest_alpha() -> None:
    worst = int(np.argmax(np.abs(ALPHAS - 0.5)))
    fig = alpha_figures.denominators_figure(TERMS, ALPHAS, worst, "den")
    assert len(fig.axes) == 2 and any("most extreme alpha" in t.get_text() for t in fig.axes[0].get_legend().texts)
    plt.close(fig)
    fig = alpha_figures.hyperbola_figure(TERMS, ALPHAS, worst, "hyp")
    assert fig.axes[0].get_title() == "hyp"
    plt.close(fig)
