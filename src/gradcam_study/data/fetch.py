"""Download and unpack the study's public data sets into the cache, safely and resumably.

Two data sets can be fetched:

* :func:`fetch_imagenet_sample`: one ImageNet validation-style image per class (1000 images), from the GitHub
  repository ``EliSchwartz/imagenet-sample-images``, the images of the quick profile;
* :func:`fetch_imagenetv2`: ImageNetV2 (Recht et al., 2019), 10,000 images in folders ``0`` to ``999``, the
  images of the paper profile.

Both go through :func:`download`, which streams into a ``.part`` file, resumes it with an HTTP ``Range``
request where the server allows it, and only renames a verified file into place; and :func:`extract`, which
refuses archive members that would land outside the target folder and renames the extracted folder into place
only when extraction is complete. A data set folder counts as present only once its content was checked and a
marker was written, so an interrupted fetch is redone, never used.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import ssl
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import NoReturn
from urllib.parse import urlsplit

from tqdm import tqdm

from ..settings import DATA_ENV
from .images import imagenet_classes

# The sample's repository at a fixed commit (bc69043e, in full), so that every build downloads the same 1000 images.
# The repository describes them as "one random image per image-net class" and does not name the ImageNet split.
IMAGENET_SAMPLE_COMMIT = "bc69043e2862758a1906c6a24a792bb28c6bb2ff"
IMAGENET_SAMPLE_URL = (
    f"https://github.com/EliSchwartz/imagenet-sample-images/archive/{IMAGENET_SAMPLE_COMMIT}.zip"
)
IMAGENET_SAMPLE_IMAGES = 1000

# The authors' loader (modestyachts/ImageNetV2_pytorch, imagenetv2_pytorch/ImageNetV2_dataset.py) and TensorFlow
# Datasets (tensorflow/datasets, tensorflow_datasets/datasets/imagenet_v2/imagenet_v2_dataset_builder.py, release
# note 3.1.0 "New URLs for resources from Hugging Face") both download from this Hugging Face repository; the
# older S3 bucket (imagenetv2public.s3-us-west-2.amazonaws.com) is reported gone by later projects. Sizes and
# SHA-256 come from TFDS's tensorflow_datasets/datasets/imagenet_v2/checksums.tsv for these same URLs. Note that
# the matched-frequency ".tar.gz" is reported to be an uncompressed tar: extract() detects the format by content.
IMAGENETV2_BASE_URL = "https://huggingface.co/datasets/vaishaal/ImageNetV2/resolve/main/"

_CHUNK = 1 << 20
_MARKER = ".complete"


class OfflineError(ConnectionError):
    """The server could not be reached; the message says how to provide the data by hand."""


class DownloadError(RuntimeError):
    """A download or an archive is not what was expected (size, checksum, format, content or member paths)."""


@dataclass(frozen=True)
class ImageNetV2Variant:
    """One ImageNetV2 archive: its file name under :data:`IMAGENETV2_BASE_URL`, what it must hold."""

    filename: str
    size: int | None
    sha256: str | None
    classes: int = 1000
    images: int = 10_000


IMAGENETV2_VARIANTS: dict[str, ImageNetV2Variant] = {
    "matched-frequency": ImageNetV2Variant(
        "imagenetv2-matched-frequency.tar.gz",
        1_264_079_360,
        "f0c37fdf925916b19ea1323cd9a2208cdb6959ba2c32eef2a7fc393835c9ca7c",
    ),
    "threshold-0.7": ImageNetV2Variant(
        "imagenetv2-threshold0.7.tar.gz",
        1_249_906_176,
        "32142bfe998f9cfa4141be691f6a80eeb1e27b24bd532a668eb08c26d98897a2",
    ),
    "top-images": ImageNetV2Variant(
        "imagenetv2-top-images.tar.gz",
        1_245_927_936,
        "85e4ace30f3f0d660152062254b8759dda66267b27f7ec0fd8d5768f1073a04b",
    ),
}

# Python >= 3.11.4 (and the 3.8-3.10 security releases) have extraction filters; the members are checked by this
# module in any case, the filter adds its own checks (and drops unsafe permission bits) where it exists.
_HAS_DATA_FILTER = hasattr(tarfile, "data_filter")

_CORRUPT_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile)


def download(
    url: str,
    destination: Path,
    *,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``destination`` and return it, verified against ``expected_size`` and ``sha256``.

    The bytes go to ``<destination>.part`` first; a ``.part`` left by an interrupted call is resumed with an HTTP
    ``Range`` request when the server supports it (answers 206), and downloaded again from the start otherwise.
    Only a complete file that matches the expected size and checksum is renamed to ``destination``; a mismatch
    deletes the partial file and raises :class:`DownloadError`. An existing ``destination`` that verifies is
    returned without any network access (so a file placed there by hand is used).

    Raises :class:`OfflineError` when the server cannot be reached, and :class:`DownloadError` for HTTP errors,
    mismatches and connections closed early (the ``.part`` is then kept, and the next call resumes it).
    """
    destination = Path(destination)
    if destination.is_file():
        digest = _file_sha256(destination) if sha256 else None
        if _mismatch(destination.stat().st_size, digest, expected_size, sha256) is None:
            return destination
        # A stale or damaged copy: it is replaced only once a verified one is complete.
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    if expected_size is not None and offset > expected_size:
        offset = 0

    response = _open(url, destination, offset, timeout)
    if response is not None and response.status == 206 and _range_start(response) != offset:
        # A range we did not ask for cannot be appended; the whole file can be.
        response.close()
        offset = 0
        response = _open(url, destination, offset, timeout)
    if response is not None and response.status != 206:
        offset = 0

    hasher = hashlib.sha256()
    total: int | None
    if offset:
        _hash_file(part, hasher.update)
    if response is None:
        # HTTP 416: the server has no bytes after those we hold, so the partial file is the whole file.
        received = total = offset
    else:
        with response:
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length is not None else None
            if expected_size is not None and total is not None and total != expected_size:
                part.unlink(missing_ok=True)
                raise DownloadError(
                    f"{url} offers {total} bytes but {expected_size} were expected: the file on the server "
                    "is not the expected one (nothing was kept)."
                )
            received = _stream(
                response, part, offset, total, expected_size, hasher.update, url, destination, progress
            )

    if total is not None and received < total:
        raise _interrupted(url, part, received, total)
    problem = _mismatch(received, hasher.hexdigest(), expected_size, sha256)
    if problem is not None:
        part.unlink(missing_ok=True)
        raise DownloadError(f"The download of {url} is not the expected file ({problem}); it was deleted.")
    os.replace(part, destination)
    return destination


