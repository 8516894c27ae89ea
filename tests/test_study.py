"""The study pipeline: rows, tables, resuming, reuse, bad files, and the paper profile's code path."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from conftest import sample_folder
from gradcam_study import paper
from gradcam_study.data import imagenet_classes
from gradcam_study.methods import PIXEL_WISE_PAIRS
from gradcam_study.presentation.labels import label
from gradcam_study.presentation.tables import yardstick_table
from gradcam_study.study import (
    NoImageKeptError,
    StudyConfig,
    constant_map_column,
    log_prob_column,
    run_profile,
    run_study,
    select_images,
    source_fingerprint,
)
from gradcam_study.study import pipeline
from gradcam_study.study.config import study_key

# Deletion/insertion curves cost about 2 (steps - 1) forward passes per image, score kind and method: two images,
# four steps.
CONFIG = StudyConfig(model="efficientnet_lite0", layers=("_avg_pooling:input",), curve_limit=2, curve_steps=4)


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight labelled images: real ones from the sample where it exists, random noise otherwise."""
    folder = tmp_path_factory.mktemp("images")
    sample = sample_folder()
    if sample is not None:
        for path in sorted(sample.glob("n*_*.JPEG"))[::125]:
            shutil.copy(path, folder / path.name)
    else:
        rng = np.random.default_rng(0)
        for c in imagenet_classes()[::125]:
            Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(folder / f"{c.wnid}_x.JPEG")
    return folder


def run(folder: Path, cache: Path, **kwargs) -> pipeline.StudyResults:
    options = dict(cache=cache, device="cpu", batch_size=3, num_workers=0, progress=False)
    return run_study(kwargs.pop("config", CONFIG), folder, **{**options, **kwargs})


def test_rows_and_tables(small_folder: Path, tmp_path: Path) -> None:
    study = run(small_folder, tmp_path)
    results = study.at()
    assert results.layer == "_avg_pooling:input" and study.layers == ("_avg_pooling:input",)
    assert len(results.images) == 8 and len(results.skipped) == 0
    log_probs = results.images[[log_prob_column(k, m) for k in results.score_kinds for m in ("grad_cam", "grad_cam_plus", "grad_cam_plus_plus")]]
    assert np.isfinite(log_probs.to_numpy()).all() and (log_probs.to_numpy() <= 0).all()
    table1 = results.table1(threshold=0.0)
    assert table1.shape == (3, 2) and np.isfinite(table1.to_numpy()).all()
    # Relative performance is a geometric mean: GC++/GC = (GC++/GC+) (GC+/GC).
    assert table1.iloc[0, 0] == pytest.approx(table1.iloc[1, 0] * table1.iloc[2, 0])
    pd.testing.assert_index_equal(paper.table1().index, table1.index)
    pd.testing.assert_index_equal(paper.table1().columns, table1.columns)
    table2 = results.table2(threshold=0.0)
    pd.testing.assert_index_equal(paper.table2().columns, table2.columns)
    assert table2.columns.tolist() == [("pre_softmax", "mean"), ("pre_softmax", "std"), ("post_softmax", "mean"), ("post_softmax", "std")]
    assert (results.images["pre_softmax_alpha_count"] > 0).all()
    arrays = results.alpha_arrays("pre_softmax")
    # Every image weighs the same in the pooled sample: exactly alpha_sample_size draws each.
    assert len(arrays.alphas) == len(arrays.terms) == 8 * CONFIG.alpha_sample_size
    assert arrays.squeezed_histogram.sum() == results.images["pre_softmax_alpha_count"].sum()
    extremes = results.alpha_extremes("pre_softmax")
    assert extremes["nonzero_alphas"] == arrays.squeezed_histogram.sum()
    assert extremes["alpha_min"] <= arrays.alphas.min() and extremes["alpha_max"] >= arrays.alphas.max()
    assert 0 < extremes["share_near_half"] <= 1
    assert label("share_near_half") == "share |alpha - 1/2| <= 0.03"
    # At the pooling input each map has one gradient, so one term t: 2 + t cannot come closer to 0 than the extremes say.
    assert extremes["closest_to_pole"] == pytest.approx(min(abs(2 + extremes["term_min"]), abs(2 + extremes["term_max"])))
    assert results.gradient_constant_share("pre_softmax") == 1.0
    farthest = results.farthest_alpha_from_half("pre_softmax")
    assert len(farthest) == 8
    assert farthest.max() == pytest.approx(max(abs(extremes["alpha_min"] - 0.5), abs(extremes["alpha_max"] - 0.5)))
    assert "profile custom; model efficientnet_lite0; layer _avg_pooling (input)" in results.provenance.caption()
    assert "(an evenly spread subset" not in results.provenance.caption()
    assert results.typical_image(0.0) in results.images.index
    statistics = results.statistics(0.0)
    assert {"median_log_ratio", "tost_p_value", "equivalent"} <= set(statistics.columns)
    sweep = results.equivalence_sweep(0.0)
    # A wider margin can only make equivalence easier to show.
    assert (sweep.diff(axis=1).iloc[:, 1:] <= 1e-12).all().all()


