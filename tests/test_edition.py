"""The edition a build prints (footer, PDF title page) and the machine the execution statistics describe."""

from __future__ import annotations

import datetime
import html
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from gradcam_study import __version__, settings
from gradcam_study.presentation.labels import MACHINE_LABELS
from gradcam_study.publishing.edition import UNKNOWN_COMMIT, edition, git_commit, machine

from conftest import REPO


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository with one commit of one file."""
    def git(*arguments: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *arguments], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "chapter.md").write_text("# A chapter\n")
    git("add", "chapter.md")
    git("-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-q", "-m", "first")
    return tmp_path


def test_commit_is_heads_and_dirty_only_when_a_tracked_file_changed(repository: Path) -> None:
    head = subprocess.run(["git", "-C", str(repository), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert git_commit(repository) == head
    (repository / "_build").mkdir()  # untracked output of a build
    (repository / "_build" / "index.html").write_text("<html></html>")
    assert git_commit(repository) == head
    (repository / "chapter.md").write_text("# A chapter, edited\n")
    assert git_commit(repository) == f"{head}-dirty"


def test_commit_outside_a_repository_is_unknown(tmp_path: Path) -> None:
    assert git_commit(tmp_path) == UNKNOWN_COMMIT


def test_edition_reads_version_profile_and_date(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.PROFILE_ENV, "paper")
    found = edition(repository, today=datetime.date(2026, 11, 27))
    assert (found.version, found.date, found.profile) == (__version__, "2026-11-27", "paper")
    assert found.line() == f"gradcam_study {__version__} · commit {git_commit(repository)} · built 2026-11-27 · profile paper"
    assert edition(repository, profile_name="quick").profile == "quick"


def test_machine_names_python_torch_and_the_profiles_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.DEVICE_ENV, raising=False)
    described = machine("quick")  # the quick profile runs on the CPU
    assert described["torch"] == torch.__version__
    assert described["device"] == "cpu" and "gpu" not in described
    assert int(described["torch_threads"]) == torch.get_num_threads() >= 1
    assert set(described) <= set(MACHINE_LABELS)


def test_machine_names_the_gpu_when_the_studies_run_on_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.DEVICE_ENV, "cuda:0")
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: f"GPU of {device}")
    described = machine("quick")
    assert (described["device"], described["gpu"]) == ("cuda:0", "GPU of cuda:0")


def test_the_books_footer_extension_adds_the_edition_to_the_theme_options() -> None:
    from gradcam_study.publishing import footer as extension

    config = SimpleNamespace(html_theme_options={"home_page_in_toc": True})
    extension.add_edition_to_footer(SimpleNamespace(confdir=str(REPO)), config)
    assert config.html_theme_options["home_page_in_toc"] is True
    assert html.unescape(config.html_theme_options["extra_footer"]).count(edition(REPO).line()) == 1