def extract(archive: Path, target: Path) -> Path:
    """Extract a ``.tar``, ``.tar.gz``/``.tgz`` or ``.zip`` archive into the new folder ``target`` and return it.

    The format is recognised from the content, not the name. Members with absolute paths, members that would
    land outside ``target`` (``..``, or through a link extracted before them), links pointing outside ``target``
    and device files are refused with a :class:`DownloadError` naming the member; so is a truncated or corrupt
    archive. Extraction happens in the sibling folder ``<target>.partial``, renamed to ``target`` only when
    complete, so that ``target`` existing means the archive was extracted in full.
    ``target`` must not exist yet (:class:`FileExistsError`).
    """
    archive, target = Path(archive), Path(target)
    if target.exists():
        raise FileExistsError(f"{target} already exists; remove it to extract {archive} there again.")
    staging = target.with_name(target.name + ".partial")
    # Left over by an interrupted extraction: never resumed, as its last file may be incomplete.
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if tarfile.is_tarfile(archive):
            _extract_tar(archive, staging)
        elif zipfile.is_zipfile(archive):
            _extract_zip(archive, staging)
        else:
            raise DownloadError(f"{archive} is not a tar or zip archive (a truncated or corrupt download?).")
    except _CORRUPT_ARCHIVE_ERRORS as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise DownloadError(f"Could not extract {archive} (truncated, corrupt or unsafe): {error}") from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.replace(staging, target)
    return target


def fetch_imagenet_sample(
    cache: Path,
    *,
    url: str = IMAGENET_SAMPLE_URL,
    progress: bool = True,
    expected_images: int = IMAGENET_SAMPLE_IMAGES,
) -> Path:
    """The folder of the 1000-image ImageNet sample (one image per class), downloaded into ``cache`` if needed.

    The archive of the repository at a fixed commit goes to ``cache/downloads`` and is extracted into
    ``cache/datasets/imagenet-sample``; the returned folder is the archive's single top folder. GitHub does not
    guarantee byte-identical archives over time, so the content is verified instead of a checksum: exactly
    ``expected_images`` files ``<wnid>_<name>.JPEG`` with as many distinct WordNet ids. Once verified, later calls
    return the folder at once, without network access.
    """
    archive_name = "imagenet-sample-images-" + PurePosixPath(urlsplit(url).path).name
    return _fetch_dataset(
        Path(cache),
        "imagenet-sample",
        url,
        archive_name,
        size=None,
        sha256=None,
        progress=progress,
        check=lambda folder: _check_imagenet_sample(folder, expected_images),
    )