def test_threshold_filters_on_the_true_class_probability(small_folder: Path, tmp_path: Path) -> None:
    results = run(small_folder, tmp_path).at()
    threshold = float(results.images["probability"].median())
    assert len(results.kept(threshold)) == int((results.images["probability"] > threshold).sum()) < 8
    assert len(results.kept(0.0)) == 8
    assert results.statistics(0.0).shape[0] == 6


def test_interrupted_run_resumes_to_the_same_tables(small_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uninterrupted = run(small_folder, tmp_path / "a")
    real = pipeline.analyse_batch
    calls = []

    def interrupt_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "analyse_batch", interrupt_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        run(small_folder, tmp_path / "b")
    monkeypatch.setattr(pipeline, "analyse_batch", real)
    resumed = run(small_folder, tmp_path / "b")
    assert resumed.key == uninterrupted.key
    pd.testing.assert_frame_equal(resumed.at().images, uninterrupted.at().images)
    pd.testing.assert_frame_equal(resumed.at().table1(0.0), uninterrupted.at().table1(0.0))
    assert not resumed.images.index.duplicated().any()


def test_finished_run_is_reused_without_computing(small_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(small_folder, tmp_path)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished study was recomputed")

    monkeypatch.setattr(pipeline, "analyse_batch", must_not_run)
    pd.testing.assert_frame_equal(run(small_folder, tmp_path).at().images, first.at().images)


def test_same_inputs_give_identical_results_on_the_cpu(small_folder: Path, tmp_path: Path) -> None:
    pd.testing.assert_frame_equal(run(small_folder, tmp_path / "x").at().images, run(small_folder, tmp_path / "y").at().images)


def test_several_layers_in_one_study_equal_one_study_per_layer(small_folder: Path, tmp_path: Path) -> None:
    layers = ("_blocks.4", "_blocks.15", "_avg_pooling:input")
    together = run(small_folder, tmp_path, config=StudyConfig(layers=layers, limit=4, curve_limit=0))
    assert together.layers == layers
    for layer in layers:
        alone = run(small_folder, tmp_path, config=StudyConfig(layers=(layer,), limit=4, curve_limit=0)).at()
        ours = together.at(layer).images
        pd.testing.assert_frame_equal(ours[alone.images.columns], alone.images, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="not '_blocks.0'"):
        together.at("_blocks.0")


def test_bad_layer_settings_fail_before_any_work(small_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "analyse_batch", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(ValueError, match="no layer 'nosuch.layer'. Choices include: _conv_stem"):
        run(small_folder, tmp_path, config=StudyConfig(layers=("nosuch.layer",)))
    with pytest.raises(ValueError, match="named more than once"):
        run(small_folder, tmp_path, config=StudyConfig(layers=("_blocks.15", "_blocks.15")))
    with pytest.raises(ValueError, match="layer list is empty"):
        run(small_folder, tmp_path, config=StudyConfig(layers=()))
    with pytest.raises(ValueError, match="batch size must be positive"):
        run(small_folder, tmp_path, batch_size=0)


def test_the_key_fingerprints_the_code_that_computes_results(tmp_path: Path) -> None:
    """An edited copy of a method gives another fingerprint, hence another study key."""
    import gradcam_study

    package = Path(gradcam_study.__file__).parent
    copy = tmp_path / "gradcam_study"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    # A file that does not compute results (the command line) leaves the fingerprint alone ...
    (copy / "cli.py").write_text("# changed\n")
    assert source_fingerprint(copy) == source_fingerprint(package)
    # ... an edited method changes it.
    weights = copy / "methods" / "weights.py"
    edited = weights.read_text().replace("return gradients.mean(dim=SPATIAL_AXES)", "return 2 * gradients.mean(dim=SPATIAL_AXES)")
    assert edited != weights.read_text()
    weights.write_text(edited)
    assert source_fingerprint(copy) != source_fingerprint(package)


def test_the_key_changes_with_the_fingerprint(small_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradcam_study.data import list_images
    from gradcam_study.study import config as config_module

    images = list_images(small_folder)
    before = study_key(CONFIG, images, small_folder, "cpu")
    monkeypatch.setattr(config_module, "source_fingerprint", lambda: "edited")
    assert study_key(CONFIG, images, small_folder, "cpu") != before


def test_an_unreadable_results_file_is_moved_aside_and_recomputed(small_folder: Path, tmp_path: Path, caplog) -> None:
    first = run(small_folder, tmp_path, config=StudyConfig(layers=("_avg_pooling:input",), limit=2, curve_limit=0))
    store = first.store_path
    store.write_bytes(np.random.default_rng(0).bytes(5000))
    with caplog.at_level("WARNING"):
        again = run(small_folder, tmp_path, config=StudyConfig(layers=("_avg_pooling:input",), limit=2, curve_limit=0))
    assert again.key == first.key and len(again.images) == 2
    moved = list(store.parent.glob(f"{store.name}.unreadable-*"))
    assert len(moved) == 1 and moved[0].stat().st_size == 5000
    assert str(store) in caplog.text and str(moved[0]) in caplog.text


def test_no_kept_image_is_a_clear_error_not_nan(small_folder: Path, tmp_path: Path) -> None:
    results = run(small_folder, tmp_path, config=StudyConfig(layers=("_avg_pooling:input",), limit=2, curve_limit=0)).at()
    with pytest.raises(NoImageKeptError, match="No image passed the threshold 0.9999.*Lower the threshold"):
        results.table1(0.9999)
    with pytest.raises(NoImageKeptError):
        results.statistics(0.9999)


def test_constant_heatmaps_are_counted(small_folder: Path, tmp_path: Path) -> None:
    results = run(small_folder, tmp_path, config=StudyConfig(layers=("_avg_pooling:input",), limit=2, curve_limit=0)).at()
    for method in ("grad_cam", "grad_cam_plus", "grad_cam_plus_plus"):
        assert set(results.images[constant_map_column("post_softmax", method)]) <= {0.0, 1.0}
    assert results.alpha_extremes("post_softmax")["constant_grad_cam_plus_plus_maps"] == results.constant_maps(
        "post_softmax", "grad_cam_plus_plus")


def test_the_same_images_elsewhere_share_the_key(small_folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(small_folder, copy)
    assert run(small_folder, tmp_path / "c", config=StudyConfig(limit=2, curve_limit=0)).key == run(copy, tmp_path / "c", config=StudyConfig(limit=2, curve_limit=0)).key


def test_bad_files_are_skipped_and_reported(small_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(small_folder, folder)
    (folder / "n01491361_broken.JPEG").write_bytes(b"not a jpeg at all")
    Image.new("L", (10, 10), 100).save(folder / "n01494475_gray_tiny.JPEG")
    results = run(folder, tmp_path / "cache").at()
    assert len(results.images) == 9
    assert results.skipped["path"].tolist() == [str(folder / "n01491361_broken.JPEG")]


def test_limit_spreads_images_over_the_folder(small_folder: Path) -> None:
    from gradcam_study.data import list_images

    images = list_images(small_folder)
    chosen = select_images(images, 3)
    assert [images.index(i) for i in chosen] == [0, 4, 7]


def test_paper_profile_code_path_with_random_weights(small_folder: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    results = run_profile(
        "paper", data=small_folder, cache=tmp_path, device="cpu", batch_size=2, num_workers=0,
        progress=False, pretrained=False, limit=3, curve_limit=1, curve_steps=2,
    ).at()
    assert results.config.model == "vgg16" and results.provenance.layer == "features.29"
    assert results.provenance.profile == "paper"
    assert len(results.images) == 3
    assert np.isfinite(results.images[log_prob_column("pre_softmax", "grad_cam_plus_plus")]).all()


def test_curves_and_yardsticks(small_folder: Path, tmp_path: Path) -> None:
    study = run(small_folder, tmp_path)
    results = study.at()
    # CONFIG.curve_limit = 2 images, evenly spread over the 8: the first and the last.
    curved = results.curve_images(threshold=0.0)
    assert curved.index.tolist() == [0, 7]
    found = results.curves("pre_softmax", "grad_cam_plus_plus", threshold=0.0)
    assert found.images.tolist() == [0, 7] and found.deletion.shape == (2, CONFIG.curve_steps + 1)
    np.testing.assert_allclose(results.curve_fractions(), [0, 0.25, 0.5, 0.75, 1.0])
    # Deletion starts, and insertion ends, at the probability of the image itself.
    np.testing.assert_allclose(found.deletion[:, 0], results.images.loc[[0, 7], "probability"], rtol=1e-4)
    np.testing.assert_allclose(found.insertion[:, -1], results.images.loc[[0, 7], "probability"], rtol=1e-4)
    # The stored areas are those of the stored curves.
    area = np.trapezoid(found.deletion, results.curve_fractions(), axis=1)
    np.testing.assert_allclose(curved["deletion_auc_pre_softmax_grad_cam_plus_plus"], area, rtol=1e-5)
    yardsticks = results.yardsticks("pre_softmax", threshold=0.0)
    assert yardsticks.index.tolist() == ["grad_cam", "grad_cam_plus", "grad_cam_plus_plus", "hires_cam", "layer_cam"]
    assert yardsticks[("average_drop", "images")].tolist() == [8] * 5
    assert yardsticks[("deletion_auc", "images")].tolist() == [2] * 5
    values = yardsticks.xs("value", axis=1, level="statistic")
    assert np.isnan(values.loc["grad_cam", "win_percent"]) and np.isfinite(values.drop(columns="win_percent")).all().all()
    # At the pooling input HiResCAM is Grad-CAM and LayerCAM is Grad-CAM+: the same maps, the same yardsticks.
    pd.testing.assert_series_equal(values.loc["hires_cam"].drop("win_percent"), values.loc["grad_cam"].drop("win_percent"),
                                   check_names=False, rtol=1e-4)
    pd.testing.assert_series_equal(values.loc["layer_cam"], values.loc["grad_cam_plus"], check_names=False, rtol=1e-4)
    wins = results.win_table("pre_softmax", threshold=0.0)
    assert (wins["win_first"] + wins["win_second"] + wins["ties"]).round(9).eq(100).all()
    curves = results.mean_curves("pre_softmax", threshold=0.0)
    assert curves.shape == (CONFIG.curve_steps + 1, 10) and np.isfinite(curves.to_numpy()).all()
    assert results.table1(0.0, pairs=PIXEL_WISE_PAIRS).shape == (4, 2)
    assert (results.heatmap_similarity(0.0, pairs=PIXEL_WISE_PAIRS)["median_correlation"] > 0.999).sum() >= 2


def test_a_study_without_curves_prints_dashes_not_nan(small_folder: Path, tmp_path: Path) -> None:
    results = run(small_folder, tmp_path, config=StudyConfig(layers=("_avg_pooling:input",), limit=2, curve_limit=0)).at()
    assert len(results.curve_images(0.0)) == 0
    table = yardstick_table(results.yardsticks("pre_softmax", threshold=0.0))
    assert (table["deletion AUC"] == "–").all() and not table.isin(["nan", "NaN"]).any().any()


@pytest.mark.parametrize("field, value, message", [("curve_steps", 0, "at least 1"), ("curve_limit", -1, "cannot be negative")])
def test_bad_curve_settings_fail_before_any_work(small_folder: Path, tmp_path: Path, field: str, value: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run(small_folder, tmp_path, config=StudyConfig(**{field: value}))


def test_methods_must_include_the_paper_three(small_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="include the paper's three"):
        run(small_folder, tmp_path, config=StudyConfig(methods=("grad_cam", "hires_cam")))
    with pytest.raises(ValueError, match="known"):
        run(small_folder, tmp_path, config=StudyConfig(methods=("grad_cam", "grad_cam_plus", "grad_cam_plus_plus", "x")))


def test_a_study_of_the_paper_methods_only_has_their_columns(small_folder: Path, tmp_path: Path) -> None:
    config = StudyConfig(layers=("_blocks.15",), limit=2, curve_limit=1, curve_steps=2,
                         methods=("grad_cam", "grad_cam_plus", "grad_cam_plus_plus"))
    results = run(small_folder, tmp_path, config=config).at()
    assert log_prob_column("pre_softmax", "hires_cam") not in results.images
    assert results.yardsticks("pre_softmax", threshold=0.0).index.tolist() == list(config.methods)


def test_sweep_layers_get_the_papers_three_methods_and_no_curves(small_folder: Path, tmp_path: Path) -> None:
    """One study explains its main layers with every method and curves, and its sweep layers (from the same pass)
    with the paper's three methods only; a sweep layer that is also a main layer keeps everything."""
    config = StudyConfig(layers=("_avg_pooling:input",), sweep_layers=("_blocks.15._project_conv:input", "_avg_pooling:input"),
                         limit=3, curve_limit=1, curve_steps=2, optimised=False)
    study = run(small_folder, tmp_path, config=config)
    assert study.layers == ("_avg_pooling:input", "_blocks.15._project_conv:input")
    assert study.main_layers == ("_avg_pooling:input",) and config.only_swept() == ("_blocks.15._project_conv:input",)
    main, swept = study.at("_avg_pooling:input"), study.at("_blocks.15._project_conv:input")
    assert main.methods == config.methods and swept.methods == ("grad_cam", "grad_cam_plus", "grad_cam_plus_plus")
    assert log_prob_column("pre_softmax", "layer_cam") in main.images and log_prob_column("pre_softmax", "layer_cam") not in swept.images
    assert np.isfinite(swept.images[log_prob_column("post_softmax", "grad_cam_plus_plus")]).all()
    assert len(main.curve_images(threshold=0.0)) == 1 and not any("_auc_" in c for c in swept.images.columns)
    assert swept.table1(threshold=0.0).shape == (3, 2)


def test_studies_compile_from_a_size_on_unless_told() -> None:
    from gradcam_study.study.config import COMPILE_FROM_IMAGES

    assert not StudyConfig().compiles(COMPILE_FROM_IMAGES - 1) and StudyConfig().compiles(COMPILE_FROM_IMAGES)
    assert not StudyConfig(optimised=False).compiles(10_000) and StudyConfig(optimised=True).compiles(1)
    with pytest.raises(ValueError, match="more than once"):
        StudyConfig(sweep_layers=("_blocks.0", "_blocks.0")).validate()


def test_sign_statistics_count_the_alphas_the_pole_brings_to_the_weights() -> None:
    from gradcam_study.methods import grad_cam_plus_plus_weights
    from gradcam_study.study.analysis import activation_statistics, sign_statistics

    torch.manual_seed(0)
    gradients = torch.randn(3, 4, 5, 5)
    non_negative = torch.rand(3, 4, 5, 5)
    found = sign_statistics(non_negative, gradients)
    # Non-negative activations: t has the sign of g, so no positive-gradient alpha leaves [0, 1].
    assert found["positive_outside"].tolist() == [0.0, 0.0, 0.0]
    assert found["outside_weight_share"].tolist() == [0.0, 0.0, 0.0]
    assert found["positive_gradient_units"].tolist() == (gradients > 0).flatten(1).sum(1).double().tolist()
    assert activation_statistics(non_negative)["negative_activation_share"].tolist() == [0.0, 0.0, 0.0]
    # One map with a negative sum: its units at g = 0.6 have t = -1.2 (alpha 1.25), at g = 0.1 t = -0.2.
    signed = torch.full((1, 2, 1, 2), 1.0)
    signed[0, 0] = torch.tensor([[1.0, -3.0]])
    g = torch.tensor([[[[0.6, 0.1]], [[0.6, -0.5]]]])
    found = sign_statistics(signed, g)
    assert found["positive_gradient_units"].item() == 3 and found["positive_outside"].item() == 1
    # The weight mass: |alpha relu(g)| summed; the second map's t = 2 * 0.6 gives alpha = 1/3.2.
    mass = [1.25 * 0.6, 0.1 / 1.8, 0.6 / 3.2]
    assert found["outside_weight_share"].item() == pytest.approx(mass[0] / sum(mass))
    assert grad_cam_plus_plus_weights(signed, g)[0].sum().item() == pytest.approx(sum(mass), rel=1e-6)
    shares = activation_statistics(signed)
    assert shares["negative_activation_share"].item() == 0.25 and shares["units"].item() == 4
