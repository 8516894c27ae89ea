"""The command line: run prints the tables, info the locations, --help every option, and a user's mistake
one line (exit 2) instead of a traceback."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gradcam_study.cli import main
from test_study import small_folder  # noqa: F401  (fixture)


def run_arguments(folder: Path, cache: Path, *extra: str) -> list[str]:
    return ["run", "--data", str(folder), "--cache-dir", str(cache), "--device", "cpu", "--limit", "4",
            "--batch-size", "2", "--workers", "0", "--quiet", "--curve-limit", "1", "--curve-steps", "2", *extra]


def test_run_prints_tables_and_kept_count(small_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert main(run_arguments(small_folder, tmp_path, "--threshold", "0", "--layer", "_avg_pooling:input")) == 0
    printed = capsys.readouterr().out
    for expected in ("Table 1: relative performance", "Table 2: log relative performance",
                     "Grad-CAM++ vs Grad-CAM+", "Kept 4 of 4 images", "layer _avg_pooling (input)",
                     "Other yardsticks", "Average Drop %", "deletion AUC", "LayerCAM",
                     "No intervals, tests or verdicts: 4 kept images, fewer than"):
        assert expected in printed
    # Four images: the values, but no interval, test or verdict word.
    for absent in ("NaN", "Wilcoxon", "TOST", "verdict,", "alike", "ahead", "identical", "[", "95%"):
        assert absent not in printed


def test_run_prints_verdicts_from_enough_images(small_folder: Path, tmp_path: Path, capsys,  # noqa: F811
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from gradcam_study import cli
    from gradcam_study.study import verdicts

    monkeypatch.setattr(cli, "MIN_IMAGES_FOR_VERDICT", 2)
    monkeypatch.setattr(verdicts, "MIN_IMAGES_FOR_VERDICT", 2)
    assert main(run_arguments(small_folder, tmp_path, "--threshold", "0", "--layer", "_avg_pooling:input")) == 0
    printed = capsys.readouterr().out
    for expected in ("p-value (Holm)", "TOST p (Holm), 1%", "verdict, 5% margin", "Holm-adjusted", "95% CI low"):
        assert expected in printed
    assert "NaN" not in printed


def test_run_prints_one_section_per_layer(small_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    arguments = run_arguments(small_folder, tmp_path, "--threshold", "0", "--layer", "_blocks.15", "--layer", "_blocks.4")
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert printed.count("Table 1: relative performance") == 2
    assert printed.index("layer _blocks.15;") < printed.index("layer _blocks.4;")


def test_info_prints_resolved_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GRADCAM_STUDY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GRADCAM_STUDY_DATA", str(tmp_path))
    monkeypatch.setenv("GRADCAM_STUDY_PROFILE", "paper")
    assert main(["info"]) == 0
    printed = capsys.readouterr().out
    assert "vgg16, layers features.29" in printed and str(tmp_path / "cache") in printed and "paper" in printed


def test_help_explains_every_option() -> None:
    completed = subprocess.run([sys.executable, "-m", "gradcam_study", "run", "--help"], capture_output=True, text=True, check=True)
    for option in ("--profile", "--model", "--layer", "--data", "--device", "--batch-size", "--limit", "--threshold", "--cache-dir",
                   "--curve-limit", "--curve-steps"):
        assert option in completed.stdout


def one_line_error(capsys: pytest.CaptureFixture[str], arguments: list[str]) -> str:
    """Run the CLI expecting a user error: exit 2, one line on stderr starting with 'error:', no traceback."""
    assert main(arguments) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip() and not line.startswith(("INFO", "WARNING"))]
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_no_data_folder_offline_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from gradcam_study.data import fetch

    monkeypatch.delenv("GRADCAM_STUDY_DATA", raising=False)

    def offline(*args, **kwargs):
        raise fetch.OfflineError("Could not reach the download server; fetch the sample by hand into the cache.")

    monkeypatch.setattr(fetch, "fetch_imagenet_sample", offline)
    line = one_line_error(capsys, ["run", "--cache-dir", str(tmp_path), "--quiet"])
    assert "download server" in line


def test_a_missing_data_folder_is_one_line(tmp_path: Path, capsys) -> None:
    line = one_line_error(capsys, ["run", "--data", str(tmp_path / "nonexistent"), "--cache-dir", str(tmp_path)])
    assert "does not exist" in line and "nonexistent" in line


def test_an_unknown_layer_is_one_line_listing_choices(small_folder: Path, tmp_path: Path, capsys) -> None:  # noqa: F811
    line = one_line_error(capsys, run_arguments(small_folder, tmp_path, "--layer", "nosuch.layer"))
    assert "no layer 'nosuch.layer'" in line and "_blocks.15" in line


def test_a_module_that_runs_twice_is_one_line(small_folder: Path, tmp_path: Path, capsys) -> None:  # noqa: F811
    # EfficientNet-Lite's _swish is one module applied at several places of the forward pass.
    line = one_line_error(capsys, run_arguments(small_folder, tmp_path, "--layer", "_swish"))
    assert "ran" in line and "times in one forward pass" in line


def test_a_layer_named_twice_is_one_line(small_folder: Path, tmp_path: Path, capsys) -> None:  # noqa: F811
    line = one_line_error(capsys, run_arguments(small_folder, tmp_path, "--layer", "_blocks.15", "--layer", "_blocks.15"))
    assert "more than once" in line


@pytest.mark.parametrize("option", [["--batch-size", "0"], ["--limit", "-3"], ["--threshold", "1.5"], ["--workers", "-1"],
                                    ["--curve-steps", "0"], ["--curve-limit", "-1"]])
def test_out_of_range_numbers_are_refused_by_the_parser(option: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", *option])
    assert exit_.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_no_image_kept_says_what_to_change(small_folder: Path, tmp_path: Path, capsys) -> None:  # noqa: F811
    line = one_line_error(capsys, run_arguments(small_folder, tmp_path, "--layer", "_avg_pooling:input",
                                                "--threshold", "0.9999", "--random-weights"))
    assert "No image passed the threshold 0.9999" in line and "Lower the threshold" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        main(["--debug", "run", "--data", str(tmp_path / "nonexistent"), "--cache-dir", str(tmp_path)])


def test_warnings_go_through_tqdm_while_the_bar_is_shown(small_folder: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: F811
    """A skipped file's warning is written with tqdm.write (above the bar), not into the bar's line."""
    import shutil

    from tqdm import tqdm

    folder = tmp_path / "mixed"
    shutil.copytree(small_folder, folder)
    (folder / "n01491361_broken.JPEG").write_bytes(b"not a jpeg")
    written: list[str] = []
    monkeypatch.setattr(tqdm, "write", classmethod(lambda cls, message, *a, **k: written.append(message)))
    logging.getLogger().handlers.clear()
    arguments = ["run", "--data", str(folder), "--cache-dir", str(tmp_path / "c"), "--device", "cpu",
                 "--batch-size", "3", "--workers", "0", "--threshold", "0", "--layer", "_avg_pooling:input",
                 "--curve-limit", "0"]
    assert main(arguments) == 0
    assert any("Skipped" in message and "n01491361_broken.JPEG" in message for message in written)


def test_book_command_computes_the_book_studies_and_invalidates_a_stale_execution_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from gradcam_study import book

    computed = []

    class Fake:
        def __init__(self, key: str) -> None:
            self.key = key

    monkeypatch.setattr(book.BookStudy, "run", lambda self, **kwargs: computed.append(self.name) or Fake(f"k-{self.name}"))
    stamp, cache = tmp_path / "stamp.json", tmp_path / "jupyter_cache"
    cache.mkdir()
    assert main(["book", "--stamp", str(stamp), "--execution-cache", str(cache), "--quiet"]) == 0
    assert computed[0] == "main" and "depth" not in computed and stamp.is_file()
    assert not cache.exists()  # no record of which studies the cached chapters read: they rerun
    cache.mkdir()
    assert main(["book", "--stamp", str(stamp), "--execution-cache", str(cache), "--quiet"]) == 0
    assert cache.exists()  # same keys: the chapters' cache stays
    monkeypatch.setattr(book.BookStudy, "run", lambda self, **kwargs: Fake(f"new-{self.name}"))
    assert main(["book", "--stamp", str(stamp), "--execution-cache", str(cache), "--quiet"]) == 0
    assert not cache.exists()  # a study changed: every chapter reruns
    assert "removing" in capsys.readouterr().out


def test_explain_writes_one_figure_per_image(imagenet_sample: Path, tmp_path: Path, capsys) -> None:
    images = sorted(imagenet_sample.glob("n*_*.JPEG"))[:2]
    broken = tmp_path / "broken.JPEG"
    broken.write_bytes(b"not an image")
    arguments = ["explain", *map(str, images), str(broken), "--model", "torchvision:resnet18", "--weights", "none",
                 "--layer", "layer3", "--score", "post", "--out", str(tmp_path / "figures"), "--device", "cpu"]
    assert main(arguments) == 0
    written = sorted((tmp_path / "figures").glob("*.png"))
    assert [path.stem for path in written] == [path.stem for path in images]
    assert all(path.stat().st_size > 10_000 for path in written)
    assert capsys.readouterr().out.split() == [str(tmp_path / "figures" / f"{path.stem}.png") for path in images]


@pytest.mark.parametrize(("extra", "message"), [
    (["--model", "torchvision:resnt18"], "did you mean resnet18"),
    (["--model", "torchvision:resnet18", "--weights", "none", "--layer", "layer9"], "no layer 'layer9'"),
    (["--model", "vgg16", "--weights", "IMAGENET1K_V1"], "goes with --model torchvision:NAME"),
])
def test_explain_refuses_a_wrong_model_or_layer_in_one_line(imagenet_sample: Path, tmp_path: Path, capsys,
                                                          extra: list[str], message: str) -> None:
    image = sorted(imagenet_sample.glob("n*_*.JPEG"))[0]
    assert main(["explain", str(image), "--out", str(tmp_path), *extra]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and error.count("\n") == 1


def test_explain_refuses_a_missing_image(tmp_path: Path, capsys) -> None:
    assert main(["explain", str(tmp_path / "absent.jpg"), "--out", str(tmp_path)]) == 2
    assert "No such image file" in capsys.readouterr().err


def test_run_takes_a_torchvision_classifier_by_name(small_folder: Path, tmp_path: Path, capsys) -> None:  # noqa: F811
    arguments = run_arguments(small_folder, tmp_path, "--threshold", "0", "--model", "torchvision:resnet18",
                              "--weights", "none", "--layer", "layer4")
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert "model torchvision:resnet18;" in printed and "Table 1: relative performance" in printed