def fetch_imagenetv2(
    cache: Path,
    *,
    variant: str = "matched-frequency",
    url: str | None = None,
    progress: bool = True,
) -> Path:
    """The ImageNetV2 folder of ``variant``, whose subfolders ``0`` to ``999`` hold the images of each class.

    The archive (from Hugging Face unless ``url`` names a mirror, which must serve the same bytes) goes to
    ``cache/downloads``, its size and SHA-256 are verified, and it is extracted into
    ``cache/datasets/imagenetv2-<variant>``; the layout is then checked (the class folders, 10,000 ``*.jpeg``).
    Once verified, later calls return the folder at once, without network access.
    """
    if variant not in IMAGENETV2_VARIANTS:
        raise ValueError(f"Unknown ImageNetV2 variant {variant!r}; known: {', '.join(IMAGENETV2_VARIANTS)}.")
    spec = IMAGENETV2_VARIANTS[variant]
    return _fetch_dataset(
        Path(cache),
        f"imagenetv2-{variant}",
        url or IMAGENETV2_BASE_URL + spec.filename,
        spec.filename,
        size=spec.size,
        sha256=spec.sha256,
        progress=progress,
        check=lambda folder: _check_imagenetv2(folder, spec),
    )


def _fetch_dataset(
    cache: Path,
    name: str,
    url: str,
    archive_name: str,
    *,
    size: int | None,
    sha256: str | None,
    progress: bool,
    check: Callable[[Path], None],
) -> Path:
    """Download, extract and check one data set; the marker, written last, records the verified folder."""
    dataset = cache / "datasets" / name
    marker = dataset / _MARKER
    if marker.is_file():
        folder = dataset / marker.read_text(encoding="utf-8").strip()
        if folder.is_dir():
            return folder
    # Whatever is here was never verified (an interrupted or failed fetch), so it is redone.
    shutil.rmtree(dataset, ignore_errors=True)
    destination = cache / "downloads" / archive_name
    archive = download(url, destination, sha256=sha256, expected_size=size, progress=progress)
    try:
        extract(archive, dataset)
        folder = _single_folder(dataset, archive)
        check(folder)
    except DownloadError:
        shutil.rmtree(dataset, ignore_errors=True)
        if sha256 is None:
            # Nothing vouches for this archive, so it may be a bad download: the next call fetches it again.
            archive.unlink(missing_ok=True)
        raise
    staged_marker = marker.with_name(marker.name + ".tmp")
    staged_marker.write_text(folder.name + "\n", encoding="utf-8")
    os.replace(staged_marker, marker)
    # The extracted folder is the data set from now on; the archive would only double the disk space it takes.
    archive.unlink()
    return folder


def _open(url: str, destination: Path, offset: int, timeout: float) -> http.client.HTTPResponse | None:
    """The server's response, asking for the bytes from ``offset`` on; ``None`` when none are left (HTTP 416)."""
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:
            return None
        raise DownloadError(f"{url} answered HTTP {error.code} ({error.reason}).") from error
    except urllib.error.URLError as error:
        # Refused, unresolvable, unreachable or timed out: the network; a certificate problem is not.
        if isinstance(error.reason, OSError) and not isinstance(error.reason, ssl.SSLError):
            raise _offline(url, destination, error.reason) from error
        raise DownloadError(f"Could not download {url}: {error.reason}") from error


def _stream(
    response: http.client.HTTPResponse,
    part: Path,
    offset: int,
    total: int | None,
    expected_size: int | None,
    update: Callable[[bytes], object],
    url: str,
    destination: Path,
    progress: bool,
) -> int:
    """Write the body after the first ``offset`` bytes of ``part``; returns the size ``part`` then has."""
    received = offset
    with part.open("ab" if offset else "wb") as sink, tqdm(
        total=total,
        initial=offset,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=destination.name,
        disable=not progress,
    ) as bar:
        try:
            while chunk := response.read(_CHUNK):
                sink.write(chunk)
                update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if expected_size is not None and received > expected_size:
                    # Already wrong: the caller's check reports it without fetching the rest.
                    break
        except (TimeoutError, ConnectionError) as error:
            raise _offline(url, destination, error) from error
        except http.client.IncompleteRead as error:
            # A chunked body cut short has no announced total that the caller could compare with.
            raise _interrupted(url, part, received, total) from error
    return received


def _offline(url: str, destination: Path, reason: BaseException) -> OfflineError:
    return OfflineError(
        f"Could not reach {url} ({reason}). This machine seems to be offline, or the server is unreachable. "
        f"To proceed by hand: download {url} on a machine with internet access and place the file at "
        f"{destination}, then run again; or set {DATA_ENV} to an image folder you already have."
    )


def _interrupted(url: str, part: Path, received: int, total: int | None) -> DownloadError:
    of_total = f" of {total}" if total is not None else ""
    return DownloadError(
        f"The connection to {url} closed after {received}{of_total} bytes. The partial file {part} is kept; "
        "run again to resume the download."
    )


