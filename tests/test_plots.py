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
from gradcam_study.presentation.plots import alphas_against_terms, as_image, heatmap_grid  # noqa: E402


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
    from gradcam_study.presentation.plots import curves_figure

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


def _sweep_summary() -> pd.DataFrame:
    """A hand-made depth sweep: two stages, each with a signed and a non-negative map, then the last map."""
    rows = []
    settings = [("s1", 1, "signed"), ("n1", 1, "non_negative"), ("s2", 2, "signed"), ("n2", 2, "non_negative"),
                ("last", 3, "last_map")]
    for setting, stage, kind_of_map in settings:
        for kind in ("pre_softmax", "post_softmax"):
            for pair in ("grad_cam_plus_plus/grad_cam", "grad_cam_plus_plus/grad_cam_plus"):
                rows.append(dict(setting=setting, position=stage, stage=stage, map=kind_of_map, kind=kind, pair=pair,
                                 quantity="relative_performance", value=0.5, low=0.4, high=0.6))
            for quantity in ("negative_activation_share", "median_correlation", "share_near_half"):
                rows.append(dict(setting=setting, position=stage, stage=stage, map=kind_of_map, kind=kind, pair="",
                                 quantity=quantity, value=0.5, low=np.nan, high=np.nan))
    return pd.DataFrame(rows)


def test_sweep_figure_draws_the_equivalence_band_and_separates_the_maps() -> None:
    from matplotlib.patches import Rectangle
    from matplotlib.patches import Polygon

    from gradcam_study.presentation.plots import sweep_figure

    titles = {"negative_activation_share": "negative activations", "median_correlation": "median r"}
    figure = sweep_figure(_sweep_summary(), titles, xlabel="depth", equivalence_margin=0.05,
                          tick_labels={"s1": "stage 1", "n1": "stage 1", "s2": "stage 2", "n2": "stage 2", "last": "last"})
    axes = [ax for ax in figure.axes if ax.get_visible() and ax.axison]
    # Two relative-performance panels, then only the quantities asked for (share_near_half is left out).
    assert [ax.get_title() for ax in axes] == ["Grad-CAM++ vs Grad-CAM", "Grad-CAM++ vs Grad-CAM+",
                                               "negative activations", "median r"]
    for ax in axes[:2]:
        bands = [patch for patch in ax.patches if isinstance(patch, (Polygon, Rectangle))]
        assert len(bands) == 1
        low, high = ax.get_ylim()
        assert low < 1 / 1.05 and high > 1.05  # the band is inside the drawn range, not clipped away
        # One line per score kind and kind of map: 2 kinds x 3 maps.
        assert len(ax.containers) == 6
    assert [tick.get_text() for tick in axes[-1].get_xticklabels()] == ["stage 1", "stage 2", "last"]
    labels = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
    assert "equivalence band ±5%" in labels and "pre-softmax, non-negative" in labels
    plt.close(figure)
