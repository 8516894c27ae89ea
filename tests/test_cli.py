"""The command line: run prints the tables, info the locations, --help every option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gradcam_study.cli import main
from test_study import small_folder  # noqa: F401  (fixture)


def test_run_prints_tables_and_kept_count(small_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    arguments = ["run", "--data", str(small_folder), "--cache-dir", str(tmp_path), "--device", "cpu", "--limit", "4",
                 "--batch-size", "2", "--workers", "0", "--threshold", "0", "--quiet"]
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    for expected in ("Table 1: relative performance", "Table 2: log relative performance", "Wilcoxon",
                     "Grad-CAM++ vs Grad-CAM+", "Kept 4 of 4 images", "95% CI low"):
        assert expected in printed


def test_info_prints_resolved_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GRADCAM_STUDY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GRADCAM_STUDY_DATA", str(tmp_path))
    monkeypatch.setenv("GRADCAM_STUDY_PROFILE", "paper")
    assert main(["info"]) == 0
    printed = capsys.readouterr().out
    assert "vgg16, layer features.29" in printed and str(tmp_path / "cache") in printed and "paper" in printed


def test_help_explains_every_option() -> None:
    completed = subprocess.run([sys.executable, "-m", "gradcam_study", "run", "--help"], capture_output=True, text=True, check=True)
    for option in ("--profile", "--model", "--layer", "--data", "--device", "--batch-size", "--limit", "--threshold", "--cache-dir"):
        assert option in completed.stdout