def _range_start(response: http.client.HTTPResponse) -> int | None:
    """The first byte of a 206 answer, from ``Content-Range: bytes <start>-<end>/<size>``."""
    unit, _, spec = (response.headers.get("Content-Range") or "").partition(" ")
    start = spec.partition("-")[0]
    return int(start) if unit == "bytes" and start.isdigit() else None


def _mismatch(size: int, digest: str | None, expected_size: int | None, sha256: str | None) -> str | None:
    """What differs from the expectations, in words, or ``None`` when the file is the expected one."""
    problems = []
    if expected_size is not None and size != expected_size:
        problems.append(f"expected {expected_size} bytes, found {size}")
    if sha256 is not None and digest != sha256.lower():
        problems.append(f"expected SHA-256 {sha256.lower()}, found {digest}")
    return "; ".join(problems) or None


def _hash_file(path: Path, update: Callable[[bytes], object]) -> None:
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            update(chunk)


def _file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    _hash_file(path, hasher.update)
    return hasher.hexdigest()


def _extract_tar(archive: Path, staging: Path) -> None:
    root = os.path.realpath(staging)
    with tarfile.open(archive, "r:*") as tar:
        members = _checked_tar_members(tar, root, archive)
        if _HAS_DATA_FILTER:
            tar.extractall(staging, members=members, filter="data")
        else:
            tar.extractall(staging, members=members)


def _checked_tar_members(tar: tarfile.TarFile, root: str, archive: Path) -> Iterator[tarfile.TarInfo]:
    """The members, each checked just before it is extracted, so that links extracted earlier are resolved."""
    for member in tar:
        if _is_absolute(member.name):
            _refuse(archive, member.name, "has an absolute path")
        _within(root, member.name, member.name, archive)
        if member.issym():
            if _is_absolute(member.linkname):
                _refuse(archive, member.name, f"links to the absolute path {member.linkname!r}")
            _within(root, os.path.join(os.path.dirname(member.name), member.linkname), member.name, archive)
        elif member.islnk():
            _within(root, member.linkname, member.name, archive)
        elif not (member.isfile() or member.isdir()):
            _refuse(archive, member.name, "is a device file or a FIFO")
        yield member


def _extract_zip(archive: Path, staging: Path) -> None:
    root = os.path.realpath(staging)
    with zipfile.ZipFile(archive) as bundle:
        for name in bundle.namelist():
            if _is_absolute(name):
                _refuse(archive, name, "has an absolute path")
            _within(root, name, name, archive)
        bundle.extractall(staging)


def _is_absolute(name: str) -> bool:
    # Windows forms too (a drive letter, a UNC share): an archive made on Windows is no safer here.
    return name.startswith(("/", "\\")) or bool(PureWindowsPath(name).drive)


def _within(root: str, relative: str, member: str, archive: Path) -> None:
    """Refuse ``member`` unless ``root/relative``, with the links already extracted resolved, is inside ``root``."""
    path = os.path.realpath(os.path.join(root, relative))
    if os.path.commonpath([root, path]) != root:
        _refuse(archive, member, f"would reach {relative!r}, outside the target folder")


def _refuse(archive: Path, member: str, why: str) -> NoReturn:
    raise DownloadError(f"Refusing to extract {archive}: the member {member!r} {why}.")


def _single_folder(dataset: Path, archive: Path) -> Path:
    entries = list(dataset.iterdir())
    if len(entries) != 1 or not entries[0].is_dir():
        raise DownloadError(
            f"{archive} should hold a single top folder; it holds {sorted(entry.name for entry in entries)}."
        )
    return entries[0]


def _check_imagenet_sample(folder: Path, expected_images: int) -> None:
    images = [path.name for path in folder.glob("*.JPEG") if path.is_file()]
    known = {c.wnid for c in imagenet_classes()}
    wnids = {wnid for name in images if (wnid := name.partition("_")[0]) in known}
    if len(images) != expected_images or len(wnids) != expected_images:
        raise DownloadError(
            f"{folder} should hold {expected_images} images <wnid>_<name>.JPEG of distinct classes; "
            f"found {len(images)} .JPEG files with {len(wnids)} distinct ImageNet wnids."
        )


def _check_imagenetv2(folder: Path, spec: ImageNetV2Variant) -> None:
    expected = {str(label) for label in range(spec.classes)}
    found = {path.name for path in folder.iterdir() if path.is_dir()}
    images = sum(1 for path in folder.glob("*/*.jpeg") if path.is_file())
    if found != expected or images != spec.images:
        raise DownloadError(
            f"{folder} should hold the class folders 0 to {spec.classes - 1} with {spec.images} *.jpeg in all; "
            f"found {len(found)} folders ({len(found - expected)} unexpected, {len(expected - found)} missing) "
            f"and {images} images."
        )
