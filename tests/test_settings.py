"""Settings: explicit arguments over the environment, and errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gradcam_study import settings


def test_data_dir_prefers_the_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.DATA_ENV, "/nowhere")
    assert settings.data_dir(tmp_path) == tmp_path


def test_missing_data_says_how_to_point_at_or_fetch_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(settings.DATA_ENV, raising=False)
    with pytest.raises(settings.DataNotFoundError, match="GRADCAM_STUDY_DATA.*fetch sample"):
        settings.data_dir()
    with pytest.raises(settings.DataNotFoundError, match="does not exist"):
        settings.data_dir(tmp_path / "missing")


def test_cache_dir_from_environment_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "c"))
    assert settings.cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()


def test_device_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.DEVICE_ENV, raising=False)
    assert settings.device(default="cpu") == torch.device("cpu")
    monkeypatch.setenv(settings.DEVICE_ENV, "cpu")
    assert settings.device(default="cuda") == torch.device("cpu")
    assert settings.device("meta") == torch.device("meta")


def test_profile_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.PROFILE_ENV, raising=False)
    assert settings.profile_name() == "quick"
    monkeypatch.setenv(settings.PROFILE_ENV, "paper")
    assert settings.profile_name() == "paper"


def test_book_limit_reads_a_positive_whole_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.LIMIT_ENV, raising=False)
    assert settings.book_limit() is None and settings.book_limit(12) == 12
    monkeypatch.setenv(settings.LIMIT_ENV, "160")
    assert settings.book_limit() == 160
    for wrong in ("many", "0", "-3"):
        monkeypatch.setenv(settings.LIMIT_ENV, wrong)
        with pytest.raises(ValueError, match="GRADCAM_STUDY_LIMIT must be a positive whole number"):
            settings.book_limit()
