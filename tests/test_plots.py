"""The book's plotting helpers draw what they say, without a screen."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from gradcam_study.explain import explain  # noqa: E402
from gradcam_study.models import load_classifier  # noqa: E402
from gradcam_study.plots import alphas_against_terms, as_image, heatmap_grid  # noqa: E402


def test_heatmap_grid_has_a_row_per_image_and_a_column_per_method() -> None:
    torch.manual_seed(0)
    classifier = load_classifier("efficientnet_lite0", pretrained=False)
    explained = explain(classifier, torch.rand(2, 3, 224, 224), [0, 1])
    figure = heatmap_grid(explained, ["a", "b"])
    assert len(figure.axes) == 2 * 4
    assert [ax.get_title() for ax in figure.axes[1:4]] == ["Grad-CAM", "Grad-CAM+", "Grad-CAM++"]
    plt.close(figure)


def test_as_image_is_height_width_channels_in_unit_range() -> None:
    image = as_image(torch.full((3, 5, 4), 2.0))
    assert image.shape == (5, 4, 3) and image.max() == 1


def test_alphas_against_terms_draws_the_hyperbola_and_the_pole() -> None:
    terms = np.array([-2.5, -1.5, 0.0, 0.5])
    figure, ax = plt.subplots()
    alphas_against_terms(ax, terms, 1 / (2 + terms), highlight=1)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "pole t = -2" in labels and "$1/(2+t)$" in labels
    assert ax.get_yscale() == "symlog"
    plt.close(figure)


def test_curves_figure_has_a_row_per_setting_and_a_line_per_method() -> None:
    from gradcam_study.plots import curves_figure

    fractions = np.linspace(0, 1, 5)
    columns = pd.MultiIndex.from_product([["deletion", "insertion"], ["grad_cam", "hires_cam"]])
    frame = pd.DataFrame(np.tile(np.linspace(1, 0, 5)[:, None], (1, 4)), index=fractions, columns=columns)
    figure = curves_figure({"a": frame, "b": frame})
    assert len(figure.axes) == 4
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["Grad-CAM", "HiResCAM"]
    assert [line.get_linestyle() for line in lines] == ["-", "--"]
    assert figure.axes[1].get_title() == "insertion, a"
    plt.close(figure)
