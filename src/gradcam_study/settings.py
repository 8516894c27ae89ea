"""Where things are: data, cache and profile, read from the environment.

Every location the package uses is resolved here, so that the book, the CLI and
the tests agree. An explicit argument always wins over the environment.

Environment variables
---------------------
``GRADCAM_STUDY_DATA``
    Folder of ImageNet-labelled images (see :mod:`gradcam_study.data`).
``GRADCAM_STUDY_CACHE``
    Folder for per-image results, downloaded data sets and weights
    (default: the per-user cache directory given by :mod:`platformdirs`).
``GRADCAM_STUDY_PROFILE``
    ``quick`` (default) or ``paper``: which study the book's chapters run.
``GRADCAM_STUDY_DEVICE``
    ``cpu``, ``cuda`` or ``cuda:N``; default ``cuda`` when available, else ``cpu``.
``GRADCAM_STUDY_LIMIT``
    A preview of the book: every study it computes limited to this many images, evenly spread over the data set
    (and its deletion/insertion subset in proportion). Unset: all images. Every caption names the images used.
``GRADCAM_STUDY_REHEARSAL``
    A number of images N: rehearse the profile instead of running it, every study with random weights on N
    images, every caption and page title saying so (``make rehearse-paper``). Unset for real results.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
import torch

DATA_ENV = "GRADCAM_STUDY_DATA"
CACHE_ENV = "GRADCAM_STUDY_CACHE"
PROFILE_ENV = "GRADCAM_STUDY_PROFILE"
DEVICE_ENV = "GRADCAM_STUDY_DEVICE"
LIMIT_ENV = "GRADCAM_STUDY_LIMIT"
REHEARSAL_ENV = "GRADCAM_STUDY_REHEARSAL"


class DataNotFoundError(FileNotFoundError):
    """No image folder was given and none is configured."""


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder (created if needed): argument, else ``GRADCAM_STUDY_CACHE``, else the user cache."""
    chosen = explicit or os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("gradcam-study")
    path = Path(chosen).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def configured_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The image folder from the argument or ``GRADCAM_STUDY_DATA``, or ``None`` when neither is set."""
    chosen = explicit or os.environ.get(DATA_ENV)
    return Path(chosen).expanduser() if chosen else None


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The image folder, which must exist; the error says how to point at one or fetch one."""
    path = configured_data_dir(explicit)
    if path is None:
        raise DataNotFoundError(
            f"No image folder is configured. Pass one explicitly (--data DIR), set {DATA_ENV}=DIR, "
            "or fetch a data set: `python -m gradcam_study fetch sample` (1000 ImageNet images, one per "
            "class) or `python -m gradcam_study fetch imagenetv2` (ImageNetV2 MatchedFrequency)."
        )
    if not path.is_dir():
        raise DataNotFoundError(f"The image folder {path} does not exist (from the argument or {DATA_ENV}).")
    return path


def profile_name(explicit: str | None = None) -> str:
    """The study profile: argument, else ``GRADCAM_STUDY_PROFILE``, else ``quick``."""
    return explicit or os.environ.get(PROFILE_ENV) or "quick"


def book_limit(explicit: int | None = None) -> int | None:
    """The image limit of a preview of the book: argument, else ``GRADCAM_STUDY_LIMIT``, else None (all images)."""
    chosen = explicit if explicit is not None else os.environ.get(LIMIT_ENV)
    if chosen in (None, ""):
        return None
    try:
        value = int(chosen)
    except ValueError:
        raise ValueError(f"{LIMIT_ENV} must be a positive whole number of images, got {chosen!r}.") from None
    if value <= 0:
        raise ValueError(f"{LIMIT_ENV} must be a positive whole number of images, got {value}.")
    return value


def device(explicit: str | torch.device | None = None, default: str | None = None) -> torch.device:
    """The torch device: argument, else ``GRADCAM_STUDY_DEVICE``, else ``default``, else CUDA when present, else CPU."""
    chosen = explicit or os.environ.get(DEVICE_ENV) or default
    if chosen:
        return torch.device(chosen)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def rehearsal_images() -> int | None:
    """The images of a rehearsal (``GRADCAM_STUDY_REHEARSAL``), or None when this is no rehearsal."""
    text = os.environ.get(REHEARSAL_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{REHEARSAL_ENV} must be a positive number of images, got {text!r}; unset it for real results.")
    return int(text)


def rehearsal_note(images: int) -> str:
    """What every caption and page title of a rehearsal says.

    >>> rehearsal_note(4)
    'rehearsal: random weights, 4 images — not results'
    """
    return f"rehearsal: random weights, {images} image{'' if images == 1 else 's'} — not results"
