"""Which copy of the book this is, and what it ran on: for the footer, the PDF's title page and citations.

An edition is the package version, the git commit of the checkout (``-dirty`` when tracked files differ from it),
the build date (UTC) and the study profile. All four are computed at build time, never typed in, so that a
citation of a page or a figure names the copy the reader saw.

>>> Edition("0.1.0", "0f8144e", "2026-11-27", "quick").line()
'gradcam_study 0.1.0 · commit 0f8144e · built 2026-11-27 · profile quick'
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .. import __version__, settings

#: What :func:`git_commit` returns where the commit cannot be told (no git, or not a checkout).
UNKNOWN_COMMIT = "unknown"


@dataclass(frozen=True)
class Edition:
    """Package version, commit, build date (ISO, UTC) and profile of one build of the book."""

    version: str
    commit: str
    date: str
    profile: str

    def line(self) -> str:
        """The edition in one line, as the footer of every page and the PDF's title page print it."""
        return f"gradcam_study {self.version} · commit {self.commit} · built {self.date} · profile {self.profile}"


def git_commit(repository: Path) -> str:
    """The short commit of ``repository``'s HEAD, with ``-dirty`` when tracked files differ from it.

    Untracked files do not count: a build leaves some (``_build``), and they change no page's source.
    """
    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(repository), *arguments], capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN_COMMIT
    return f"{commit}-dirty" if changed else commit


def edition(repository: Path, profile_name: str | None = None, today: datetime.date | None = None) -> Edition:
    """The edition of a build from ``repository`` now: the profile from the argument or the environment."""
    day = today or datetime.datetime.now(datetime.timezone.utc).date()
    return Edition(__version__, git_commit(repository), day.isoformat(), settings.profile_name(profile_name))


def machine(profile_name: str | None = None) -> dict[str, str]:
    """What the book's studies run on, keyed by identifier (labels: :data:`gradcam_study.presentation.labels.MACHINE_LABELS`).

    The device is the profile's, as the chapters resolve it (``GRADCAM_STUDY_DEVICE`` overrides it): for a GPU
    its name, for the CPU the threads torch uses, since these set what a rerun costs.
    """
    # Imported here: the book's Sphinx extension reads the edition at every build and needs neither.
    import torch

    from ..study import profile

    device = settings.device(default=profile(settings.profile_name(profile_name)).device)
    described = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(terse=True),
        "processor": platform.machine(),
        "cpu_count": str(os.cpu_count()),
        "torch_threads": str(torch.get_num_threads()),
        "device": str(device),
    }
    if device.type == "cuda":
        described["gpu"] = torch.cuda.get_device_name(device)
    return described


__all__ = ["Edition", "UNKNOWN_COMMIT", "edition", "git_commit", "machine"]
